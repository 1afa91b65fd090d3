//! Platform models: what each platform's *entities* are, found in the common
//! tree. Entities are what queries select: a Terraform resource, a
//! Kubernetes container, a CloudFormation resource, a Dockerfile stage.
//!
//! An entity borrows its node from the parsed documents; nothing is copied.
//! Each has an identity a user recognises (`aws_s3_bucket.logs`,
//! `container web in Deployment/prod/web`), which also goes into finding
//! fingerprints, so it never contains a line number.
//!
//! Each platform's folder is the only place that knows that platform: its
//! [`Model`] says what its entities are (and the kinds derived from them),
//! how a value resolves as the platform would read it, how entities refer
//! to each other, how its comments are written. The query engine, the
//! suppressions and the reports ask the model; none of them names a
//! platform. A new platform is a parser and a model.

pub mod cloudformation;
pub mod dockerfile;
pub mod kubernetes;
pub mod policy;
pub mod secrets;
pub mod terraform;

use serde::Serialize;

use crate::tree::{Node, SourceText, Span, Value};

/// The platforms rampart reads.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// `.tf` and `.tf.json`.
    Terraform,
    /// Kubernetes manifests (YAML or JSON).
    Kubernetes,
    /// CloudFormation and SAM templates (YAML or JSON).
    CloudFormation,
    /// Dockerfiles and Containerfiles.
    Dockerfile,
}

impl Platform {
    /// Every platform, in report order.
    pub const ALL: [Platform; 4] = [
        Platform::Terraform,
        Platform::Kubernetes,
        Platform::CloudFormation,
        Platform::Dockerfile,
    ];

    /// The platform a user names, by its name or the short name peers use
    /// (`tf`, `k8s`, `cfn`, `docker`), case-insensitively.
    pub fn parse(text: &str) -> Option<Platform> {
        let text = text.trim().to_ascii_lowercase();
        let short = match text.as_str() {
            "tf" => Some(Platform::Terraform),
            "k8s" => Some(Platform::Kubernetes),
            "cfn" => Some(Platform::CloudFormation),
            "docker" => Some(Platform::Dockerfile),
            _ => None,
        };
        short.or_else(|| Platform::ALL.into_iter().find(|p| p.name() == text))
    }

    /// The lowercase name used in output and query files.
    pub fn name(self) -> &'static str {
        match self {
            Platform::Terraform => "terraform",
            Platform::Kubernetes => "kubernetes",
            Platform::CloudFormation => "cloudformation",
            Platform::Dockerfile => "dockerfile",
        }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A file that was read and recognised.
#[derive(Clone, Debug)]
pub struct LoadedFile {
    /// The path as reports show it.
    pub display: String,
    /// The platform its content belongs to.
    pub platform: Platform,
    /// Its text (kept for source snippets in reports).
    pub source: SourceText,
    /// The documents that parsed; those that are not of the platform (a
    /// YAML stream's ConfigMap-less junk) are left out.
    pub documents: Vec<Node>,
    /// A Kubernetes stream too large to hold parsed at once: its documents
    /// are not parsed at load (`documents` is empty) but read a batch at a
    /// time by whoever runs queries over it (`load::read_streamed`), or all
    /// at once (`load::read_streamed_whole`).
    pub streamed: bool,
    /// Documents rewritten from another file of the unit into this
    /// platform's shape (Terraform's `kubernetes_*` resources as Kubernetes
    /// objects): same display and text, findings at that file's lines, not
    /// counted as a file of its own.
    pub derived: bool,
    /// For a Terraform file read as part of a module call: the call chain
    /// (`module.network.module.sg`) its entities are named under.
    pub module: Option<String>,
    /// For a module instance: where the call that made it is written
    /// (file, line), shown beside its findings.
    pub module_call: Option<(String, u32)>,
}

/// Something a query can select.
#[derive(Clone, Debug)]
pub struct Entity<'a> {
    /// What it is, as dot-separated segments from general to specific:
    /// `resource.aws_s3_bucket`, `object.Deployment`, `container`,
    /// `stage.final`, `instruction.RUN`.
    pub kind: String,
    /// How a user names it: `aws_s3_bucket.logs`, `Deployment/prod/web`.
    pub identity: String,
    /// How other entities refer to it: a Terraform address
    /// (`aws_s3_bucket.logs`), a CloudFormation logical id (`LogsBucket`),
    /// a Kubernetes object's or container's name, a stage's name.
    pub name: String,
    /// Index of the document in its file the entity was found in.
    pub document: usize,
    /// The entity's content (a block body, a container mapping, a stage).
    pub node: &'a Node,
    /// Where a finding about something *missing* points: the block header,
    /// the resource name, the container's `name`.
    pub header: Span,
    /// Index (into the same entity list) of the enclosing entity: a
    /// container's pod spec, a pod spec's object, an instruction's stage.
    pub parent: Option<usize>,
}

impl Platform {
    /// The model that knows this platform.
    pub fn model(self) -> &'static dyn Model {
        match self {
            Platform::Terraform => &terraform::Terraform,
            Platform::Kubernetes => &kubernetes::Kubernetes,
            Platform::CloudFormation => &cloudformation::CloudFormation,
            Platform::Dockerfile => &dockerfile::Dockerfile,
        }
    }
}

/// A three-valued answer: a value rampart cannot know is neither yes nor
/// no.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Truth {
    /// Yes.
    Yes,
    /// No.
    No,
    /// Depends on a value rampart cannot know.
    Unknown,
}

/// How a value looks once the platform has read it.
#[derive(Clone, Copy, Debug)]
pub enum View<'a> {
    /// This node (a CloudFormation `Ref` to a parameter becomes the
    /// parameter's default).
    Known(&'a Node),
    /// A value rampart cannot know (an unevaluated expression, an
    /// intrinsic function of a value only known at deploy time).
    Unknown,
}

/// The names other entities may use to refer to an entity.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Names {
    /// Its address (`aws_s3_bucket.logs`, a CloudFormation logical id) and
    /// the literal physical names it declares (a bucket name).
    pub names: Vec<String>,
    /// False when a physical name is not known (written as an expression):
    /// a literal elsewhere might then be it.
    pub complete: bool,
}

/// What a value, as written, may refer to: the names a relation index
/// files it under.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct References {
    /// Every name it designates (a Terraform reference
    /// `aws_s3_bucket.b[0].id` designates `aws_s3_bucket`, `aws_s3_bucket.b`,
    /// `aws_s3_bucket.b[0]` and itself).
    pub names: Vec<String>,
    /// It also refers to something rampart cannot identify (a variable, a
    /// module output, an intrinsic function): it might be any entity.
    pub opaque: bool,
    /// It is a name written literally: it might be an entity whose own name
    /// is not known.
    pub literal: bool,
}

/// What an entity selects among the entities of its scope, anywhere in a
/// scan (a Kubernetes NetworkPolicy's `podSelector`, in its namespace), for
/// `selected_by`. Owned, so that a scan-wide index keeps it after the unit
/// it was read in is dropped; its test is the platform's, so the engine
/// holds selectors without knowing how they match.
pub struct Selector {
    /// The scope it selects in (a namespace); `None` when not known (an
    /// expression), so it might be any.
    pub scope: Option<String>,
    /// Whether it selects an entity.
    pub test: Box<dyn SelectorTest>,
}

impl std::fmt::Debug for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Selector")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// How a [`Selector`] decides, as its platform defines it (label selector
/// semantics for Kubernetes).
pub trait SelectorTest: Send + Sync {
    /// Whether it selects `target` (its scope already matched).
    fn selects(&self, target: &Selectable) -> Truth;
}

/// An entity as selectors see it: its scope and labels.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selectable {
    /// Its scope (a namespace); `None` when not known.
    pub scope: Option<String>,
    /// Its labels whose keys and values are known.
    pub labels: std::collections::BTreeMap<String, String>,
    /// Some label is not known (an expression): a selector that depends on
    /// labels cannot tell.
    pub labels_unknown: bool,
}

/// How a platform writes comments, for inline suppressions and fixture
/// markers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommentSyntax {
    /// `#` anywhere outside quotes (YAML).
    Hash,
    /// `#` or `//` anywhere outside quotes (HCL).
    HashOrSlashes,
    /// `#` only at the start of a line (Dockerfile: a `#` later is part of
    /// the instruction).
    HashAtLineStart,
}

/// What a platform knows, behind one interface.
pub trait Model: Sync {
    /// The platform this model describes.
    fn platform(&self) -> Platform;

    /// Appends the entities of one parsed document to `out`, in source
    /// order, derived kinds included.
    fn entities<'a>(&self, document_index: usize, document: &'a Node, out: &mut Vec<Entity<'a>>);

    /// Whether a parsed document belongs to this platform (a YAML stream
    /// may hold documents of other kinds).
    fn accepts(&self, _document: &Node) -> bool {
        true
    }

    /// `node` as the platform reads it, in `document`. By default an
    /// unevaluated expression is unknown and everything else is itself.
    fn view<'a>(&self, node: &'a Node, _document: &'a Node) -> View<'a> {
        match node.value {
            Value::Expr(_) => View::Unknown,
            _ => View::Known(node),
        }
    }

    /// Whether `key`, absent from `object`, may still exist once the
    /// platform generates it (a Terraform `dynamic` block not expanded):
    /// then its absence is unknown, not a fact.
    fn may_generate(&self, _object: &Node, _key: &str) -> bool {
        false
    }

    /// The names other entities may use to refer to `entity`.
    fn names(&self, entity: &Entity) -> Names {
        Names {
            names: vec![entity.name.clone()],
            complete: true,
        }
    }

    /// Whether a value, as written (not viewed), refers to an entity known
    /// by `names`: one of the names it designates is one of them; unknown
    /// when it also refers to what cannot be identified, or is a literal
    /// and the entity's own name is not known.
    fn refers(&self, node: &Node, names: &Names) -> Truth {
        let references = self.references(node);
        if references.names.iter().any(|n| names.names.contains(n)) {
            Truth::Yes
        } else if references.opaque || (references.literal && !names.complete) {
            Truth::Unknown
        } else {
            Truth::No
        }
    }

    /// What a value, as written, may refer to, for indexing relations: the
    /// index finds candidates by these names, and [`Model::refers`]
    /// confirms each.
    fn references(&self, node: &Node) -> References {
        literal_references(node)
    }

    /// How comments are written.
    fn comment_syntax(&self) -> CommentSyntax {
        CommentSyntax::Hash
    }

    /// The ids of queries the entity itself says to ignore, as written
    /// (comma-separated), and the line where it says so: a Kubernetes
    /// object's `rampart.dev/ignore` annotation. Asked of an entity and of
    /// each entity enclosing it.
    fn declared_ignores<'a>(&self, _entity: &Entity<'a>) -> Option<(&'a str, u32)> {
        None
    }

    /// The selector an entity of a selecting kind declares over the
    /// entities of its scope (`selected_by`), or `None` when its kind
    /// selects nothing this model knows of.
    fn selector(&self, _entity: &Entity) -> Option<Selector> {
        None
    }

    /// The scope and labels of `entities[index]` as selectors see them, or
    /// `None` when selectors cannot select it.
    fn selectable(&self, _entities: &[Entity], _index: usize) -> Option<Selectable> {
        None
    }

    /// Whether `text`, a file's source read as any platform, may declare an
    /// entity of this platform's `kind`: a cheap test that lets a scan skip
    /// parsing files for a scan-wide index. Never wrongly false.
    fn may_declare(&self, _text: &str, _kind: &str) -> bool {
        true
    }

    /// The prefix of the ids of queries for this platform alone (`tf-`).
    fn id_prefix(&self) -> &'static str;

    /// The language of a source snippet (SARIF `snippet` hints).
    fn snippet_language(&self) -> &'static str;
}

/// Whether a selector kind (`resource`, `resource.<type>`) covers an
/// entity kind: equal, or a prefix ending at a `.` (`container` covers the
/// derived `container.kube-apiserver`).
pub fn kind_covers(selector: &str, kind: &str) -> bool {
    kind == selector
        || (kind.len() > selector.len()
            && kind.starts_with(selector)
            && kind.as_bytes()[selector.len()] == b'.')
}

/// What a plain value designates: a string names what it says, literally.
pub fn literal_references(node: &Node) -> References {
    match &node.value {
        Value::String(s) => References {
            names: vec![s.clone()],
            opaque: false,
            literal: true,
        },
        _ => References::default(),
    }
}

/// The entities of one parsed file, in source order.
pub fn entities<'a>(platform: Platform, documents: &'a [Node]) -> Vec<Entity<'a>> {
    let model = platform.model();
    let mut out = Vec::new();
    for (i, document) in documents.iter().enumerate() {
        model.entities(i, document, &mut out);
    }
    out
}

/// The span of a key and its value together (`kind: Deployment`).
fn entry_span(node: &Node, key: &str) -> Option<Span> {
    node.entry(key).map(|e| e.key_span.to(e.value.span))
}
