//! Suppressions: saying precisely, visibly and (optionally) temporarily that
//! a finding is accepted. Three kinds, in order of scope:
//!
//! 1. inline, in the scanned file: `# rampart:ignore <id>[,<id>] [exp:DATE]
//!    [reason]` on the line above, or at the end of the line of, an entity or
//!    an attribute (it covers what is inside); `# rampart:ignore-file <id>`
//!    before the first line of code; the Kubernetes annotation
//!    `rampart.dev/ignore: "<id>,<id>"`; and the peers' forms, matched
//!    through the query's `aliases`: `#checkov:skip=CKV_AWS_20:reason`,
//!    `#tfsec:ignore:<id>`, `#trivy:ignore:<id>`, `# kics-scan ignore-line`,
//!    `# kics-scan ignore-block`, `# hadolint ignore=DL3008`;
//! 2. the security team's exceptions file ([`Exceptions`]);
//! 3. a baseline of fingerprints ([`Baseline`]).
//!
//! A suppressed finding is never dropped: it is kept with its
//! [`Suppression`](crate::finding::Suppression), counted in the summary and emitted in JSON and SARIF.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::comments::comments;
use crate::date::Date;
use crate::finding::{Suppression, SuppressionKind};
use crate::platform::Platform;
use crate::query::Query;

/// The syntax a directive was written in, which decides what it covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    /// `rampart:ignore`, `tfsec:ignore`, `trivy:ignore`, `hadolint ignore=`,
    /// `kics-scan ignore-block`: the entity or attribute it names.
    Anchor,
    /// `kics-scan ignore-line`: only a finding on the line it names.
    Line,
    /// `checkov:skip`: anywhere inside the entity it is written in.
    Within,
    /// `rampart:ignore-file`: the whole file.
    File,
}

/// One suppression directive of a file.
#[derive(Clone, Debug)]
pub struct Directive {
    form: Form,
    /// Ids as written, lowercase; empty means every query.
    ids: Vec<String>,
    /// Whether the ids are rampart's own or another tool's.
    peer: bool,
    reason: Option<String>,
    expires: Option<Date>,
    /// 1-based line the comment is on.
    pub line: u32,
    /// 1-based line it applies to.
    target: u32,
    /// The directive as written, for the unused-suppression report.
    pub text: String,
}

impl Directive {
    /// Whether this directive names `query` (by id, or by an alias for a
    /// peer's form), case-insensitively.
    fn names(&self, query: &Query) -> bool {
        if self.ids.is_empty() {
            return true;
        }
        self.ids.iter().any(|id| {
            query.answers_to(id)
                || (self.peer
                    && query.aliases.values().flatten().any(|alias| {
                        let alias = alias.to_ascii_lowercase();
                        alias == *id || alias.strip_prefix("avd-") == Some(id.as_str())
                    }))
        })
    }

    fn suppression(&self, file: &str) -> Suppression {
        Suppression {
            kind: SuppressionKind::Inline,
            reason: self.reason.clone(),
            origin: format!("{file}:{}", self.line),
            expires: self.expires.map(|d| d.to_string()),
            approved_by: None,
        }
    }
}

/// What a finding offers inline suppressions to match against.
pub struct Target<'a> {
    /// The query that matched.
    pub query: &'a Query,
    /// Lines where the finding's entity, its enclosing entities and the
    /// attributes on the way to the offending value start.
    pub anchors: &'a [u32],
    /// The line of the offending value.
    pub line: u32,
    /// The lines of the entity the finding is in.
    pub entity_lines: (u32, u32),
}

/// The inline suppression directives of one file.
#[derive(Clone, Debug, Default)]
pub struct InlineSuppressions {
    directives: Vec<Directive>,
}

/// The outcome of matching a finding against directives.
pub enum Verdict {
    /// Suppressed by this directive (index into [`InlineSuppressions`]).
    Suppressed(usize, Suppression),
    /// A directive matched but expired on this date.
    Expired(usize, Date),
    /// Nothing matched.
    None,
}

impl InlineSuppressions {
    /// Reads the directives in `text`.
    pub fn parse(text: &str, platform: Platform) -> InlineSuppressions {
        let mut directives = Vec::new();
        // Most files have none: skip the line scan unless a marker occurs.
        const MARKERS: [&str; 6] = [
            "rampart:ignore",
            "checkov:skip",
            "tfsec:ignore",
            "trivy:ignore",
            "kics-scan",
            "hadolint",
        ];
        if !MARKERS.iter().any(|m| text.contains(m)) {
            return InlineSuppressions { directives };
        }
        let first_code = text
            .lines()
            .position(|l| {
                let t = l.trim();
                !t.is_empty() && !t.starts_with('#') && !t.starts_with("//") && t != "---"
            })
            .map_or(u32::MAX, |i| i as u32 + 1);
        for marker in MARKERS {
            for c in comments(text, platform.model().comment_syntax(), marker) {
                if let Some(d) = parse_directive(c.text, c.line, c.target, first_code) {
                    directives.push(d);
                }
            }
        }
        directives.sort_by_key(|d| (d.line, d.target));
        directives.dedup_by_key(|d| (d.line, d.target, d.text.clone()));
        InlineSuppressions { directives }
    }

    /// The directives, in line order.
    pub fn directives(&self) -> &[Directive] {
        &self.directives
    }

    /// Whether a directive suppresses the finding described by `target`.
    pub fn check(&self, file: &str, target: &Target, today: Date) -> Verdict {
        let mut expired = None;
        for (i, d) in self.directives.iter().enumerate() {
            let applies = match d.form {
                Form::File => true,
                Form::Anchor => target.anchors.contains(&d.target),
                Form::Line => d.target == target.line,
                Form::Within => (target.entity_lines.0..=target.entity_lines.1).contains(&d.line),
            };
            if !applies || !d.names(target.query) {
                continue;
            }
            match d.expires {
                Some(date) if date < today => expired = Some((i, date)),
                _ => return Verdict::Suppressed(i, d.suppression(file)),
            }
        }
        match expired {
            Some((i, date)) => Verdict::Expired(i, date),
            None => Verdict::None,
        }
    }
}

/// How inline suppressions are treated.
#[derive(Clone, Copy, Debug)]
pub struct InlineOptions {
    /// Honour inline suppressions (`--no-inline-suppressions` turns them
    /// off, for audits).
    pub enabled: bool,
    /// Report inline suppressions that matched no finding.
    pub report_unused: bool,
    /// The date expiries are compared with.
    pub today: Date,
}

impl Default for InlineOptions {
    fn default() -> Self {
        InlineOptions {
            enabled: true,
            report_unused: false,
            today: Date::today(),
        }
    }
}

/// Applies the inline suppressions of one file (`text`, reported as
/// `file`) to its findings: what an entity declares ignored (a Kubernetes
/// annotation) first, then the comment directives. Returns notices: an
/// expired suppression that matched, and (when asked for) a directive that
/// matched nothing.
pub fn apply_inline(
    findings: &mut [&mut crate::finding::Finding],
    file: &str,
    text: &str,
    platform: Platform,
    registry: &crate::query::registry::Registry,
    options: InlineOptions,
) -> Vec<crate::diagnostic::Diagnostic> {
    use crate::diagnostic::Diagnostic;
    let mut notices = Vec::new();
    if !options.enabled {
        return notices;
    }
    let inline = InlineSuppressions::parse(text, platform);
    let mut used = vec![false; inline.directives().len()];
    for f in findings.iter_mut() {
        let Some(query) = registry.get(&f.query_id) else {
            continue;
        };
        if let Some((ids, line)) = &f.placement.declared_ignores {
            if ids.split(',').map(str::trim).any(|id| query.answers_to(id)) {
                f.suppressed = Some(Box::new(Suppression {
                    kind: SuppressionKind::Inline,
                    reason: None,
                    origin: format!("{file}:{line}"),
                    expires: None,
                    approved_by: None,
                }));
            }
            continue;
        }
        if inline.directives().is_empty() {
            continue;
        }
        let target = Target {
            query,
            anchors: &f.placement.anchor_lines,
            line: f.span.start_line,
            entity_lines: f.placement.entity_lines,
        };
        match inline.check(file, &target, options.today) {
            Verdict::Suppressed(i, suppression) => {
                used[i] = true;
                f.suppressed = Some(Box::new(suppression));
            }
            Verdict::Expired(i, date) => {
                used[i] = true;
                let d = &inline.directives()[i];
                notices.push(Diagnostic::notice(
                    file,
                    d.line,
                    1,
                    format!(
                        "suppression of {} expired on {date}; the finding at line {} counts again",
                        query.id, f.span.start_line
                    ),
                ));
            }
            Verdict::None => {}
        }
    }
    if options.report_unused {
        for (d, used) in inline.directives().iter().zip(&used) {
            if !used {
                notices.push(Diagnostic::notice(
                    file,
                    d.line,
                    1,
                    format!("unused suppression: \"{}\" matches no finding", d.text),
                ));
            }
        }
    }
    notices
}

/// Splits `exp:DATE` out of words, returning (date, the rest joined).
fn expiry_and_reason(words: &[&str]) -> (Option<Date>, Option<String>) {
    let mut expires = None;
    let mut rest = Vec::new();
    for w in words {
        match w.strip_prefix("exp:").and_then(Date::parse) {
            Some(d) => expires = Some(d),
            None => rest.push(*w),
        }
    }
    let reason = rest.join(" ");
    (expires, (!reason.is_empty()).then_some(reason))
}

fn ids_of(list: &str) -> Vec<String> {
    list.split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Parses one comment's text into a directive, if it is one.
fn parse_directive(text: &str, line: u32, target: u32, first_code: u32) -> Option<Directive> {
    let make = |form, ids, peer, reason, expires| Directive {
        form,
        ids,
        peer,
        reason,
        expires,
        line,
        target,
        text: text.to_string(),
    };
    if let Some(at) = text.find("rampart:ignore") {
        let rest = &text[at + "rampart:ignore".len()..];
        let (form, rest) = match rest.strip_prefix("-file") {
            Some(r) => (Form::File, r),
            None => (Form::Anchor, rest),
        };
        // A file-wide directive counts only before the first line of code.
        if form == Form::File && line > first_code {
            return None;
        }
        let words: Vec<&str> = rest.split_whitespace().collect();
        let (ids, words) = words.split_first()?;
        let (expires, reason) = expiry_and_reason(words);
        return Some(make(form, ids_of(ids), false, reason, expires));
    }
    if let Some(at) = text.find("checkov:skip=") {
        let rest = &text[at + "checkov:skip=".len()..];
        let (id, reason) = rest.split_once(':').unwrap_or((rest, ""));
        let reason = reason.trim();
        return Some(make(
            Form::Within,
            ids_of(id.split_whitespace().next().unwrap_or("")),
            true,
            (!reason.is_empty()).then(|| reason.to_string()),
            None,
        ));
    }
    for tool in ["tfsec:ignore:", "trivy:ignore:"] {
        if let Some(at) = text.find(tool) {
            let rest = text[at + tool.len()..]
                .split_whitespace()
                .next()
                .unwrap_or("");
            let mut parts = rest.split(':');
            let id = parts.next().unwrap_or("");
            let expires = match (parts.next(), parts.next()) {
                (Some("exp"), Some(date)) => Date::parse(date),
                _ => None,
            };
            return Some(make(Form::Anchor, ids_of(id), true, None, expires));
        }
    }
    if let Some(at) = text.find("kics-scan") {
        let rest = text[at + "kics-scan".len()..].trim();
        let form = if rest.starts_with("ignore-line") {
            Form::Line
        } else if rest.starts_with("ignore-block") {
            Form::Anchor
        } else {
            return None;
        };
        return Some(make(form, Vec::new(), true, None, None));
    }
    if let Some(at) = text.find("hadolint ignore=") {
        let rest = text[at + "hadolint ignore=".len()..]
            .split_whitespace()
            .next()
            .unwrap_or("");
        return Some(make(Form::Anchor, ids_of(rest), true, None, None));
    }
    None
}

/// The security team's exceptions file: accepted findings, each with a
/// reason, an approver and an expiry, kept apart from application code.
///
/// ```yaml
/// exceptions:
///   - query: tf-aws-s3-public-acl
///     paths: ["web/static/**"]
///     entity: aws_s3_bucket.assets     # optional
///     reason: Public website assets, reviewed by security.
///     approved_by: security@example.com
///     expires: 2027-03-31
///   - query: k8s-host-network               # Kubernetes objects, matched by
///     namespaces: ["monitoring"]            # namespace, kind and name (globs)
///     kinds: [DaemonSet]                    # both by `scan` and at admission
///     names: ["node-exporter*"]
///     reason: Node metrics need the host network.
///     expires: 2027-03-31
/// ```
///
/// At admission there is no file: an entry that names `paths` and none of
/// `namespaces`, `kinds`, `names` is about files and does not apply there.
///
/// The same file may set query parameters, as `.rampart.yaml` does, under
/// `parameters:`; its values win over the repository's (policy is the
/// security team's). They are applied when the library is compiled
/// ([`crate::query::parameter::layer`]), so an unknown query id or
/// parameter name is an error naming this file and line.
#[derive(Clone, Debug, Default)]
pub struct Exceptions {
    entries: Vec<Exception>,
    parameters: crate::query::parameter::Overrides,
}

/// An exception as reports list it (the JSON report's `exceptions`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExceptionRecord {
    /// Where it is written (`exceptions.yaml:4`).
    pub origin: String,
    /// The query id it excepts.
    pub query: String,
    /// The path globs it covers (empty: every path).
    pub paths: Vec<String>,
    /// The entity it is limited to, if any.
    pub entity: Option<String>,
    /// Why it was granted.
    pub reason: String,
    /// Who approved it.
    pub approved_by: Option<String>,
    /// The last day it applies (`YYYY-MM-DD`).
    pub expires: String,
}

impl Exceptions {
    /// The query parameters it sets (`parameters:`), by query id.
    pub fn parameters(&self) -> &crate::query::parameter::Overrides {
        &self.parameters
    }

    /// Every entry, in file order, as reports list them.
    pub fn records(&self) -> Vec<ExceptionRecord> {
        self.entries
            .iter()
            .map(|e| ExceptionRecord {
                origin: e.origin.clone(),
                query: e.query.clone(),
                paths: e.path_texts.clone(),
                entity: e.entity.clone(),
                reason: e.reason.clone(),
                approved_by: e.approved_by.clone(),
                expires: e.expires.to_string(),
            })
            .collect()
    }
}

/// One exception.
#[derive(Clone, Debug)]
pub struct Exception {
    query: String,
    paths: globset::GlobSet,
    path_texts: Vec<String>,
    entity: Option<String>,
    object: Option<ObjectMatch>,
    reason: String,
    approved_by: Option<String>,
    expires: Date,
    origin: String,
}

/// The Kubernetes objects an exception names: each list, when given,
/// must match.
#[derive(Clone, Debug)]
struct ObjectMatch {
    namespaces: Option<globset::GlobSet>,
    kinds: Vec<String>,
    names: Option<globset::GlobSet>,
}

impl ObjectMatch {
    fn matches(&self, object: &ObjectRef) -> bool {
        self.namespaces
            .as_ref()
            .is_none_or(|g| g.is_match(object.namespace))
            && (self.kinds.is_empty() || self.kinds.iter().any(|k| k == object.kind))
            && self.names.as_ref().is_none_or(|g| g.is_match(object.name))
    }
}

/// A Kubernetes object as exceptions match it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectRef<'a> {
    /// `Deployment`.
    pub kind: &'a str,
    /// Empty when none is written.
    pub namespace: &'a str,
    /// `metadata.name`.
    pub name: &'a str,
}

impl<'a> ObjectRef<'a> {
    /// The object a Kubernetes finding's entity belongs to: its identity is
    /// `Kind/namespace/name` or `Kind/name`, and a pod spec's or
    /// container's ends with `in <that>`.
    pub fn from_identity(entity: &'a str) -> Option<ObjectRef<'a>> {
        let object = entity.rsplit(" in ").next()?;
        let mut parts = object.splitn(3, '/');
        let kind = parts.next()?;
        let second = parts.next()?;
        Some(match parts.next() {
            Some(name) => ObjectRef {
                kind,
                namespace: second,
                name,
            },
            None => ObjectRef {
                kind,
                namespace: "",
                name: second,
            },
        })
    }
}

/// An exceptions file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct ExceptionsError {
    /// The file.
    pub file: String,
    /// 1-based line (0 for the whole file).
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// What is wrong.
    pub message: String,
}

impl Exceptions {
    /// Reads an exceptions file. An entry without `reason` or `expires`, an
    /// unknown key, or a bad glob is an error naming the line.
    pub fn load(path: &Path) -> Result<Exceptions, ExceptionsError> {
        let file = crate::discover::display_path(path);
        let text = crate::source::read_settings_text(path).map_err(|e| ExceptionsError {
            file: file.clone(),
            line: 0,
            column: 0,
            message: format!("cannot read exceptions file: {e}"),
        })?;
        Exceptions::parse(&file, &text)
    }

    /// Parses exceptions text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Exceptions, ExceptionsError> {
        use crate::tree::{LineIndex, Node};
        let err = |node: &Node, message: String| ExceptionsError {
            file: file.to_string(),
            line: node.span.start_line,
            column: node.span.start_col,
            message,
        };
        let index = LineIndex::new(text);
        let parsed = crate::parse::yaml::parse(text, &index);
        if let Some(e) = parsed.errors.first() {
            return Err(ExceptionsError {
                file: file.to_string(),
                line: e.line,
                column: e.column,
                message: format!("invalid YAML: {}", e.message),
            });
        }
        let Some(root) = parsed.documents.first() else {
            return Ok(Exceptions::default());
        };
        let parameters = match root.get("parameters") {
            Some(node) => crate::query::parameter::read_overrides(
                file,
                crate::query::parameter::Owner::Exceptions,
                node,
            )
            .map_err(|(node, message)| err(node, message))?,
            None => crate::query::parameter::Overrides::new(),
        };
        // A file may set parameters alone.
        let empty = crate::tree::Node::new(crate::tree::Value::Array(Vec::new()), root.span);
        let list = match root.get("exceptions") {
            Some(l) => l,
            None if root.get("parameters").is_some() => &empty,
            None => {
                return Err(err(
                    root,
                    "expected a top-level \"exceptions:\" list (or \"parameters:\")".into(),
                ));
            }
        };
        let mut entries = Vec::new();
        for item in list.items() {
            let Some(obj) = item.as_object() else {
                return Err(err(
                    item,
                    "an exception is a mapping of query, paths, reason, expires".into(),
                ));
            };
            for e in &obj.entries {
                if !matches!(
                    e.key.as_str(),
                    "query"
                        | "paths"
                        | "entity"
                        | "namespaces"
                        | "kinds"
                        | "names"
                        | "reason"
                        | "approved_by"
                        | "expires"
                ) {
                    return Err(ExceptionsError {
                        file: file.to_string(),
                        line: e.key_span.start_line,
                        column: e.key_span.start_col,
                        message: format!(
                            "unknown key \"{}\": expected query, paths, entity, namespaces, kinds, names, reason, approved_by, expires",
                            e.key
                        ),
                    });
                }
            }
            let text_of = |key: &str| item.get(key).and_then(Node::as_str).map(str::to_string);
            let query =
                text_of("query").ok_or_else(|| err(item, "exception without \"query\"".into()))?;
            let reason = text_of("reason")
                .filter(|r| !r.trim().is_empty())
                .ok_or_else(|| err(item, format!("exception for {query} without \"reason\"")))?;
            let expires_text = text_of("expires")
                .ok_or_else(|| err(item, format!("exception for {query} without \"expires\"")))?;
            let expires = Date::parse(&expires_text).ok_or_else(|| {
                err(
                    item.get("expires").unwrap_or(item),
                    format!("\"expires\": \"{expires_text}\" is not a date (YYYY-MM-DD)"),
                )
            })?;
            let mut builder = globset::GlobSetBuilder::new();
            let mut path_texts = Vec::new();
            for p in item.get("paths").map(Node::items).unwrap_or_default() {
                let Some(glob) = p.as_str() else {
                    return Err(err(p, "\"paths\": expected a list of globs".into()));
                };
                builder.add(globset::Glob::new(glob).map_err(|e| {
                    err(
                        p,
                        format!("\"paths\": invalid glob \"{glob}\": {}", e.kind()),
                    )
                })?);
                path_texts.push(glob.to_string());
            }
            if path_texts.is_empty() {
                builder.add(globset::Glob::new("**").map_err(|e| err(item, e.to_string()))?);
            }
            let list = |key: &str| -> Result<Option<Vec<String>>, ExceptionsError> {
                let Some(node) = item.get(key) else {
                    return Ok(None);
                };
                node.items()
                    .iter()
                    .map(|n| {
                        n.as_str()
                            .map(str::to_string)
                            .ok_or_else(|| err(n, format!("\"{key}\": expected a list of names")))
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(Some)
            };
            let globs = |key: &str| -> Result<Option<globset::GlobSet>, ExceptionsError> {
                let Some(texts) = list(key)? else {
                    return Ok(None);
                };
                let mut set = globset::GlobSetBuilder::new();
                for text in &texts {
                    set.add(globset::Glob::new(text).map_err(|e| {
                        err(
                            item,
                            format!("\"{key}\": invalid glob \"{text}\": {}", e.kind()),
                        )
                    })?);
                }
                set.build().map(Some).map_err(|e| err(item, e.to_string()))
            };
            let namespaces = globs("namespaces")?;
            let kinds = list("kinds")?;
            let names = globs("names")?;
            let object =
                (namespaces.is_some() || kinds.is_some() || names.is_some()).then(|| ObjectMatch {
                    namespaces,
                    kinds: kinds.unwrap_or_default(),
                    names,
                });
            entries.push(Exception {
                query: query.to_ascii_lowercase(),
                paths: builder.build().map_err(|e| err(item, e.to_string()))?,
                path_texts,
                entity: text_of("entity"),
                object,
                reason,
                approved_by: text_of("approved_by"),
                expires,
                origin: format!("{file}:{}", item.span.start_line),
            });
        }
        Ok(Exceptions {
            entries,
            parameters,
        })
    }

    /// The exception covering a finding, or the expired one that would have.
    pub fn find(
        &self,
        query: &Query,
        file: &str,
        entity: &str,
        today: Date,
    ) -> Option<(&Exception, bool)> {
        let file = file.trim_start_matches("./");
        let object = ObjectRef::from_identity(entity);
        self.first(query, entity, today, |e| {
            e.paths.is_match(file)
                && e.object
                    .as_ref()
                    .is_none_or(|m| object.is_some_and(|o| m.matches(&o)))
        })
    }

    /// The exception covering a finding on a Kubernetes object at admission
    /// (no file: entries about paths only do not apply), or the expired one
    /// that would have.
    pub fn find_object(
        &self,
        query: &Query,
        object: &ObjectRef,
        entity: &str,
        today: Date,
    ) -> Option<(&Exception, bool)> {
        self.first(query, entity, today, |e| match &e.object {
            Some(m) => m.matches(object),
            None => e.path_texts.is_empty(),
        })
    }

    fn first(
        &self,
        query: &Query,
        entity: &str,
        today: Date,
        applies: impl Fn(&Exception) -> bool,
    ) -> Option<(&Exception, bool)> {
        let mut expired = None;
        for e in &self.entries {
            if !query.answers_to(&e.query)
                || e.entity.as_deref().is_some_and(|x| x != entity)
                || !applies(e)
            {
                continue;
            }
            if e.expires < today {
                expired = Some(e);
            } else {
                return Some((e, true));
            }
        }
        expired.map(|e| (e, false))
    }
}

impl Exception {
    /// The suppression this exception gives.
    pub fn suppression(&self) -> Suppression {
        Suppression {
            kind: SuppressionKind::Exception,
            reason: Some(self.reason.clone()),
            origin: self.origin.clone(),
            expires: Some(self.expires.to_string()),
            approved_by: self.approved_by.clone(),
        }
    }

    /// Where it is written.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// When it expires.
    pub fn expires(&self) -> Date {
        self.expires
    }

    /// Its path globs.
    pub fn paths(&self) -> &[String] {
        &self.path_texts
    }
}

/// A baseline: the fingerprints of accepted findings, written by
/// `--write-baseline` and read by `--baseline`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Baseline {
    /// Format version.
    pub version: u32,
    /// One entry per finding, sorted; no line numbers, so moving code does
    /// not invalidate it.
    pub findings: Vec<BaselineEntry>,
}

/// The baseline format written now: 2, with fingerprints of the second
/// scheme.
pub const BASELINE_VERSION: u32 = 2;

/// One baselined finding.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BaselineEntry {
    /// The finding's fingerprint.
    pub fingerprint: String,
    /// The query, for people reading the file.
    pub query_id: String,
    /// The file, for people reading the file.
    pub file: String,
    /// The entity, for people reading the file.
    pub entity: String,
}

impl Baseline {
    /// A baseline of `findings` (suppressed ones included: the baseline
    /// records everything accepted at this point).
    pub fn of(findings: &[crate::finding::Finding]) -> Baseline {
        let mut entries: Vec<BaselineEntry> = findings
            .iter()
            .map(|f| BaselineEntry {
                fingerprint: f.fingerprint.clone(),
                query_id: f.query_id.clone(),
                file: f.file.clone(),
                entity: f.entity.clone(),
            })
            .collect();
        entries.sort();
        entries.dedup();
        Baseline {
            version: BASELINE_VERSION,
            findings: entries,
        }
    }

    /// Written by the first release: its fingerprints are the first
    /// scheme's ([`crate::finding::fingerprint_v1`]), still matched for one
    /// release.
    pub fn is_first_release(&self) -> bool {
        self.version < BASELINE_VERSION
    }

    /// The fingerprints.
    pub fn fingerprints(&self) -> BTreeSet<&str> {
        self.findings
            .iter()
            .map(|e| e.fingerprint.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directive(text: &str) -> Directive {
        parse_directive(text, 1, 2, 100).expect("a directive")
    }

    #[test]
    fn directive_forms() {
        let d =
            directive("rampart:ignore tf-aws-s3-public-acl,K8S-X exp:2027-03-31 public website");
        assert_eq!(d.form, Form::Anchor);
        assert_eq!(d.ids, vec!["tf-aws-s3-public-acl", "k8s-x"]);
        assert_eq!(d.expires, Some(Date(2027, 3, 31)));
        assert_eq!(d.reason.as_deref(), Some("public website"));
        let d = directive("checkov:skip=CKV_AWS_20:the bucket is a website");
        assert_eq!(
            (d.form, d.ids.clone(), d.peer),
            (Form::Within, vec!["ckv_aws_20".to_string()], true)
        );
        assert_eq!(d.reason.as_deref(), Some("the bucket is a website"));
        let d = directive("tfsec:ignore:AVD-AWS-0092:exp:2026-01-01");
        assert_eq!(
            (d.ids.clone(), d.expires),
            (vec!["avd-aws-0092".to_string()], Some(Date(2026, 1, 1)))
        );
        assert_eq!(directive("kics-scan ignore-line").form, Form::Line);
        assert!(directive("kics-scan ignore-block").ids.is_empty());
        assert_eq!(
            directive("hadolint ignore=DL3008,DL3015").ids,
            vec!["dl3008", "dl3015"]
        );
        assert!(parse_directive("rampart:ignore-file x", 101, 102, 100).is_none());
        assert!(parse_directive("kics-scan disable", 1, 2, 100).is_none());
    }

    #[test]
    fn exceptions_match_kubernetes_objects_by_namespace_kind_and_name() {
        let text = "exceptions:\n  - query: k8s-privileged-container\n    namespaces: [\"legacy-*\"]\n    kinds: [Pod]\n    names: [web]\n    reason: r\n    expires: 2099-01-01\n  - query: k8s-host-network\n    paths: [\"charts/**\"]\n    reason: r\n    expires: 2099-01-01\n";
        let e = Exceptions::parse("x.yaml", text).expect("parses");
        let registry = crate::query::registry::Registry::load(true, &[] as &[&Path])
            .expect("the library loads");
        let privileged = registry.find("k8s-privileged-container").expect("a query");
        let host = registry.find("k8s-host-network").expect("a query");
        let today = Date(2026, 1, 1);
        let object = |namespace, kind, name| ObjectRef {
            kind,
            namespace,
            name,
        };
        let entity = "container web in Pod/legacy-a/web";
        assert!(
            e.find_object(privileged, &object("legacy-a", "Pod", "web"), entity, today)
                .is_some()
        );
        assert!(
            e.find_object(privileged, &object("prod", "Pod", "web"), entity, today)
                .is_none()
        );
        assert!(
            e.find_object(
                privileged,
                &object("legacy-a", "Deployment", "web"),
                entity,
                today
            )
            .is_none()
        );
        assert!(
            e.find_object(privileged, &object("legacy-a", "Pod", "api"), entity, today)
                .is_none()
        );
        // An entry about files does not apply where there are none.
        assert!(
            e.find_object(host, &object("legacy-a", "Pod", "web"), entity, today)
                .is_none()
        );
        // `scan` matches the same keys against the finding's object.
        assert!(e.find(privileged, "k8s/pod.yaml", entity, today).is_some());
        assert!(
            e.find(
                privileged,
                "k8s/pod.yaml",
                "container web in Pod/prod/web",
                today
            )
            .is_none()
        );
        assert!(
            e.find(privileged, "k8s/pod.yaml", "aws_s3_bucket.b", today)
                .is_none()
        );
        assert_eq!(
            ObjectRef::from_identity("pod spec in Deployment/web"),
            Some(object("", "Deployment", "web"))
        );
    }

    #[test]
    fn exceptions_need_reason_and_expiry() {
        let ok = "exceptions:\n  - query: tf-aws-s3-public-acl\n    paths: [\"web/**\"]\n    reason: website\n    approved_by: sec\n    expires: 2099-01-01\n";
        let e = Exceptions::parse("x.yaml", ok).expect("parses");
        let registry = crate::query::registry::Registry::load(true, &[] as &[&Path])
            .expect("the library loads");
        let query = registry.find("tf-aws-s3-public-acl").expect("a query");
        let (hit, live) = e
            .find(query, "web/main.tf", "aws_s3_bucket.b", Date(2026, 1, 1))
            .expect("found");
        assert!(live);
        assert_eq!(hit.suppression().approved_by.as_deref(), Some("sec"));
        assert!(
            e.find(query, "api/main.tf", "x", Date(2026, 1, 1))
                .is_none()
        );
        let (_, live) = e
            .find(query, "web/a.tf", "x", Date(2100, 1, 1))
            .expect("expired match");
        assert!(!live);
        let err = Exceptions::parse("x.yaml", &ok.replace("    reason: website\n", ""))
            .expect_err("no reason");
        assert_eq!(
            err.to_string(),
            "x.yaml:2:5: exception for tf-aws-s3-public-acl without \"reason\""
        );
        let err = Exceptions::parse("x.yaml", &ok.replace("    expires: 2099-01-01\n", ""))
            .expect_err("no expiry");
        assert!(err.to_string().contains("without \"expires\""));
        let err = Exceptions::parse("x.yaml", &ok.replace("approved_by", "approver"))
            .expect_err("unknown key");
        assert!(err.to_string().contains("unknown key \"approver\""));
    }
}
