//! Platform models: what each platform's *entities* are, found in the common
//! tree. Entities are what queries select: a Terraform resource, a
//! Kubernetes container, a CloudFormation resource, a Dockerfile stage.
//!
//! An entity borrows its node from the parsed documents; nothing is copied.
//! Each has an identity a user recognises (`aws_s3_bucket.logs`,
//! `container web in Deployment/prod/web`), which also goes into finding
//! fingerprints, so it never contains a line number.

pub mod cloudformation;
pub mod dockerfile;
pub mod kubernetes;
pub mod terraform;

use serde::Serialize;

use crate::tree::{Node, Span};

/// The platforms rampart reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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

/// The entities of one parsed file, in source order.
pub fn entities<'a>(platform: Platform, documents: &'a [Node]) -> Vec<Entity<'a>> {
    let mut out = Vec::new();
    for (i, document) in documents.iter().enumerate() {
        match platform {
            Platform::Terraform => terraform::entities(i, document, &mut out),
            Platform::Kubernetes => kubernetes::entities(i, document, &mut out),
            Platform::CloudFormation => cloudformation::entities(i, document, &mut out),
            Platform::Dockerfile => dockerfile::entities(i, document, &mut out),
        }
    }
    out
}

/// The span of a key and its value together (`kind: Deployment`).
fn entry_span(node: &Node, key: &str) -> Option<Span> {
    node.entry(key).map(|e| e.key_span.to(e.value.span))
}
