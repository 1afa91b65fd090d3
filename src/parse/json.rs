//! JSON (CloudFormation templates, `.tf.json`, Kubernetes manifests written
//! as JSON) into the common tree, with jsonc-parser, which gives every value
//! and every key a byte range.

use jsonc_parser::ast::{ObjectPropName, Value as JsonValue};
use jsonc_parser::common::Ranged;
use jsonc_parser::{CollectOptions, ParseOptions, parse_to_ast};

use crate::parse::{ParseError, Parsed};
use crate::tree::{Entry, LineIndex, Node, Number, Object, Span, Value};

/// How string values are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strings {
    /// As plain strings.
    Plain,
    /// As Terraform templates: `"${var.x}"` becomes an expression with its
    /// references, as in Terraform's JSON syntax.
    TerraformTemplates,
}

/// Parses a JSON document. `index` was built over `text`.
pub fn parse(text: &str, index: &LineIndex, strings: Strings) -> Parsed {
    if let Some(offset) = super::find_excessive_nesting(text, super::MAX_DEPTH) {
        let (line, column) = index.position(offset);
        return Parsed::failed(ParseError::new(
            line,
            column,
            format!("nesting deeper than {} levels", super::MAX_DEPTH),
        ));
    }
    match parse_to_ast(text, &CollectOptions::default(), &ParseOptions::default()) {
        Ok(result) => match result.value {
            Some(value) => Parsed::one(convert(&value, index, strings)),
            None => Parsed::failed(ParseError::new(1, 1, "empty JSON document")),
        },
        Err(err) => {
            let (line, column) = index.position(err.range().start);
            Parsed::failed(ParseError::new(
                line,
                column,
                format!("invalid JSON: {}", lowercase_first(&err.kind().to_string())),
            ))
        }
    }
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn span(index: &LineIndex, range: jsonc_parser::common::Range) -> Span {
    index.span(range.start, range.end)
}

fn convert(value: &JsonValue, index: &LineIndex, strings: Strings) -> Node {
    let at = span(index, value.range());
    let value = match value {
        JsonValue::NullKeyword(_) => Value::Null,
        JsonValue::BooleanLit(b) => Value::Bool(b.value),
        JsonValue::NumberLit(n) => match Number::parse(n.value) {
            Some(num) => Value::Number(num),
            // Hex, `+1`, `Infinity`: keep the text rather than guess.
            None => Value::String(n.value.to_string()),
        },
        JsonValue::StringLit(s) => match strings {
            Strings::Plain => Value::String(s.value.to_string()),
            Strings::TerraformTemplates => return super::hcl::json_string_value(&s.value, at),
        },
        JsonValue::Array(a) => Value::Array(
            a.elements
                .iter()
                .map(|e| convert(e, index, strings))
                .collect(),
        ),
        JsonValue::Object(o) => Value::Object(Object {
            entries: o
                .properties
                .iter()
                .map(|p| Entry {
                    key: match &p.name {
                        ObjectPropName::String(s) => s.value.to_string(),
                        ObjectPropName::Word(w) => w.value.to_string(),
                    },
                    key_span: span(index, p.name.range()),
                    value: convert(&p.value, index, strings),
                })
                .collect(),
        }),
    };
    Node::new(value, at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_one(text: &str, strings: Strings) -> Node {
        let index = LineIndex::new(text);
        let mut parsed = parse(text, &index, strings);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        parsed.documents.remove(0)
    }

    #[test]
    fn values_and_keys_have_spans() {
        let text = "{\n  \"Resources\": {\n    \"Bucket\": {\"Type\": \"AWS::S3::Bucket\", \"n\": 3}\n  }\n}\n";
        let root = parse_one(text, Strings::Plain);
        let bucket = root
            .get("Resources")
            .and_then(|r| r.get("Bucket"))
            .expect("bucket");
        let ty = bucket.get("Type").expect("type");
        assert_eq!(ty.as_str(), Some("AWS::S3::Bucket"));
        assert_eq!(
            (ty.span.start_line, ty.span.start_col, ty.span.end_col),
            (3, 24, 41)
        );
        assert_eq!(&text[ty.span.range()], "\"AWS::S3::Bucket\"");
        let entry = root
            .as_object()
            .and_then(|o| o.entry("Resources"))
            .expect("entry");
        assert_eq!(
            (entry.key_span.start_line, entry.key_span.start_col),
            (2, 3)
        );
        assert_eq!(
            bucket.get("n").and_then(Node::as_number),
            Some(Number::Int(3))
        );
    }

    #[test]
    fn non_ascii_counts_characters_in_columns_and_bytes_in_ranges() {
        let text = "{\"é\": \"x\"}";
        let root = parse_one(text, Strings::Plain);
        let x = root.get("é").expect("x");
        assert_eq!(x.span.start_col, 7);
        assert_eq!(&text[x.span.range()], "\"x\"");
    }

    #[test]
    fn terraform_json_strings_are_templates() {
        let text = r#"{"resource": {"aws_s3_bucket": {"b": {"acl": "${var.acl}"}}}}"#;
        let root = parse_one(text, Strings::TerraformTemplates);
        let acl = root
            .get("resource")
            .and_then(|n| n.get("aws_s3_bucket"))
            .and_then(|n| n.get("b"))
            .and_then(|n| n.get("acl"))
            .and_then(Node::as_expr)
            .expect("expression");
        assert_eq!(acl.references, vec!["var.acl"]);
    }

    #[test]
    fn errors_name_the_line() {
        let text = "{\n  \"a\": 1,\n  \"b\": ]\n}";
        let index = LineIndex::new(text);
        let parsed = parse(text, &index, Strings::Plain);
        assert_eq!(parsed.errors.len(), 1);
        assert_eq!(parsed.errors[0].line, 3);
        assert!(parsed.errors[0].message.starts_with("invalid JSON"));
    }
}
