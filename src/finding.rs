//! A finding: one query matched at one place in one entity. This is the
//! contract between the engine and every reporter.

use serde::Serialize;

use crate::tree::Span;

/// How bad a finding is.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; not a risk by itself.
    Info,
    /// Defence in depth.
    Low,
    /// A weakness an attacker needs something else to use.
    Medium,
    /// Directly exploitable or exposing data.
    High,
    /// Exposes the system to anyone, now.
    Critical,
}

impl Severity {
    /// Every severity, most severe first.
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    /// The lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses a lowercase name.
    pub fn parse(text: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.name() == text)
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything a scan found, ready for any reporter.
#[derive(Debug, Default, serde::Serialize)]
pub struct ScanResult {
    /// Findings, sorted by file, line, column, query id.
    pub findings: Vec<Finding>,
    /// Read and parse problems, and deliberate skips, sorted.
    pub diagnostics: Vec<crate::diagnostic::Diagnostic>,
    /// Totals.
    pub stats: ScanStats,
    /// The text of every file with a finding, by display path: reporters
    /// show snippets from it without reading the file again. A scan keeps
    /// only excerpts: the lines around each finding, every other line left
    /// empty (line numbers hold), so results do not hold the whole text of
    /// every file with a finding to the end (issue 20).
    #[serde(skip)]
    pub sources: std::collections::BTreeMap<String, String>,
    /// SARIF line hashes of the findings' start lines, by file then line,
    /// computed by the scan while the whole text was at hand. `None` when
    /// `sources` holds whole texts (a result built by hand), from which
    /// the SARIF report computes them.
    #[serde(skip)]
    pub line_hashes:
        Option<std::collections::BTreeMap<String, std::collections::BTreeMap<u32, String>>>,
}

/// Totals of a scan.
#[derive(Debug, Default, serde::Serialize)]
pub struct ScanStats {
    /// Files read per platform.
    pub files: std::collections::BTreeMap<crate::platform::Platform, usize>,
    /// Documents read.
    pub documents: usize,
    /// Entities the queries ran over.
    pub entities: usize,
    /// Queries in the registry that ran.
    pub queries: usize,
    /// Bytes read.
    pub bytes: u64,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Units whose reading or checking failed inside rampart (a caught
    /// panic): their findings may be lost, so the run fails (exit 2).
    pub internal_errors: usize,
    /// Terraform module directories another scanned directory calls,
    /// checked through those calls rather than alone.
    pub modules_through_calls: usize,
}

/// One misconfiguration found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// The query that matched.
    pub query_id: String,
    /// Its severity.
    pub severity: Severity,
    /// The file (display path).
    pub file: String,
    /// The platform the file was read as.
    pub platform: crate::platform::Platform,
    /// The offending value, or the header of the entity (or block) that
    /// lacks something.
    pub span: Span,
    /// The entity's identity (`aws_s3_bucket.logs`).
    pub entity: String,
    /// The attribute path from the entity (`ingress[1].cidr_blocks[0]`);
    /// empty for the entity as a whole.
    pub path: FieldPath,
    /// What was found, and what was expected.
    pub message: String,
    /// Stable across edits elsewhere in the file and across working
    /// directories: see [`FingerprintInputs`]. Moving or reformatting code
    /// keeps it; changing the offending value makes a new finding. Empty
    /// until the scan fills it in.
    pub fingerprint: String,
    /// The path from the entity with each array position replaced by what
    /// identifies the element: `ingress[#3f2a…].cidr_blocks[="0.0.0.0/0"]`,
    /// `containers[name=web].image`. Part of the fingerprint, so adding a
    /// block above another does not make the other new.
    #[serde(skip)]
    pub anchor: String,
    /// For a finding inside a module instance: the `module` block that
    /// called it (file, line), so a user knows which call made it bad.
    /// (Boxed, as `suppressed`: most findings have neither, and a scan
    /// holds every finding until its reports are written.)
    pub called_from: Option<Box<CallSite>>,
    /// Why the finding does not count, when it does not.
    pub suppressed: Option<Box<Suppression>>,
    /// Where it sits, as inline suppressions read it.
    #[serde(skip)]
    pub placement: Placement,
    /// The offending value as the message shows it (part of the
    /// fingerprint; kept so a fingerprint can be recomputed for another
    /// path, as `--diff-base` does).
    #[serde(skip)]
    pub value: Option<String>,
}

impl Finding {
    /// The entity as reports for people name it: with the `module` call
    /// that made it when it sits in a module (`module.aks.azurerm_x via
    /// examples/main.tf:12`), so instances of one module line called from
    /// several places read apart.
    pub fn instance(&self) -> String {
        match &self.called_from {
            Some(call) => format!("{} via {}:{}", self.entity, call.file, call.line),
            None => self.entity.clone(),
        }
    }
}

/// One step of a [`FieldPath`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Segment {
    /// An object key.
    Key(String),
    /// An array element.
    Index(usize),
    /// Every element (`[*]`): a path that reached no element names them
    /// all.
    Each,
    /// Up to the enclosing entity (a container's pod spec).
    Parent,
    /// The root of the document the entity is in.
    Document,
}

/// Where a value sits, from its entity: a sequence of keys and indices,
/// kept typed so nothing ever parses it back from text. It prints as
/// `ingress[1].cidr_blocks[0]`, quoting a key that holds a dot, a bracket,
/// a quote or a space (`metadata.annotations."rampart.dev/ignore"`).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FieldPath(pub Vec<Segment>);

impl FieldPath {
    /// The path of the entity itself.
    pub fn new() -> FieldPath {
        FieldPath(Vec::new())
    }

    /// True for the entity itself.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The steps.
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    /// True when the path starts outside the entity (`$parent`,
    /// `$document`).
    pub fn leaves_entity(&self) -> bool {
        matches!(self.0.first(), Some(Segment::Parent | Segment::Document))
    }
}

impl std::fmt::Display for FieldPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            let dot = if i == 0 { "" } else { "." };
            match segment {
                Segment::Key(key) => {
                    let plain = !key.is_empty()
                        && !key.starts_with('$')
                        && !key.contains(['.', '[', ']', '"', ' ']);
                    if plain {
                        write!(f, "{dot}{key}")?;
                    } else {
                        write!(f, "{dot}\"{}\"", key.replace('"', "\\\""))?;
                    }
                }
                Segment::Index(n) => write!(f, "[{n}]")?,
                Segment::Each => write!(f, "[*]")?,
                Segment::Parent => write!(f, "{dot}$parent")?,
                Segment::Document => write!(f, "{dot}$document")?,
            }
        }
        Ok(())
    }
}

impl Serialize for FieldPath {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Where a finding sits, as inline suppressions read it: the engine knows
/// the entities and the path, the suppression step (after the engine)
/// knows the comments.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Placement {
    /// Lines where the entity, its enclosing entities and each attribute on
    /// the way to the offending value start, and the value's own line: a
    /// directive on the line above any of them covers the finding.
    pub anchor_lines: Vec<u32>,
    /// The first and last lines of the entity.
    pub entity_lines: (u32, u32),
    /// What the entity (or the nearest enclosing one that says anything)
    /// declares ignored, as written (comma-separated ids), and its line: a
    /// Kubernetes object's `rampart.dev/ignore` annotation.
    pub declared_ignores: Option<(String, u32)>,
}

/// Where a module call is written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CallSite {
    /// The file of the `module` block.
    pub file: String,
    /// Its line.
    pub line: u32,
    /// The call chain (`module.network.module.sg`).
    pub module: String,
}

/// How a finding was suppressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SuppressionKind {
    /// A comment or annotation in the scanned file.
    Inline,
    /// An entry of the exceptions file.
    Exception,
    /// The finding was in the baseline.
    Baseline,
}

/// Why a finding does not count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Suppression {
    /// Inline, exception or baseline.
    pub kind: SuppressionKind,
    /// The reason given, if any.
    pub reason: Option<String>,
    /// Where the suppression is written: `main.tf:12`, `exceptions.yaml:4`,
    /// the baseline file.
    pub origin: String,
    /// The date after which it stops suppressing (`YYYY-MM-DD`).
    pub expires: Option<String>,
    /// Who approved it (exceptions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
}

/// FNV-1a, 64 bits, over fields each ended by a zero byte: stable across
/// platforms and releases (unlike std's hasher); collisions within one
/// repository are vanishingly rare.
pub(crate) fn fnv<'a>(fields: impl IntoIterator<Item = &'a [u8]>) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for field in fields {
        for &byte in field.iter().chain(std::iter::once(&0)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

/// The offending value with whitespace removed: reformatting (a heredoc
/// policy reindented) must not change a fingerprint.
fn squeezed(value: Option<&str>) -> Vec<u8> {
    value
        .unwrap_or("")
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .collect()
}

/// What a fingerprint (version 2) is made of. Nothing in it moves when
/// nothing about the finding changed: not the directory rampart runs from,
/// not a line number, not the position of a repeated block.
#[derive(Clone, Copy, Debug)]
pub struct FingerprintInputs<'a> {
    /// The query id.
    pub query_id: &'a str,
    /// The file, relative to the repository root (outside git, to the scan
    /// root), whatever path the scan was given.
    pub file: &'a str,
    /// The entity's identity (`aws_s3_bucket.logs`,
    /// `module.site.aws_s3_bucket.this`).
    pub entity: &'a str,
    /// For a module instance, the file of the root module that called it
    /// (relative like `file`): the same module line reached from two
    /// example directories is two findings.
    pub caller: Option<&'a str>,
    /// The path from the entity with every array position replaced by what
    /// identifies the element (its `name`, or its content): see
    /// [`Finding::anchor`].
    pub anchor: &'a str,
    /// The offending value as the message shows it.
    pub value: Option<&'a str>,
}

/// The fingerprint (version 2) of a finding.
pub fn fingerprint(inputs: FingerprintInputs) -> String {
    let value = squeezed(inputs.value);
    let hash = fnv([
        FINGERPRINT_VERSION.as_bytes(),
        inputs.query_id.as_bytes(),
        inputs.file.as_bytes(),
        inputs.entity.as_bytes(),
        inputs.caller.unwrap_or("").as_bytes(),
        inputs.anchor.as_bytes(),
        &value,
    ]);
    format!("{hash:016x}")
}

/// The name of the fingerprint scheme, in SARIF's `fingerprints` and in
/// baseline files.
pub const FINGERPRINT_VERSION: &str = "rampart/v2";

/// The fingerprint of the first release (query id, file as typed on the
/// command line, entity, path with positions, value): still matched in
/// baseline files written by it, for one release.
pub fn fingerprint_v1(
    query_id: &str,
    file: &str,
    entity: &str,
    path: &str,
    value: Option<&str>,
) -> String {
    let value = squeezed(value);
    let hash = fnv([
        query_id.as_bytes(),
        file.as_bytes(),
        entity.as_bytes(),
        path.as_bytes(),
        &value,
    ]);
    format!("{hash:016x}")
}

/// Sorts findings the one way every report shows them: by file, line,
/// column, then query id; findings equal in all of these keep their order.
///
/// The positions are sorted, then the findings moved into place: a stable
/// sort of the findings themselves would borrow a buffer as large as all
/// of them at the scan's peak (issue 20).
pub fn sort(findings: &mut [Finding]) {
    fn key(f: &Finding) -> (&str, u32, u32, &str, &FieldPath) {
        (
            f.file.as_str(),
            f.span.start_line,
            f.span.start_col,
            f.query_id.as_str(),
            &f.path,
        )
    }
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by(|&a, &b| key(&findings[a]).cmp(&key(&findings[b])));
    permute(findings, &mut order);
}

/// Moves `items[order[k]]` to position `k` for every `k`, in place, by
/// following each cycle of the permutation; `order` is used up.
fn permute<T>(items: &mut [T], order: &mut [usize]) {
    for start in 0..items.len() {
        let mut at = start;
        while order[at] != at {
            let from = order[at];
            order[at] = at;
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

/// Adds the findings of Terraform plans to those of the other files, each
/// problem once: a plan finding is left out when a finding of the same
/// query, file, line and entity is already there (the `.tf` files' own,
/// or another plan's). A plan's resource written in a scanned `.tf` file
/// is reported at that file's lines, so the `.tf` finding and the plan's
/// meet there, and the `.tf` one is kept.
pub fn add_plan_findings(findings: &mut Vec<Finding>, plans: Vec<Vec<Finding>>) {
    let key = |f: &Finding| {
        (
            f.query_id.clone(),
            f.file.clone(),
            f.span.start_line,
            f.entity.clone(),
        )
    };
    let mut seen: std::collections::HashSet<(String, String, u32, String)> =
        findings.iter().map(key).collect();
    for plan in plans {
        // Two findings of one plan on one line (two open CIDRs) are two.
        let kept: Vec<Finding> = plan
            .into_iter()
            .filter(|f| !seen.contains(&key(f)))
            .collect();
        seen.extend(kept.iter().map(key));
        findings.extend(kept);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_permutation_moves_each_item_to_its_place() {
        for order in [
            vec![0, 1, 2, 3, 4],
            vec![4, 3, 2, 1, 0],
            vec![1, 2, 3, 4, 0],
            vec![2, 0, 1, 4, 3],
            vec![3, 4, 0, 2, 1],
        ] {
            let mut items: Vec<char> = "abcde".chars().collect();
            let expected: Vec<char> = order.iter().map(|&i| items[i]).collect();
            let mut used = order.clone();
            super::permute(&mut items, &mut used);
            assert_eq!(items, expected, "{order:?}");
        }
    }

    use super::*;

    fn inputs<'a>(
        entity: &'a str,
        anchor: &'a str,
        value: Option<&'a str>,
    ) -> FingerprintInputs<'a> {
        FingerprintInputs {
            query_id: "q",
            file: "main.tf",
            entity,
            caller: None,
            anchor,
            value,
        }
    }

    #[test]
    fn fingerprints_are_stable_and_separate_fields() {
        let a = fingerprint(inputs("aws_s3_bucket.b", "acl", Some("\"public-read\"")));
        assert_eq!(
            a,
            fingerprint(inputs("aws_s3_bucket.b", "acl", Some("\"public-read\"")))
        );
        assert_eq!(a.len(), 16);
        assert_ne!(
            a,
            fingerprint(inputs("aws_s3_bucket.ba", "cl", Some("\"public-read\"")))
        );
        // A new value is a new finding; whitespace is not a change.
        assert_ne!(
            a,
            fingerprint(inputs(
                "aws_s3_bucket.b",
                "acl",
                Some("\"public-read-write\"")
            ))
        );
        assert_eq!(
            fingerprint(inputs("e", "p", Some("{\"a\": 1}"))),
            fingerprint(inputs("e", "p", Some("{\n  \"a\":1\n}")))
        );
        // The same module line called from two root modules is two findings.
        let from = |caller| {
            fingerprint(FingerprintInputs {
                caller: Some(caller),
                ..inputs("module.m.aws_s3_bucket.b", "acl", None)
            })
        };
        assert_ne!(from("examples/a/main.tf"), from("examples/b/main.tf"));
        // Pinned: a change here changes every baseline users have written.
        assert_eq!(fingerprint(inputs("", "", None)), "4d2809c452c177d5");
    }

    #[test]
    fn the_first_release_fingerprint_is_unchanged() {
        assert_eq!(fingerprint_v1("", "", "", "", None), "e4bc4fd9252be94f");
    }

    #[test]
    fn field_paths_quote_what_needs_it() {
        let path = FieldPath(vec![
            Segment::Key("metadata".into()),
            Segment::Key("annotations".into()),
            Segment::Key("a.b/c]".into()),
            Segment::Index(2),
        ]);
        assert_eq!(path.to_string(), "metadata.annotations.\"a.b/c]\"[2]");
        assert_eq!(
            FieldPath(vec![Segment::Parent, Segment::Key("spec".into())]).to_string(),
            "$parent.spec"
        );
    }
}
