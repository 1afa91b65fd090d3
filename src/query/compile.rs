//! Query files into [`Query`] values.
//!
//! A query file is read with rampart's own YAML reader, so every error can
//! say where it is: `queries/x.yaml:12:7: field "severity": invalid severity
//! "hgh": expected one of critical, high, medium, low, info`. Paths, regexes
//! and message templates are compiled here, once.

use std::collections::BTreeMap;

use regex::Regex;

use super::condition::{
    Condition, Ordering, PortRange, Quantifier, ReportAt, Scalar, Test, scalar_of,
};
use super::parameter::{Kind, Override, ParamValue, Parameter};
use super::path::Path;
use super::{Message, Query, Rule};
use crate::finding::Severity;
use crate::parse::yaml;
use crate::platform::Platform;
use crate::tree::{LineIndex, Node, Span, Value};

/// A problem in a query file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct LoadError {
    /// The query file.
    pub file: String,
    /// 1-based line (0 for the whole file).
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// What is wrong, naming the field.
    pub message: String,
}

/// The fields of one rule of a query with `rules:`.
const RULE_FIELDS: [&str; 4] = ["select", "flag", "report_at", "message"];

const FIELDS: [&str; 20] = [
    "id",
    "parameters",
    "title",
    "severity",
    "category",
    "cwe",
    "description",
    "remediation",
    "references",
    "aliases",
    "controls",
    "select",
    "flag",
    "report_at",
    "rules",
    "message",
    "deprecated",
    "platform",
    "notes",
    "allow_unknown_type",
];

/// Compiles one query file with its parameters' defaults. `source` names
/// it in errors.
pub fn compile(source: &str, text: &str) -> Result<Query, Vec<LoadError>> {
    compile_with(source, text, None)
}

/// Compiles one query file, its parameters set to `overrides` (a settings
/// file's values for this query) where given, else to their defaults. An
/// override naming no declared parameter, or of the wrong type, is an error
/// at the settings file's line.
pub fn compile_with(
    source: &str,
    text: &str,
    overrides: Option<&BTreeMap<String, Override>>,
) -> Result<Query, Vec<LoadError>> {
    let index = LineIndex::new(text);
    let parsed = yaml::parse_strict(text, &index);
    let error_at = |span: Span, message: String| LoadError {
        file: source.to_string(),
        line: span.start_line,
        column: span.start_col,
        message,
    };
    if let Some(e) = parsed.errors.first() {
        return Err(vec![LoadError {
            file: source.to_string(),
            line: e.line,
            column: e.column,
            message: format!("invalid YAML: {}", e.message),
        }]);
    }
    let Some(root) = parsed.documents.first() else {
        return Err(vec![error_at(Span::default(), "empty query file".into())]);
    };
    let Some(obj) = root.as_object() else {
        return Err(vec![error_at(
            root.span,
            "a query file is a mapping of fields".into(),
        )]);
    };
    let mut c = Compiler {
        source,
        errors: Vec::new(),
        params: BTreeMap::new(),
        warnings: Vec::new(),
        platform: None,
    };
    for entry in &obj.entries {
        if !FIELDS.contains(&entry.key.as_str()) {
            c.error(
                entry.key_span,
                format!(
                    "unknown field \"{}\": expected one of {}",
                    entry.key,
                    FIELDS.join(", ")
                ),
            );
        }
    }
    let id = c.required_string(root, "id");
    if let Some(id) = &id
        && !is_kebab_id(id)
    {
        c.error(
            field_span(root, "id"),
            format!("field \"id\": \"{id}\" is not lowercase kebab-case with a platform prefix"),
        );
    }
    let title = c.required_string(root, "title");
    c.parameters(root, id.as_deref().unwrap_or_default(), overrides);
    let severity = c.required_string(root, "severity").and_then(|s| {
        let parsed = Severity::parse(&s);
        if parsed.is_none() {
            c.error(
                field_span(root, "severity"),
                format!(
                    "field \"severity\": invalid severity \"{s}\": expected one of critical, high, medium, low, info"
                ),
            );
        }
        parsed
    });
    let category = c.required_string(root, "category");
    let description = c.required_string(root, "description");
    let remediation = c.required_string(root, "remediation");
    let cwe = c.cwe(root);
    let references = c.string_list(root, "references");
    let aliases = c.aliases(root);
    let controls = c.controls(root);
    let default_message = root.get("message");
    let rules: Vec<Rule> = match root.entry("rules") {
        Some(entry) => {
            for key in ["select", "flag", "report_at"] {
                if let Some(e) = root.entry(key) {
                    c.error(
                        e.key_span,
                        format!("field \"{key}\": goes inside each of \"rules\""),
                    );
                }
            }
            let items = entry.value.as_array().unwrap_or_default();
            if items.is_empty() {
                c.error(
                    entry.value.span,
                    "field \"rules\": expected a list of rules (select, flag, report_at, message)"
                        .into(),
                );
            }
            items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| c.rule(item, &format!("rules[{i}]."), default_message))
                .collect()
        }
        None => c.rule(root, "", None).into_iter().collect(),
    };
    // A resource type outside the known list is allowed, on purpose, with
    // `allow_unknown_type: true` (a provider rampart has no list for).
    let allow_unknown_type = match root.get("allow_unknown_type") {
        None => false,
        Some(n) => n.as_bool().unwrap_or_else(|| {
            c.error(
                n.span,
                "field \"allow_unknown_type\": expected true or false".into(),
            );
            false
        }),
    };
    let deprecated = match root.get("deprecated") {
        None => false,
        Some(n) => n.as_bool().unwrap_or_else(|| {
            c.error(
                n.span,
                "field \"deprecated\": expected true or false".into(),
            );
            false
        }),
    };
    let mut platforms: Vec<Platform> = rules.iter().map(|r| r.platform).collect();
    platforms.sort();
    platforms.dedup();
    for pair in rules.windows(2) {
        if pair[0].platform == pair[1].platform {
            c.error(
                field_span(root, "rules"),
                format!(
                    "field \"rules\": two rules for {}: one rule per platform (a rule may select several kinds)",
                    pair[1].platform
                ),
            );
        }
    }
    // A query for one platform is prefixed by it; a concept checked on
    // several platforms (one id for Terraform and CloudFormation) is not.
    if let (Some(id), [platform]) = (&id, platforms.as_slice()) {
        let prefix = platform.model().id_prefix();
        if !id.starts_with(prefix) {
            c.error(
                field_span(root, "id"),
                format!(
                    "field \"id\": a {platform} query id starts with \"{prefix}\", not \"{id}\""
                ),
            );
        }
    }
    if let (Some(id), [_, _, ..]) = (&id, platforms.as_slice())
        && let Some(p) = platforms
            .iter()
            .find(|p| id.starts_with(p.model().id_prefix()))
    {
        c.error(
            field_span(root, "id"),
            format!(
                "field \"id\": \"{id}\" checks several platforms; its id names the concept, without the {p} prefix \"{}\"",
                p.model().id_prefix()
            ),
        );
    }
    if !c.errors.is_empty() {
        return Err(c.errors);
    }
    match (id, title, severity, category, description, remediation) {
        (
            Some(id),
            Some(title),
            Some(severity),
            Some(category),
            Some(description),
            Some(remediation),
        ) if !rules.is_empty() => Ok(Query {
            id,
            title,
            severity,
            category,
            cwe,
            description,
            remediation,
            references,
            aliases,
            controls,
            rules,
            deprecated,
            source: source.to_string(),
            parameters: c.params.into_values().collect(),
            warnings: if allow_unknown_type {
                Vec::new()
            } else {
                c.warnings
            },
        }),
        _ => Err(vec![error_at(root.span, "incomplete query".into())]),
    }
}

fn is_kebab_id(id: &str) -> bool {
    !id.is_empty()
        && id.contains('-')
        && !id.starts_with('-')
        && !id.ends_with('-')
        && !id.contains("--")
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The name in `{param: NAME}`, when `node` is such a reference.
fn param_reference(node: &Node) -> Option<&str> {
    match node.as_object()?.entries.as_slice() {
        [entry] if entry.key == "param" => entry.value.as_str(),
        _ => None,
    }
}

fn field_span(root: &Node, key: &str) -> Span {
    root.entry(key).map_or(root.span, |e| e.value.span)
}

struct Compiler<'a> {
    source: &'a str,
    errors: Vec<LoadError>,
    /// The query's parameters, by name, with the values in force.
    params: BTreeMap<String, Parameter>,
    /// Problems that do not stop the query from loading.
    warnings: Vec<super::UnknownType>,
    /// The platform of the rule being compiled, for checking the kinds its
    /// relations select.
    platform: Option<Platform>,
}

/// The fields of one declared parameter.
const PARAMETER_FIELDS: [&str; 3] = ["type", "default", "description"];

/// The tests a `path:` condition may carry.
const TESTS: [&str; 19] = [
    "exists",
    "starts_with",
    "not_starts_with",
    "missing",
    "equals",
    "not_equals",
    "in",
    "not_in",
    "matches",
    "not_matches",
    "gt",
    "gte",
    "lt",
    "lte",
    "contains",
    "is_empty",
    "cidr_open_to_world",
    "is_true",
    "equals_path",
];

/// Every operator a condition may start with.
const OPERATORS: [&str; 16] = [
    "all",
    "parameter_set",
    "any",
    "not",
    "path",
    "any_item",
    "all_items",
    "no_item",
    "last_item",
    "any_entry",
    "all_but_last",
    "port_range_includes",
    "referenced_by",
    "references",
    "any_entity",
    "selected_by",
];

impl Compiler<'_> {
    fn error(&mut self, span: Span, message: String) {
        self.errors.push(LoadError {
            file: self.source.to_string(),
            line: span.start_line,
            column: span.start_col,
            message,
        });
    }

    fn required_string(&mut self, root: &Node, key: &str) -> Option<String> {
        match root.get(key) {
            None => {
                self.error(root.span, format!("missing field \"{key}\""));
                None
            }
            Some(n) => match &n.value {
                Value::String(s) if !s.trim().is_empty() => Some(s.trim_end().to_string()),
                _ => {
                    self.error(
                        n.span,
                        format!("field \"{key}\": expected a non-empty string"),
                    );
                    None
                }
            },
        }
    }

    fn string_list(&mut self, root: &Node, key: &str) -> Vec<String> {
        let Some(n) = root.get(key) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in n.items() {
            match item.as_str() {
                Some(s) => out.push(s.to_string()),
                None => self.error(
                    item.span,
                    format!("field \"{key}\": expected a list of strings"),
                ),
            }
        }
        out
    }

    fn cwe(&mut self, root: &Node) -> Vec<u32> {
        let Some(n) = root.get("cwe") else {
            self.error(
                root.span,
                "missing field \"cwe\": a list of CWE numbers".into(),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in n.items() {
            let number = match &item.value {
                Value::Number(num) => Some(num.as_f64()),
                Value::String(s) => s.trim_start_matches("CWE-").parse::<f64>().ok(),
                _ => None,
            };
            match number {
                Some(f) if f >= 1.0 && f.fract() == 0.0 && f < 10_000.0 => out.push(f as u32),
                _ => self.error(
                    item.span,
                    "field \"cwe\": expected CWE numbers such as 284".into(),
                ),
            }
        }
        out
    }

    /// `controls: [CIS-K8S-5.2.1, PSS-baseline]`: optional; each must name
    /// a known framework and a control id shaped like its ids.
    fn controls(&mut self, root: &Node) -> Vec<super::control::Control> {
        let Some(n) = root.get("controls") else {
            return Vec::new();
        };
        if !matches!(n.value, Value::Array(_)) {
            self.error(
                n.span,
                "field \"controls\": expected a list such as [CIS-K8S-5.2.1, PSS-baseline]".into(),
            );
            return Vec::new();
        }
        let mut out = Vec::new();
        for item in n.items() {
            match item.as_str().and_then(super::control::Control::parse) {
                Some(control) => out.push(control),
                None => self.error(
                    item.span,
                    format!(
                        "field \"controls\": {} is not a control: write FRAMEWORK-ID with FRAMEWORK one of {}",
                        item.as_str().unwrap_or("this"),
                        super::control::Framework::ALL
                            .iter()
                            .map(|f| f.prefix())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
            }
        }
        out.sort();
        out.dedup();
        out
    }

    fn aliases(&mut self, root: &Node) -> BTreeMap<String, Vec<String>> {
        let mut out = BTreeMap::new();
        let Some(n) = root.get("aliases") else {
            return out;
        };
        let Some(obj) = n.as_object() else {
            self.error(
                n.span,
                "field \"aliases\": expected a mapping of tool name to id or ids".into(),
            );
            return out;
        };
        for entry in &obj.entries {
            let mut ids = Vec::new();
            for item in entry.value.items() {
                match &item.value {
                    Value::String(s) => ids.push(s.clone()),
                    Value::Number(num) => ids.push(num.to_string()),
                    _ => self.error(
                        item.span,
                        format!(
                            "field \"aliases.{}\": expected an id or a list of ids",
                            entry.key
                        ),
                    ),
                }
            }
            out.insert(entry.key.clone(), ids);
        }
        out
    }

    /// One rule: `select`, `flag`, optional `report_at` and `message`, read
    /// from `node` (a query without `rules:` is its own one rule). Field
    /// names in errors start with `prefix` (`rules[1].`).
    fn rule(&mut self, node: &Node, prefix: &str, default_message: Option<&Node>) -> Option<Rule> {
        if !prefix.is_empty() {
            for e in node
                .as_object()
                .map(|o| o.entries.as_slice())
                .unwrap_or_default()
            {
                if !RULE_FIELDS.contains(&e.key.as_str()) {
                    self.error(
                        e.key_span,
                        format!(
                            "{prefix}{}: unknown field: a rule has {}",
                            e.key,
                            RULE_FIELDS.join(", ")
                        ),
                    );
                }
            }
        }
        let selected = self.select(node, prefix);
        self.platform = selected.as_ref().map(|(p, _)| *p);
        let condition = match node.entry("flag") {
            Some(e) => {
                self.condition(&e.value, &format!("{prefix}flag"))
                    .and_then(|flag| match node.get("report_at") {
                        Some(at) => Some(Condition::ReportAt {
                            condition: Box::new(flag),
                            at: self.report_at(at, &format!("{prefix}report_at"))?,
                        }),
                        None => Some(flag),
                    })
            }
            None => {
                self.error(
                    node.span,
                    format!(
                        "missing field \"{prefix}flag\": the condition under which the query fires"
                    ),
                );
                None
            }
        };
        let message_node = node.get("message").or(default_message);
        let message = match message_node {
            Some(m) => match m.as_str().map(Message::parse) {
                Some(Ok(message)) => Some(message),
                Some(Err(e)) => {
                    self.error(m.span, format!("field \"{prefix}message\": {e}"));
                    None
                }
                None => {
                    self.error(m.span, format!("field \"{prefix}message\": expected text"));
                    None
                }
            },
            None => {
                self.error(
                    node.span,
                    format!("missing field \"{prefix}message\": what the finding says"),
                );
                None
            }
        };
        let (platform, select) = selected?;
        Some(Rule {
            platform,
            select,
            condition: condition?,
            message: message?,
        })
    }

    /// `select: <platform> <kind>` or a list of such.
    fn select(&mut self, root: &Node, prefix: &str) -> Option<(Platform, Vec<String>)> {
        let Some(n) = root.get("select") else {
            self.error(
                root.span,
                format!("missing field \"{prefix}select\": \"<platform> <entity kind>\""),
            );
            return None;
        };
        let mut platform = None;
        let mut kinds = Vec::new();
        for item in n.items() {
            let Some(text) = item.as_str() else {
                self.error(
                    item.span,
                    format!("field \"{prefix}select\": expected \"<platform> <entity kind>\""),
                );
                continue;
            };
            let mut words = text.split_whitespace();
            let (Some(p), Some(kind), None) = (words.next(), words.next(), words.next()) else {
                self.error(
                    item.span,
                    format!(
                        "field \"{prefix}select\": \"{text}\" is not \"<platform> <entity kind>\""
                    ),
                );
                continue;
            };
            let Some(p) = Platform::ALL.into_iter().find(|x| x.name() == p) else {
                self.error(
                    item.span,
                    format!(
                        "field \"{prefix}select\": unknown platform \"{p}\": expected {}",
                        Platform::ALL.map(Platform::name).join(", ")
                    ),
                );
                continue;
            };
            if platform.is_some_and(|q| q != p) {
                self.error(
                    item.span,
                    format!("field \"{prefix}select\": a rule selects entities of one platform (give each platform its own rule under \"rules\")"),
                );
            }
            platform = Some(p);
            self.check_type(p, kind, item.span, &format!("field \"{prefix}select\""));
            kinds.push(kind.to_string());
        }
        if kinds.is_empty() && self.errors.is_empty() {
            self.error(n.span, format!("field \"{prefix}select\": selects nothing"));
        }
        platform.map(|p| (p, kinds))
    }

    /// Warns when `kind` selects a resource type rampart does not know.
    fn check_type(&mut self, platform: Platform, kind: &str, span: Span, field: &str) {
        if let Some(why) = super::known_types::unknown(platform, kind) {
            self.warnings.push(super::UnknownType {
                platform,
                kind: kind.to_string(),
                warning: LoadError {
                    file: self.source.to_string(),
                    line: span.start_line,
                    column: span.start_col,
                    message: format!(
                        "{field}: {why} (a query selecting it never fires; set allow_unknown_type: true if the type is right)"
                    ),
                },
            });
        }
    }

    fn path(&mut self, node: &Node, field: &str) -> Option<Path> {
        let Some(text) = node.as_str() else {
            self.error(
                node.span,
                format!("{field}: expected a path such as spec.containers[*].image"),
            );
            return None;
        };
        Path::parse(text)
            .map_err(|e| self.error(node.span, format!("{field}: {e}")))
            .ok()
    }

    fn condition(&mut self, node: &Node, field: &str) -> Option<Condition> {
        if let Value::Array(items) = &node.value {
            let parts: Vec<_> = items
                .iter()
                .filter_map(|i| self.condition(i, field))
                .collect();
            return (parts.len() == items.len()).then_some(Condition::All(parts));
        }
        let Some(obj) = node.as_object() else {
            self.error(node.span, format!("{field}: expected a condition (a mapping such as {{path: acl, equals: private}})"));
            return None;
        };
        let operator = obj
            .entries
            .iter()
            .find(|e| OPERATORS.contains(&e.key.as_str()));
        let Some(operator) = operator else {
            self.error(
                node.span,
                format!(
                    "{field}: no operator: a condition starts with one of {}",
                    OPERATORS.join(", ")
                ),
            );
            return None;
        };
        let here = format!("{field}.{}", operator.key);
        let allowed: &[&str] = match operator.key.as_str() {
            "all"
            | "any"
            | "not"
            | "port_range_includes"
            | "referenced_by"
            | "any_entity"
            | "parameter_set"
            | "selected_by"
            | "references" => &[],
            "path" => &TESTS,
            _ => &["where", "matching"],
        };
        let condition = self.operator(node, obj, operator, allowed, &here, field)?;
        match obj.get("report_at") {
            Some(at) => Some(Condition::ReportAt {
                condition: Box::new(condition),
                at: self.report_at(at, &format!("{field}.report_at"))?,
            }),
            None => Some(condition),
        }
    }

    /// `report_at:` where a finding points when the condition beside it
    /// matches: `entity`, `.` (what is in scope), or a path.
    fn report_at(&mut self, node: &Node, field: &str) -> Option<ReportAt> {
        match node.as_str() {
            Some("entity") => Some(ReportAt::Entity),
            Some(".") => Some(ReportAt::Scope),
            Some(_) => self.path(node, field).map(ReportAt::Path),
            None => {
                self.error(node.span, format!("{field}: expected entity, . or a path"));
                None
            }
        }
    }

    fn operator(
        &mut self,
        node: &Node,
        obj: &crate::tree::Object,
        operator: &crate::tree::Entry,
        allowed: &[&str],
        here: &str,
        field: &str,
    ) -> Option<Condition> {
        for e in &obj.entries {
            if e.key != operator.key && e.key != "report_at" && !allowed.contains(&e.key.as_str()) {
                self.error(
                    e.key_span,
                    format!(
                        "{field}: \"{}\" does not go with \"{}\"",
                        e.key, operator.key
                    ),
                );
            }
        }
        match operator.key.as_str() {
            "all" | "any" => {
                let items = operator.value.as_array().unwrap_or_default();
                if items.is_empty() {
                    self.error(
                        operator.value.span,
                        format!("{here}: expected a non-empty list of conditions"),
                    );
                    return None;
                }
                let parts: Vec<_> = items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, c)| self.condition(c, &format!("{here}[{i}]")))
                    .collect();
                if parts.len() != items.len() {
                    return None;
                }
                Some(if operator.key == "all" {
                    Condition::All(parts)
                } else {
                    Condition::Any(parts)
                })
            }
            "not" => {
                // Double negations once steered where a finding points;
                // `report_at` says it plainly.
                let inner = operator.value.as_object();
                let nested = inner
                    .and_then(|o| o.entries.first())
                    .map(|e| e.key.as_str());
                match nested {
                    Some("not") => {
                        self.error(
                            operator.value.span,
                            format!("{here}: \"not\" of \"not\" is the condition itself: write it, with report_at: to say where the finding points"),
                        );
                        return None;
                    }
                    Some("no_item") => {
                        self.error(
                            operator.value.span,
                            format!("{here}: \"not\" of \"no_item\": write \"any_item\" (with report_at: to say where the finding points)"),
                        );
                        return None;
                    }
                    _ => {}
                }
                Some(Condition::Not(Box::new(
                    self.condition(&operator.value, here)?,
                )))
            }
            "path" => self.test(node, obj, &operator.value, here),
            "parameter_set" => {
                // Decided now, for this run's values: a check a team
                // switches on by filling in a list.
                let name = operator.value.as_str().unwrap_or_default();
                let set = self.param(&operator.value, name, here)?.value.is_set();
                Some(if set {
                    Condition::All(Vec::new())
                } else {
                    Condition::Any(Vec::new())
                })
            }
            "any_item" | "all_items" | "no_item" | "last_item" | "any_entry" | "all_but_last" => {
                let quantifier = match operator.key.as_str() {
                    "any_item" => Quantifier::AnyItem,
                    "any_entry" => Quantifier::AnyEntry,
                    "all_but_last" => Quantifier::AllButLast,
                    "all_items" => Quantifier::AllItems,
                    "no_item" => Quantifier::NoItem,
                    _ => Quantifier::LastItem,
                };
                let path = self.path(&operator.value, here)?;
                let filter = match obj.get("matching") {
                    Some(n) => Some(Box::new(self.condition(n, &format!("{here}.matching"))?)),
                    None => None,
                };
                let condition = match obj.get("where") {
                    Some(n) => Some(Box::new(self.condition(n, &format!("{here}.where"))?)),
                    None => None,
                };
                if condition.is_none() && filter.is_none() {
                    self.error(
                        node.span,
                        format!("{here}: needs \"where\" (or \"matching\")"),
                    );
                    return None;
                }
                Some(Condition::Items {
                    quantifier,
                    path,
                    filter,
                    condition,
                })
            }
            "port_range_includes" => self.port_range(&operator.value, here),
            "selected_by" => {
                let v = &operator.value;
                for e in v
                    .as_object()
                    .map(|o| o.entries.as_slice())
                    .unwrap_or_default()
                {
                    if e.key != "select" {
                        self.error(
                            e.key_span,
                            format!(
                                "{here}: unknown key \"{}\": expected select (the selecting entity is read as its selector alone; no where)",
                                e.key
                            ),
                        );
                    }
                }
                match v.get("select").and_then(Node::as_str) {
                    Some(kind) => Some(Condition::SelectedBy {
                        kind: kind.to_string(),
                    }),
                    None => {
                        self.error(
                            v.span,
                            format!("{here}: needs \"select\", the kind of the selecting entity"),
                        );
                        None
                    }
                }
            }
            "referenced_by" | "references" | "any_entity" => {
                let v = &operator.value;
                let kind = match v.get("select").and_then(Node::as_str) {
                    Some(k) => {
                        if let (Some(platform), Some(at)) = (self.platform, v.get("select")) {
                            self.check_type(platform, k, at.span, &format!("{here}.select"));
                        }
                        k.to_string()
                    }
                    None => {
                        self.error(
                            v.span,
                            format!("{here}: needs \"select\", the kind of the other entity"),
                        );
                        return None;
                    }
                };
                let outgoing = operator.key == "references";
                let reference = match (v.get("path"), operator.key.as_str()) {
                    (Some(p), "referenced_by" | "references") => {
                        Some(self.path(p, &format!("{here}.path"))?)
                    }
                    (None, "referenced_by" | "references") => {
                        self.error(
                            v.span,
                            format!("{here}: needs \"path\", where the reference is written"),
                        );
                        return None;
                    }
                    _ => None,
                };
                let condition = match v.get("where") {
                    Some(n) => Some(Box::new(self.condition(n, &format!("{here}.where"))?)),
                    None => None,
                };
                let keys: &[&str] = if operator.key != "any_entity" {
                    &["select", "path", "where"]
                } else {
                    &["select", "where"]
                };
                for e in v
                    .as_object()
                    .map(|o| o.entries.as_slice())
                    .unwrap_or_default()
                {
                    if !keys.contains(&e.key.as_str()) {
                        self.error(
                            e.key_span,
                            format!(
                                "{here}: unknown key \"{}\": expected {}",
                                e.key,
                                keys.join(", ")
                            ),
                        );
                    }
                }
                Some(Condition::Related {
                    kind,
                    reference,
                    outgoing,
                    condition,
                })
            }
            _ => None,
        }
    }

    fn test(
        &mut self,
        node: &Node,
        obj: &crate::tree::Object,
        path_node: &Node,
        here: &str,
    ) -> Option<Condition> {
        let mut paths = Vec::new();
        for p in path_node.items() {
            paths.push(self.path(p, here)?);
        }
        if paths.is_empty() {
            self.error(
                path_node.span,
                format!("{here}: expected a path or a list of paths"),
            );
            return None;
        }
        let tests: Vec<_> = obj
            .entries
            .iter()
            .filter(|e| TESTS.contains(&e.key.as_str()))
            .collect();
        let [entry] = tests.as_slice() else {
            self.error(
                node.span,
                format!("{here}: expected exactly one test of {}", TESTS.join(", ")),
            );
            return None;
        };
        let field = format!("{here}.{}", entry.key);
        let v = &entry.value;
        // `{param: NAME}` in place of a literal: the parameter's value in
        // force, resolved now.
        let param = match param_reference(v) {
            Some(name) => Some(self.param(v, name, &field)?.value.clone()),
            None => None,
        };
        let flag = |c: &mut Self| -> Option<()> {
            if v.as_bool() == Some(true) {
                Some(())
            } else {
                c.error(v.span, format!("{field}: write \"{}: true\"", entry.key));
                None
            }
        };
        let scalar = |c: &mut Self| -> Option<Scalar> {
            let s = match &param {
                Some(ParamValue::Scalar(s)) => Some(s.clone()),
                Some(ParamValue::List(_)) => None,
                None => scalar_of(v),
            };
            if s.is_none() {
                c.error(
                    v.span,
                    format!("{field}: expected a string, number, boolean or null"),
                );
            }
            s
        };
        let scalars = |c: &mut Self| -> Option<Vec<Scalar>> {
            match &param {
                // A team's list may be empty: `in` then matches nothing.
                Some(ParamValue::List(items)) => return Some(items.clone()),
                Some(ParamValue::Scalar(_)) => {
                    c.error(v.span, format!("{field}: expected a list parameter"));
                    return None;
                }
                None => {}
            }
            let items = v.as_array().unwrap_or_default();
            let out: Vec<_> = items.iter().filter_map(scalar_of).collect();
            if items.is_empty() || out.len() != items.len() {
                c.error(
                    v.span,
                    format!("{field}: expected a list of strings, numbers or booleans"),
                );
                return None;
            }
            Some(out)
        };
        let prefixes = |c: &mut Self| -> Option<Vec<String>> {
            let strings: Option<Vec<String>> = scalars(c)?
                .into_iter()
                .map(|s| match s {
                    Scalar::String(s) => Some(s),
                    _ => None,
                })
                .collect();
            if strings.is_none() {
                c.error(v.span, format!("{field}: expected a list of strings"));
            }
            strings
        };
        let regex = |c: &mut Self| -> Option<Regex> {
            let text = match &param {
                Some(ParamValue::Scalar(Scalar::String(s))) => Some(s.as_str()),
                Some(_) => None,
                None => v.as_str(),
            };
            let Some(text) = text else {
                c.error(v.span, format!("{field}: expected a regular expression"));
                return None;
            };
            Regex::new(text)
                .map_err(|e| c.error(v.span, format!("{field}: invalid regex: {e}")))
                .ok()
        };
        let bound = |c: &mut Self, ord: Ordering| -> Option<Test> {
            let n = match &param {
                Some(ParamValue::Scalar(Scalar::Number(n))) => Some(*n),
                Some(_) => None,
                None => v.as_number().map(|n| n.as_f64()),
            };
            match n {
                Some(n) => Some(Test::Compare(ord, n)),
                None => {
                    c.error(v.span, format!("{field}: expected a number"));
                    None
                }
            }
        };
        let test = match entry.key.as_str() {
            "exists" => flag(self).map(|_| Test::Exists),
            "missing" => flag(self).map(|_| Test::Missing),
            "is_empty" => flag(self).map(|_| Test::IsEmpty),
            "cidr_open_to_world" => flag(self).map(|_| Test::CidrOpenToWorld),
            "equals_path" => self.path(v, &field).map(Test::EqualsPath),
            "is_true" => flag(self).map(|_| Test::Equals(Scalar::Bool(true))),
            "equals" => scalar(self).map(Test::Equals),
            "not_equals" => scalar(self).map(Test::NotEquals),
            "contains" => scalar(self).map(Test::Contains),
            "in" => scalars(self).map(Test::In),
            "not_in" => scalars(self).map(Test::NotIn),
            "starts_with" => prefixes(self).map(Test::StartsWith),
            "not_starts_with" => prefixes(self).map(Test::NotStartsWith),
            "matches" => regex(self).map(Test::Matches),
            "not_matches" => regex(self).map(Test::NotMatches),
            "gt" => bound(self, Ordering::Greater),
            "gte" => bound(self, Ordering::GreaterOrEqual),
            "lt" => bound(self, Ordering::Less),
            "lte" => bound(self, Ordering::LessOrEqual),
            _ => None,
        }?;
        Some(Condition::Test { paths, test })
    }

    /// The declared parameter `name`, referred to at `at`.
    fn param(&mut self, at: &Node, name: &str, field: &str) -> Option<&Parameter> {
        if !self.params.contains_key(name) {
            let declared: Vec<&str> = self.params.keys().map(String::as_str).collect();
            self.error(
                at.span,
                format!(
                    "{field}: unknown parameter \"{name}\": declared: {}",
                    if declared.is_empty() {
                        "none (declare it under \"parameters\")".to_string()
                    } else {
                        declared.join(", ")
                    }
                ),
            );
        }
        self.params.get(name)
    }

    /// `parameters:`: each name's type, default and description, and the
    /// value in force (`overrides` from a settings file, checked here).
    fn parameters(
        &mut self,
        root: &Node,
        id: &str,
        overrides: Option<&BTreeMap<String, Override>>,
    ) {
        if let Some(n) = root.get("parameters") {
            match n.as_object() {
                Some(obj) => {
                    for entry in &obj.entries {
                        if let Some(p) = self.parameter(&entry.key, &entry.value) {
                            self.params.insert(entry.key.clone(), p);
                        }
                    }
                }
                None => self.error(
                    n.span,
                    "field \"parameters\": expected a mapping of parameter name to {type, default, description}".into(),
                ),
            }
        }
        for (name, o) in overrides.into_iter().flatten() {
            let Some(p) = self.params.get_mut(name) else {
                let declared: Vec<&str> = self.params.keys().map(String::as_str).collect();
                self.errors.push(LoadError {
                    file: o.file.clone(),
                    line: o.node.span.start_line,
                    column: o.node.span.start_col,
                    message: format!(
                        "parameters.{id}: unknown parameter \"{name}\": {id} has {}",
                        if declared.is_empty() {
                            "no parameters".to_string()
                        } else {
                            declared.join(", ")
                        }
                    ),
                });
                continue;
            };
            match p.kind.read(&o.node) {
                Some(value) => {
                    p.value = value;
                    p.set_at = Some(o.describe());
                }
                None => self.errors.push(LoadError {
                    file: o.file.clone(),
                    line: o.node.span.start_line,
                    column: o.node.span.start_col,
                    message: format!("parameters.{id}.{name}: expected {}", p.kind.name()),
                }),
            }
        }
    }

    fn parameter(&mut self, name: &str, node: &Node) -> Option<Parameter> {
        let field = format!("parameters.{name}");
        let Some(obj) = node.as_object() else {
            self.error(
                node.span,
                format!("{field}: expected {{type, default, description}}"),
            );
            return None;
        };
        for e in &obj.entries {
            if !PARAMETER_FIELDS.contains(&e.key.as_str()) {
                self.error(
                    e.key_span,
                    format!(
                        "{field}: unknown field \"{}\": expected {}",
                        e.key,
                        PARAMETER_FIELDS.join(", ")
                    ),
                );
            }
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            self.error(
                node.span,
                format!("{field}: a parameter name is lowercase snake_case"),
            );
        }
        let kind = match node.get("type").and_then(Node::as_str) {
            Some(t) => match Kind::parse(t) {
                Some(k) => k,
                None => {
                    self.error(
                        node.span,
                        format!(
                            "{field}.type: \"{t}\": expected one of {}",
                            Kind::NAMES.join(", ")
                        ),
                    );
                    return None;
                }
            },
            None => {
                self.error(
                    node.span,
                    format!(
                        "{field}: missing \"type\": one of {}",
                        Kind::NAMES.join(", ")
                    ),
                );
                return None;
            }
        };
        let description = self.required_string(node, "description")?;
        let Some(default_node) = node.get("default") else {
            self.error(node.span, format!("{field}: missing \"default\""));
            return None;
        };
        let Some(default) = kind.read(default_node) else {
            self.error(
                default_node.span,
                format!("{field}.default: expected {}", kind.name()),
            );
            return None;
        };
        Some(Parameter {
            name: name.to_string(),
            kind,
            description,
            value: default.clone(),
            default,
            set_at: None,
        })
    }

    fn port_range(&mut self, v: &Node, here: &str) -> Option<Condition> {
        let Some(obj) = v.as_object() else {
            self.error(
                v.span,
                format!("{here}: expected {{from, to, protocol, port}} or {{range, port}}"),
            );
            return None;
        };
        let mut range = PortRange {
            from: None,
            to: None,
            protocol: None,
            range: None,
            port: 0,
        };
        let mut port = None;
        for e in &obj.entries {
            let field = format!("{here}.{}", e.key);
            match e.key.as_str() {
                "from" => range.from = Some(self.path(&e.value, &field)?),
                "to" => range.to = Some(self.path(&e.value, &field)?),
                "protocol" => range.protocol = Some(self.path(&e.value, &field)?),
                "range" => range.range = Some(self.path(&e.value, &field)?),
                "port" => match e.value.as_number().map(|n| n.as_f64()) {
                    Some(p) if (0.0..=65535.0).contains(&p) && p.fract() == 0.0 => {
                        port = Some(p as u32)
                    }
                    _ => self.error(e.value.span, format!("{field}: expected a port number")),
                },
                other => self.error(
                    e.key_span,
                    format!(
                        "{here}: unknown key \"{other}\": expected from, to, protocol, range, port"
                    ),
                ),
            }
        }
        let Some(port) = port else {
            self.error(v.span, format!("{here}: needs \"port\""));
            return None;
        };
        if range.range.is_none() && range.from.is_none() {
            self.error(
                v.span,
                format!("{here}: needs \"from\" and \"to\", or \"range\""),
            );
            return None;
        }
        range.port = port;
        Some(Condition::PortRange(range))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"id: tf-aws-s3-public-acl
title: S3 bucket readable by anyone
severity: high
category: access-control
cwe: [732]
description: A public ACL exposes every object.
remediation: Set acl to "private".
references: [https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html]
aliases: {checkov: CKV_AWS_20, trivy: [AVD-AWS-0092]}
select: terraform resource.aws_s3_bucket
flag:
  path: acl
  in: [public-read, public-read-write]
message: acl is {value}
"#;

    #[test]
    fn compiles_a_query() {
        let q = compile("q.yaml", GOOD).expect("compiles");
        assert_eq!(q.id, "tf-aws-s3-public-acl");
        assert_eq!(q.severity, Severity::High);
        assert_eq!(q.platforms(), vec![Platform::Terraform]);
        assert_eq!(q.rules[0].select, vec!["resource.aws_s3_bucket"]);
        assert_eq!(q.aliases["trivy"], vec!["AVD-AWS-0092"]);
        assert_eq!(q.cwe, vec![732]);
    }

    fn errors(text: &str) -> Vec<String> {
        compile("q.yaml", text)
            .map(|_| Vec::new())
            .unwrap_or_else(|e| e.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn a_key_written_twice_is_an_error_where_it_is_written_again() {
        // A second `flag:` would silently replace the first condition.
        let twice = GOOD.replace(
            "message: acl is {value}",
            "flag: {path: policy, missing: true}\nmessage: acl is {value}",
        );
        let line = twice
            .lines()
            .position(|l| l.starts_with("flag: {"))
            .expect("there")
            + 1;
        let first = twice.lines().position(|l| l == "flag:").expect("there") + 1;
        assert_eq!(
            errors(&twice),
            [format!(
                "q.yaml:{line}:1: invalid YAML: duplicate key (first written at line {first})"
            )]
        );
        // Nested mappings too: two `kics:` in `aliases`.
        let nested = GOOD.replace(
            "aliases: {checkov: CKV_AWS_20, trivy: [AVD-AWS-0092]}",
            "aliases:\n  kics: a\n  checkov: CKV_AWS_20\n  kics: b",
        );
        assert_eq!(errors(&nested).len(), 1, "{:?}", errors(&nested));
        assert!(errors(&nested)[0].contains("duplicate key"));
        // A scanned file keeps YAML's reading: the later key wins.
        let index = crate::tree::LineIndex::new("a: 1\na: 2\n");
        let parsed = crate::parse::yaml::parse("a: 1\na: 2\n", &index);
        assert!(parsed.errors.is_empty());
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let cases = [
            (
                GOOD.replace("severity: high", "severity: hgh"),
                "q.yaml:3:11: field \"severity\": invalid severity \"hgh\": expected one of critical, high, medium, low, info",
            ),
            (
                GOOD.replace("title:", "titel:"),
                "q.yaml:2:1: unknown field \"titel\"",
            ),
            (
                GOOD.replace("  in: [public-read", "  in_list: [public-read"),
                "q.yaml:12:3: flag.path: expected exactly one test of",
            ),
            (
                GOOD.replace("path: acl", "path: acl[x]"),
                "q.yaml:12:9: flag.path: \"[x]\" in \"acl[x]\": expected [*] or a number",
            ),
            (
                GOOD.replace("id: tf-aws", "id: k8s-aws"),
                "q.yaml:1:5: field \"id\": a terraform query id starts with \"tf-\"",
            ),
            (
                GOOD.replace("message: acl is {value}", "message: acl is {val}"),
                "q.yaml:14:10: field \"message\": unknown placeholder \"{val}\"",
            ),
            (
                GOOD.replace("select: terraform", "select: terraform2"),
                "q.yaml:10:9: field \"select\": unknown platform \"terraform2\"",
            ),
            (
                GOOD.replace(
                    "flag:\n  path: acl",
                    "flag:\n  not: {not: {path: acl}}\n  x: acl",
                ),
                "q.yaml:12:8: flag.not: \"not\" of \"not\" is the condition itself",
            ),
            (
                GOOD.replace("message:", "report_at: 3\nmessage:"),
                "q.yaml:14:12: report_at: expected entity, . or a path",
            ),
        ];
        for (text, want) in cases {
            let got = errors(&text);
            assert!(
                got.iter().any(|e| e.starts_with(want)),
                "want {want}\n got {got:#?}"
            );
        }
    }

    #[test]
    fn report_at_wraps_the_condition() {
        let q = compile(
            "q.yaml",
            &GOOD.replace("message:", "report_at: entity\nmessage:"),
        )
        .expect("compiles");
        assert!(matches!(
            q.rules[0].condition,
            Condition::ReportAt {
                at: ReportAt::Entity,
                ..
            }
        ));
        let q = compile(
            "q.yaml",
            &GOOD.replace("  in: [public-read", "  report_at: .\n  in: [public-read"),
        )
        .expect("compiles");
        assert!(matches!(
            q.rules[0].condition,
            Condition::ReportAt {
                at: ReportAt::Scope,
                ..
            }
        ));
    }

    #[test]
    fn regexes_compile_at_load() {
        let text = GOOD.replace(
            "  in: [public-read, public-read-write]",
            "  matches: \"(unclosed\"",
        );
        let got = errors(&text);
        assert!(
            got[0].contains("flag.path.matches: invalid regex"),
            "{got:?}"
        );
    }

    const TUNED: &str = r#"id: k8s-q-tuned
title: t
severity: low
category: c
cwe: [1]
description: d
remediation: r
parameters:
  allowed:
    type: strings
    default: [a, b]
    description: what is allowed
select: kubernetes container
flag:
  path: image
  not_in: {param: allowed}
message: m
"#;

    #[test]
    fn parameters_resolve_at_compile_time() {
        let q = compile("q.yaml", TUNED).expect("compiles");
        assert_eq!(q.parameters.len(), 1);
        let expect = |c: &Condition, want: &[&str]| match c {
            Condition::Test {
                test: Test::NotIn(set),
                ..
            } => assert_eq!(
                set,
                &want
                    .iter()
                    .map(|s| Scalar::String(s.to_string()))
                    .collect::<Vec<_>>()
            ),
            other => panic!("{other:?}"),
        };
        expect(&q.rules[0].condition, &["a", "b"]);
        let text = "x:\n  allowed: [c]\n";
        let index = LineIndex::new(text);
        let doc = yaml::parse(text, &index).documents.remove(0);
        let overrides: BTreeMap<String, Override> = [(
            "allowed".to_string(),
            Override {
                node: doc
                    .get("x")
                    .and_then(|x| x.get("allowed"))
                    .cloned()
                    .expect("node"),
                file: "s.yaml".into(),
                owner: Default::default(),
                replaces: None,
            },
        )]
        .into();
        let q = compile_with("q.yaml", TUNED, Some(&overrides)).expect("compiles");
        expect(&q.rules[0].condition, &["c"]);
        assert_eq!(q.parameters[0].set_at.as_deref(), Some("s.yaml:2:12"));
    }

    #[test]
    fn parameter_errors_name_the_parameter() {
        let got = errors(&TUNED.replace("{param: allowed}", "{param: alowed}"));
        assert!(
            got[0].contains("flag.path.not_in: unknown parameter \"alowed\": declared: allowed"),
            "{got:?}"
        );
        let got = errors(&TUNED.replace("default: [a, b]", "default: a"));
        assert!(
            got[0].contains("parameters.allowed.default: expected a list of strings"),
            "{got:?}"
        );
        let got = errors(&TUNED.replace("type: strings", "type: list"));
        assert!(
            got[0].contains("parameters.allowed.type: \"list\""),
            "{got:?}"
        );
        let got = errors(&TUNED.replace("not_in: {param: allowed}", "equals: {param: allowed}"));
        assert!(
            got[0].contains("flag.path.equals: expected a string, number, boolean or null"),
            "{got:?}"
        );
    }
}
