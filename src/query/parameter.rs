//! Tunable parameters: a query declares named, typed values with defaults
//! (`parameters: {trusted_registries: {type: strings, default: [], description: ...}}`),
//! its conditions refer to them (`not_starts_with: {param: trusted_registries}`),
//! and a team's settings file overrides them under the query id
//! (`parameters: {k8s-image-untrusted-registry: {trusted_registries: [...]}}`),
//! as does the security team's exceptions file, whose values win: policy is
//! the security team's, apart from application repositories.
//!
//! References are resolved when the query is compiled, against the values
//! in force for that run: a condition holds plain literals, never a name
//! looked up while matching.

use std::collections::BTreeMap;

use super::condition::{Scalar, scalar_of};
use crate::tree::{Node, Value};

/// The type a parameter declares (`type:` in the query file).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `string`
    String,
    /// `number`
    Number,
    /// `boolean`
    Boolean,
    /// `strings`: a list of strings.
    Strings,
    /// `numbers`: a list of numbers.
    Numbers,
}

impl Kind {
    /// Every type, as written.
    pub const NAMES: [&'static str; 5] = ["string", "number", "boolean", "strings", "numbers"];

    /// Parses a `type:`.
    pub fn parse(text: &str) -> Option<Kind> {
        Some(match text {
            "string" => Kind::String,
            "number" => Kind::Number,
            "boolean" => Kind::Boolean,
            "strings" => Kind::Strings,
            "numbers" => Kind::Numbers,
            _ => return None,
        })
    }

    /// The type as written, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Kind::String => "a string",
            Kind::Number => "a number",
            Kind::Boolean => "true or false",
            Kind::Strings => "a list of strings",
            Kind::Numbers => "a list of numbers",
        }
    }

    /// Whether the type is a list.
    pub fn is_list(self) -> bool {
        matches!(self, Kind::Strings | Kind::Numbers)
    }

    /// `node` read as a value of this type, or `None` when it is not one.
    pub fn read(self, node: &Node) -> Option<ParamValue> {
        let one = |n: &Node, list: bool| -> Option<Scalar> {
            let s = scalar_of(n)?;
            let fits = match (self, &s) {
                (Kind::String | Kind::Strings, Scalar::String(_)) => true,
                (Kind::Number | Kind::Numbers, Scalar::Number(_)) => true,
                (Kind::Boolean, Scalar::Bool(_)) => !list,
                _ => false,
            };
            fits.then_some(s)
        };
        if self.is_list() {
            let Value::Array(items) = &node.value else {
                return None;
            };
            let values: Option<Vec<Scalar>> = items.iter().map(|i| one(i, true)).collect();
            values.map(ParamValue::List)
        } else {
            one(node, false).map(ParamValue::Scalar)
        }
    }
}

/// A parameter's value: one literal, or a list of them.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamValue {
    /// `string`, `number`, `boolean`.
    Scalar(Scalar),
    /// `strings`, `numbers`.
    List(Vec<Scalar>),
}

impl ParamValue {
    /// Whether the value switches its checks on: a non-empty list or
    /// string, `true`, any number.
    pub fn is_set(&self) -> bool {
        match self {
            ParamValue::List(items) => !items.is_empty(),
            ParamValue::Scalar(Scalar::String(s)) => !s.is_empty(),
            ParamValue::Scalar(Scalar::Bool(b)) => *b,
            ParamValue::Scalar(Scalar::Number(_)) => true,
            ParamValue::Scalar(Scalar::Null) => false,
        }
    }

    /// The value as YAML flow text (`[a, b]`, `"x"`, `3`), as `explain` shows it.
    pub fn render(&self) -> String {
        fn scalar(s: &Scalar) -> String {
            match s {
                Scalar::Null => "null".into(),
                Scalar::Bool(b) => b.to_string(),
                Scalar::Number(n) => crate::tree::Number::Float(*n).to_string(),
                Scalar::String(s) => format!("{s:?}"),
            }
        }
        match self {
            ParamValue::Scalar(s) => scalar(s),
            ParamValue::List(items) => {
                format!(
                    "[{}]",
                    items.iter().map(scalar).collect::<Vec<_>>().join(", ")
                )
            }
        }
    }
}

/// A declared parameter and the value in force.
#[derive(Clone, Debug, PartialEq)]
pub struct Parameter {
    /// Its name, as conditions and settings files write it.
    pub name: String,
    /// Its type.
    pub kind: Kind,
    /// What it means, for `explain`.
    pub description: String,
    /// The query's default.
    pub default: ParamValue,
    /// The value in force: the default, or a settings file's.
    pub value: ParamValue,
    /// Where the value in force was set (`file:line:column`, and for the
    /// exceptions file, what it overrules), when not the default.
    pub set_at: Option<String>,
}

/// One value a settings file sets for a query's parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    /// The value as written (checked against the declared type when the
    /// query is compiled).
    pub node: Node,
    /// The file that sets it.
    pub file: String,
    /// Whose file it is.
    pub owner: Owner,
    /// Where the value it replaced was set (`file:line:column`): a
    /// repository's value the exceptions file overrules.
    pub replaces: Option<String>,
}

/// Whose file sets a parameter, which decides precedence: the exceptions
/// file's value wins over the settings file's, which wins over the
/// query's default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Owner {
    /// The repository's `.rampart.yaml` (or `--config`).
    #[default]
    Settings,
    /// The security team's exceptions file (`--exceptions`).
    Exceptions,
}

impl Override {
    /// `file:line:column` of the value.
    pub fn origin(&self) -> String {
        format!(
            "{}:{}:{}",
            self.file, self.node.span.start_line, self.node.span.start_col
        )
    }

    /// Where the value was set, as `explain` shows it: its origin, and for
    /// the exceptions file, that it is the exceptions file and what it
    /// overrules.
    pub fn describe(&self) -> String {
        match (self.owner, &self.replaces) {
            (Owner::Settings, _) => self.origin(),
            (Owner::Exceptions, None) => format!("{}, the exceptions file", self.origin()),
            (Owner::Exceptions, Some(replaced)) => {
                format!("{}, the exceptions file, over {replaced}", self.origin())
            }
        }
    }
}

/// Values set by settings files: query id to parameter name to value.
pub type Overrides = BTreeMap<String, BTreeMap<String, Override>>;

/// A `parameters:` mapping (query id to parameter name to value) read from
/// `file`, owned by `owner`. The values are typed by the query that
/// declares them, so they are checked when the library is compiled; here
/// only the shape is. An error is the node it is about and a message.
pub fn read_overrides<'n>(
    file: &str,
    owner: Owner,
    v: &'n Node,
) -> Result<Overrides, (&'n Node, String)> {
    let mut out = Overrides::new();
    let Some(queries) = v.as_object() else {
        return Err((
            v,
            "\"parameters\": expected a mapping of query id to {parameter: value}".into(),
        ));
    };
    for query in &queries.entries {
        let Some(values) = query.value.as_object() else {
            return Err((
                &query.value,
                format!(
                    "\"parameters.{}\": expected a mapping of parameter name to value",
                    query.key
                ),
            ));
        };
        let slot = out.entry(query.key.clone()).or_default();
        for value in &values.entries {
            slot.insert(
                value.key.clone(),
                Override {
                    node: value.value.clone(),
                    file: file.to_string(),
                    owner,
                    replaces: None,
                },
            );
        }
    }
    Ok(out)
}

/// Lays `over` (the exceptions file's values) over `base` (the settings
/// file's): a value set in both is `over`'s, noting the one it replaced.
pub fn layer(base: &mut Overrides, over: &Overrides) {
    for (id, values) in over {
        let slot = base.entry(id.clone()).or_default();
        for (name, value) in values {
            let replaces = slot.get(name).map(Override::origin);
            slot.insert(
                name.clone(),
                Override {
                    replaces,
                    ..value.clone()
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::parse::yaml::first_document as node;

    #[test]
    fn values_are_read_by_type() {
        assert_eq!(
            Kind::Strings.read(&node("[a, b]")),
            Some(ParamValue::List(vec![
                Scalar::String("a".into()),
                Scalar::String("b".into())
            ]))
        );
        assert_eq!(Kind::Strings.read(&node("[a, 1]")), None);
        assert_eq!(Kind::Strings.read(&node("a")), None);
        assert_eq!(
            Kind::Number.read(&node("3")),
            Some(ParamValue::Scalar(Scalar::Number(3.0)))
        );
        assert_eq!(Kind::Number.read(&node("\"3\"")), None);
        assert_eq!(Kind::Boolean.read(&node("[true]")), None);
    }

    #[test]
    fn set_and_rendered() {
        assert!(!ParamValue::List(vec![]).is_set());
        let v = Kind::Strings.read(&node("[ghcr.io/acme/]")).expect("reads");
        assert!(v.is_set());
        assert_eq!(v.render(), "[\"ghcr.io/acme/\"]");
    }
}
