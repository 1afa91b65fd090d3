//! Queries: declarative checks, one YAML file each, compiled once at load
//! time into a condition tree and run over every entity they select.
//!
//! - [`compile`] turns a query file into a [`Query`], with errors that name
//!   the file, the line and the field;
//! - [`heading`] is what is known of a query before it is compiled;
//! - [`registry`] loads the embedded library and a team's own directories,
//!   refuses a broken or duplicated query, and indexes queries by entity kind;
//! - [`engine`] runs the queries that apply to each entity of a unit;
//! - [`condition`], [`path`] and [`resolve`] are the language itself;
//! - [`relation`] and [`scan_index`] look from one entity to others, in its
//!   unit and across the scan.
//!
//! The grammar is documented for query authors in `docs/queries.md`.

pub mod compile;
pub mod condition;
pub mod control;
pub mod engine;
pub mod heading;
pub mod known_types;
pub mod parameter;
pub mod path;
pub mod registry;
pub mod relation;
pub mod resolve;
pub mod scan_index;

use std::collections::BTreeMap;

use crate::finding::Severity;
use crate::platform::Platform;
use condition::Condition;

/// A compiled query.
#[derive(Clone, Debug)]
pub struct Query {
    /// Stable id, kebab-case: prefixed by its platform (`k8s-privileged-container`),
    /// or by its provider for a concept checked on several (`aws-s3-public-acl`).
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
    /// The compliance controls it supports (facts: framework and id).
    pub controls: Vec<control::Control>,
    /// What it checks on each platform: one rule per platform, all under
    /// this one id (a concept checked on Terraform and CloudFormation alike).
    pub rules: Vec<Rule>,
    /// Retired: kept so its id stays taken, never run.
    pub deprecated: bool,
    /// Its tunable parameters, with the values in force for this run.
    pub parameters: Vec<parameter::Parameter>,
    /// Where it was loaded from (`queries/<platform>/.../x.yaml`, or a path
    /// under a `--queries` directory).
    pub source: String,
    /// What compiled but looks wrong: a selected resource type rampart does
    /// not know (a typo never matches). Empty with `allow_unknown_type:
    /// true`.
    pub warnings: Vec<UnknownType>,
}

/// A kind a query selects (in `select:` or a relation) that names a
/// resource type rampart does not know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownType {
    /// The platform of the rule.
    pub platform: Platform,
    /// The kind as written (`resource.aws_s3_buckt`).
    pub kind: String,
    /// The warning, naming file, line and field.
    pub warning: compile::LoadError,
}

impl Query {
    /// The platforms it has rules for, in report order.
    pub fn platforms(&self) -> Vec<Platform> {
        report_order(self.rules.iter().map(|r| r.platform))
    }

    /// Its rule for `platform`.
    pub fn rule_for(&self, platform: Platform) -> Option<&Rule> {
        self.rules.iter().find(|r| r.platform == platform)
    }

    /// The ids it answers to: its own and the former ids it replaced
    /// (`aliases: {rampart: [...]}`), so suppressions, exceptions, `--only`
    /// and `explain` written with a former id keep working.
    pub fn former_ids(&self) -> &[String] {
        self.aliases.get(FORMER_IDS).map_or(&[], Vec::as_slice)
    }

    /// Whether a user-written id names this query: its id or a former one,
    /// case-insensitively.
    pub fn answers_to(&self, id: &str) -> bool {
        answers_to(&self.id, self.former_ids(), id)
    }
}

/// Platforms once each, in report order.
fn report_order(platforms: impl Iterator<Item = Platform>) -> Vec<Platform> {
    let mut out: Vec<Platform> = platforms.collect();
    out.sort();
    out.dedup();
    out
}

/// Whether `asked` names the query of `id` and `former` ids,
/// case-insensitively.
fn answers_to(id: &str, former: &[String], asked: &str) -> bool {
    id.eq_ignore_ascii_case(asked) || former.iter().any(|f| f.eq_ignore_ascii_case(asked))
}

/// The `aliases` key listing a query's former rampart ids.
pub const FORMER_IDS: &str = "rampart";

/// What a query checks on one platform.
#[derive(Clone, Debug)]
pub struct Rule {
    /// The platform of the entities it selects.
    pub platform: Platform,
    /// The entity kinds it selects (`resource.<type>`); a kind also
    /// selects its more specific kinds (`stage` selects `stage.final`).
    pub select: Vec<String>,
    /// When it fires.
    pub condition: Condition,
    /// The finding message.
    pub message: Message,
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
