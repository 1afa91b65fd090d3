//! A query's heading: what choosing and indexing queries need (id, former
//! ids, severity, category, platforms and the kinds each rule selects),
//! known without compiling the query.
//!
//! The built-in library's headings are written by the compiler itself into
//! `src/query/headings.json` (a test keeps it current) and embedded in the
//! binary with a hash of the query files they were made from. A scan then
//! compiles only the queries it meets: one file checked by a pre-commit
//! hook costs milliseconds, not the 70 ms of compiling all 684 queries
//! (issue 20). When the hash does not match (a query edited, the file not
//! regenerated yet) the library is compiled whole, as before: headings are
//! a shortcut, never a second source of truth.

use serde::{Deserialize, Serialize};

use super::Query;
use crate::finding::Severity;
use crate::platform::Platform;

/// What is known of a query before it is compiled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heading {
    /// The query id.
    pub id: String,
    /// Where it was loaded from (`queries/...`).
    pub source: String,
    /// Its severity.
    pub severity: Severity,
    /// Its category.
    pub category: String,
    /// Retired: never run.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deprecated: bool,
    /// The former ids it answers to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub former_ids: Vec<String>,
    /// One per rule, in the query's rule order.
    pub rules: Vec<RuleHeading>,
}

/// What is known of one rule before it is compiled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleHeading {
    /// Its platform.
    pub platform: Platform,
    /// The kinds it selects.
    pub select: Vec<String>,
    /// The kinds its relations look for ([`super::condition::Condition::related_kinds`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<String>,
    /// The kinds its `selected_by` conditions look for across the scan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub selecting: Vec<String>,
}

impl Heading {
    /// The heading of a compiled query.
    pub fn of(query: &Query) -> Heading {
        Heading {
            id: query.id.clone(),
            source: query.source.clone(),
            severity: query.severity,
            category: query.category.clone(),
            deprecated: query.deprecated,
            former_ids: query.former_ids().to_vec(),
            rules: query
                .rules
                .iter()
                .map(|rule| {
                    let mut related = Vec::new();
                    rule.condition.related_kinds(&mut related);
                    let mut selecting = Vec::new();
                    rule.condition.selecting_kinds(&mut selecting);
                    RuleHeading {
                        platform: rule.platform,
                        select: rule.select.clone(),
                        related,
                        selecting,
                    }
                })
                .collect(),
        }
    }

    /// The platforms it has rules for, in report order.
    pub fn platforms(&self) -> Vec<Platform> {
        super::report_order(self.rules.iter().map(|r| r.platform))
    }

    /// Its (first) rule for `platform`, as [`Query::rule_for`].
    pub fn rule_for(&self, platform: Platform) -> Option<&RuleHeading> {
        self.rules.iter().find(|r| r.platform == platform)
    }

    /// Whether a user-written id names this query: its id or a former one,
    /// case-insensitively (as [`Query::answers_to`]).
    pub fn answers_to(&self, id: &str) -> bool {
        super::answers_to(&self.id, &self.former_ids, id)
    }
}

/// The headings file of the built-in library: the hash of the query files
/// it was made from, then one heading a line (a diff shows which query
/// changed).
pub fn write_headings(hash: &str, headings: &[Heading]) -> String {
    let mut out = format!("{{\"hash\":{},\"queries\":[\n", json(&hash));
    for (i, heading) in headings.iter().enumerate() {
        out.push_str(&json(heading));
        out.push_str(if i + 1 < headings.len() { ",\n" } else { "\n" });
    }
    out.push_str("]}\n");
    out
}

fn json(value: &impl Serialize) -> String {
    // Plain data of strings, enums and lists: always serializable.
    serde_json::to_string(value).unwrap_or_default()
}

/// The headings in `text` when it was made from query files of `hash`;
/// `None` when it is stale or unreadable (the library is then compiled
/// whole).
pub fn read_headings(text: &str, hash: &str) -> Option<Vec<Heading>> {
    #[derive(Deserialize)]
    struct File {
        hash: String,
        queries: Vec<Heading>,
    }
    let file: File = serde_json::from_str(text).ok()?;
    (file.hash == hash).then_some(file.queries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_round_trip_only_under_their_hash() {
        let heading = Heading {
            id: "tf-x".to_string(),
            source: "queries/x.yaml".to_string(),
            severity: Severity::High,
            category: "encryption".to_string(),
            deprecated: false,
            former_ids: vec!["tf-old".to_string()],
            rules: vec![RuleHeading {
                platform: Platform::Terraform,
                select: vec!["resource.aws_s3_bucket".to_string()],
                related: vec![],
                selecting: vec![],
            }],
        };
        let text = write_headings("abc", std::slice::from_ref(&heading));
        assert_eq!(
            text,
            "{\"hash\":\"abc\",\"queries\":[\n{\"id\":\"tf-x\",\"source\":\"queries/x.yaml\",\"severity\":\"high\",\"category\":\"encryption\",\"former_ids\":[\"tf-old\"],\"rules\":[{\"platform\":\"terraform\",\"select\":[\"resource.aws_s3_bucket\"]}]}\n]}\n"
        );
        assert_eq!(read_headings(&text, "abc"), Some(vec![heading]));
        assert_eq!(read_headings(&text, "abd"), None);
        assert_eq!(read_headings("not json", "abc"), None);
    }
}
