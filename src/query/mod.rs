//! Queries: declarative checks, one YAML file each, compiled once at load
//! time into a condition tree and run over every entity they select.
//!
//! - [`compile`] turns a query file into a [`Query`], with errors that name
//!   the file, the line and the field;
//! - [`registry`] loads the embedded library and a team's own directories,
//!   refuses a broken or duplicated query, and indexes queries by entity kind;
//! - [`engine`] runs the queries that apply to each entity of a unit;
//! - [`condition`], [`path`] and [`resolve`] are the language itself.
//!
//! The grammar is documented for query authors in `docs/queries.md`.

pub mod compile;
pub mod condition;
pub mod engine;
pub mod path;
pub mod registry;
pub mod relation;
pub mod resolve;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::platform::Platform;
use condition::Condition;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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

/// A compiled query.
#[derive(Clone, Debug)]
pub struct Query {
    /// Stable id, platform-prefixed kebab-case (`tf-aws-s3-public-acl`).
    pub id: String,
    /// One line saying what is wrong.
    pub title: String,
    /// How bad it is.
    pub severity: Severity,
    /// The area (`access-control`, `encryption`, `network`, ...).
    pub category: String,
    /// CWE numbers.
    pub cwe: Vec<u32>,
    /// Why it matters.
    pub description: String,
    /// What to write instead, with a snippet.
    pub remediation: String,
    /// Vendor documentation.
    pub references: Vec<String>,
    /// The same check in other tools: tool name to its ids.
    pub aliases: BTreeMap<String, Vec<String>>,
    /// The platform of the entities it selects.
    pub platform: Platform,
    /// The entity kinds it selects (`resource.aws_s3_bucket`); a kind also
    /// selects its more specific kinds (`stage` selects `stage.final`).
    pub select: Vec<String>,
    /// When it fires.
    pub condition: Condition,
    /// The finding message.
    pub message: Message,
    /// Retired: kept so its id stays taken, never run.
    pub deprecated: bool,
    /// Where it was loaded from (`queries/terraform/aws/x.yaml`, or a path
    /// under a `--queries` directory).
    pub source: String,
}

/// A message template: text with `{value}`, `{path}` and `{entity}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    parts: Vec<MessagePart>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum MessagePart {
    Text(String),
    Value,
    Path,
    Entity,
}

impl Message {
    /// Parses a template; unknown placeholders are an error.
    pub fn parse(template: &str) -> Result<Message, String> {
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(MessagePart::Text(rest[..open].to_string()));
            }
            let close = rest[open..]
                .find('}')
                .map(|c| open + c)
                .ok_or_else(|| "unclosed \"{\"".to_string())?;
            parts.push(match &rest[open + 1..close] {
                "value" => MessagePart::Value,
                "path" => MessagePart::Path,
                "entity" => MessagePart::Entity,
                other => {
                    return Err(format!(
                        "unknown placeholder \"{{{other}}}\": expected {{value}}, {{path}} or {{entity}}"
                    ));
                }
            });
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(MessagePart::Text(rest.to_string()));
        }
        Ok(Message { parts })
    }

    /// Fills the template. A missing value reads "not set".
    pub fn render(&self, value: Option<&str>, path: &str, entity: &str) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                MessagePart::Text(t) => out.push_str(t),
                MessagePart::Value => out.push_str(value.unwrap_or("not set")),
                MessagePart::Path => out.push_str(path),
                MessagePart::Entity => out.push_str(entity),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_fill_placeholders() {
        let m = Message::parse("acl is {value}; expected \"private\" ({path})").expect("parses");
        assert_eq!(
            m.render(Some("\"public-read\""), "acl", "aws_s3_bucket.b"),
            "acl is \"public-read\"; expected \"private\" (acl)"
        );
        assert_eq!(
            m.render(None, "acl", "x"),
            "acl is not set; expected \"private\" (acl)"
        );
        assert!(Message::parse("{valu}").is_err());
        assert!(Message::parse("{value").is_err());
    }
}
