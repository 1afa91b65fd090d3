//! Terraform native syntax (`.tf`) into the common tree, with hcl-edit.
//!
//! The file becomes one object in the shape Terraform's own JSON syntax
//! uses, so `.tf` and `.tf.json` reach the platform model alike:
//!
//! - an attribute is an entry whose value is the converted expression;
//! - a block `resource "aws_s3_bucket" "logs" { ... }` is an entry
//!   `resource` whose value nests one object per label
//!   (`{"aws_s3_bucket": {"logs": {...body...}}}`), each label being a key
//!   with its own span;
//! - a block type written more than once in one body becomes an array of
//!   those values, in source order (two `ingress` blocks are an array of two
//!   objects, the same shape as a list attribute).
//!
//! Literal expressions become literal nodes. Anything else (references,
//! function calls, templates with interpolations, conditionals, `for`) is an
//! [`Expression`] node that keeps its source text, what it refers to, and the
//! literal parts of templates and heredocs.

use std::collections::HashSet;

use hcl_edit::expr::{Expression as HclExpr, ObjectKey, TraversalOperator};
use hcl_edit::structure::{Block, BlockLabel, Body, Structure};
use hcl_edit::template::{Element, Template};
use hcl_edit::visit::{self, Visit};
use hcl_edit::{Ident, Span as _};

use crate::parse::{ParseError, Parsed};
use crate::tree::{Entry, Expression, LineIndex, Node, Number, Object, Span, Value};

/// Parses a `.tf` file. `index` was built over `text`.
pub fn parse(text: &str, index: &LineIndex) -> Parsed {
    if let Some(offset) = super::find_excessive_nesting(text, super::MAX_DEPTH) {
        let (line, column) = index.position(offset);
        return Parsed::failed(ParseError::new(
            line,
            column,
            format!("nesting deeper than {} levels", super::MAX_DEPTH),
        ));
    }
    match hcl_edit::parser::parse_body(text) {
        Ok(body) => {
            let converter = Converter { text, index };
            let whole = index.span(0, text.len());
            Parsed::one(Node::new(
                Value::Object(converter.body(&body, whole)),
                whole,
            ))
        }
        Err(err) => {
            let loc = err.location();
            // hcl-edit counts columns in bytes; re-derive from the offset so
            // columns agree with every other span.
            let (line, column) = index.position(loc.offset());
            Parsed::failed(ParseError::new(line, column, clean_message(err.message())))
        }
    }
}

/// Turns a template string written in `.tf.json` (`"${var.name}-logs"`) into
/// the node `.tf` would give it: a plain string when it interpolates nothing,
/// else an expression with its references.
pub fn json_string_value(raw: &str, span: Span) -> Node {
    if !raw.contains("${") && !raw.contains("%{") {
        return Node::new(Value::String(raw.to_string()), span);
    }
    match hcl_edit::parser::parse_template(raw) {
        Ok(template) => {
            let mut refs = References::default();
            refs.visit_template(&template);
            Node::new(
                Value::Expr(Box::new(Expression {
                    source: raw.to_string(),
                    references: refs.found,
                    literal_parts: literal_parts(&template),
                })),
                span,
            )
        }
        // Terraform would reject it too; keep the text so nothing is lost.
        Err(_) => Node::new(Value::String(raw.to_string()), span),
    }
}

fn clean_message(message: &str) -> String {
    let m = message.trim();
    if m.is_empty() {
        "invalid HCL syntax".to_string()
    } else {
        format!("invalid HCL syntax: {m}")
    }
}

struct Converter<'a> {
    text: &'a str,
    index: &'a LineIndex<'a>,
}

impl Converter<'_> {
    fn span_of(&self, range: Option<std::ops::Range<usize>>, fallback: Span) -> Span {
        match range {
            Some(r) => self.index.span(r.start, r.end),
            None => fallback,
        }
    }

    fn body(&self, body: &Body, fallback: Span) -> Object {
        let mut entries: Vec<Entry> = Vec::with_capacity(body.len());
        // Index into `entries` of each block type seen, so a repeated block
        // type joins the first one's entry as an array.
        let mut block_entries: Vec<(&str, usize)> = Vec::new();
        for structure in body.iter() {
            match structure {
                Structure::Attribute(attr) => {
                    let key_span = self.span_of(attr.key.span(), fallback);
                    let value = self.expr(&attr.value, fallback);
                    entries.push(Entry {
                        key: attr.key.as_str().to_string(),
                        key_span,
                        value,
                    });
                }
                Structure::Block(block) => {
                    let ident = block.ident.as_str();
                    let value = self.block(block, fallback);
                    match block_entries.iter().find(|(name, _)| *name == ident) {
                        Some(&(_, i)) => {
                            let entry = &mut entries[i];
                            let span = entry.value.span.cover(value.span);
                            match &mut entry.value.value {
                                Value::Array(items) => items.push(value),
                                _ => {
                                    let first = std::mem::replace(
                                        &mut entry.value,
                                        Node::new(Value::Null, span),
                                    );
                                    entry.value = Node::new(Value::Array(vec![first, value]), span);
                                }
                            }
                            entry.value.span = span;
                        }
                        None => {
                            block_entries.push((ident, entries.len()));
                            entries.push(Entry {
                                key: ident.to_string(),
                                key_span: self.span_of(block.ident.span(), fallback),
                                value,
                            });
                        }
                    }
                }
            }
        }
        Object { entries }
    }

    /// A block's value: its body, wrapped in one object per label, innermost
    /// last. Every wrapper spans the whole block.
    fn block(&self, block: &Block, fallback: Span) -> Node {
        let span = self.span_of(block.span(), fallback);
        let mut node = Node::new(Value::Object(self.body(&block.body, span)), span);
        for label in block.labels.iter().rev() {
            let (key, key_span) = match label {
                BlockLabel::Ident(i) => (i.as_str().to_string(), self.span_of(i.span(), span)),
                BlockLabel::String(s) => (s.value().clone(), self.span_of(s.span(), span)),
            };
            node = Node::new(
                Value::Object(Object {
                    entries: vec![Entry {
                        key,
                        key_span,
                        value: node,
                    }],
                }),
                span,
            );
        }
        node
    }

    fn expr(&self, expr: &HclExpr, fallback: Span) -> Node {
        let span = self.span_of(expr.span(), fallback);
        let value = match expr {
            HclExpr::Null(_) => Value::Null,
            HclExpr::Bool(b) => Value::Bool(*b.value()),
            HclExpr::Number(n) => Value::Number(number(n.value())),
            HclExpr::String(s) => Value::String(s.value().clone()),
            HclExpr::Array(items) => {
                Value::Array(items.iter().map(|e| self.expr(e, span)).collect())
            }
            HclExpr::Object(obj) => {
                let entries = obj
                    .iter()
                    .map(|(key, value)| {
                        let (key, key_span) = self.object_key(key, span);
                        Entry {
                            key,
                            key_span,
                            value: self.expr(value.expr(), span),
                        }
                    })
                    .collect();
                Value::Object(Object { entries })
            }
            HclExpr::StringTemplate(t) => match literal_template(t) {
                Some(s) => Value::String(s),
                None => self.expression(expr, span, literal_parts(t)),
            },
            HclExpr::HeredocTemplate(h) => {
                let mut h = (**h).clone();
                if h.indent().is_some() {
                    h.dedent();
                }
                match literal_template(&h.template) {
                    Some(s) => Value::String(s),
                    None => self.expression(expr, span, literal_parts(&h.template)),
                }
            }
            HclExpr::Parenthesis(p) => return Node::new(self.expr(p.inner(), span).value, span),
            HclExpr::UnaryOp(op) => match (op.operator.value(), &op.expr) {
                (hcl_edit::expr::UnaryOperator::Neg, HclExpr::Number(n)) => {
                    Value::Number(match number(n.value()) {
                        Number::Int(i) => Number::Int(-i),
                        Number::Float(f) => Number::Float(-f),
                    })
                }
                (hcl_edit::expr::UnaryOperator::Not, HclExpr::Bool(b)) => Value::Bool(!b.value()),
                _ => self.expression(expr, span, Vec::new()),
            },
            HclExpr::FuncCall(call)
                if call.name.name.as_str() == "jsonencode" && call.args.len() == 1 =>
            {
                // `jsonencode` of a literal is a literal string: fold it, so
                // a policy written with jsonencode reads like one in a heredoc.
                match call.args.iter().next().map(|a| self.expr(a, span)) {
                    Some(arg) if arg.is_literal() => Value::String(arg.to_json().to_string()),
                    _ => self.expression(expr, span, Vec::new()),
                }
            }
            _ => self.expression(expr, span, Vec::new()),
        };
        Node::new(value, span)
    }

    fn object_key(&self, key: &ObjectKey, fallback: Span) -> (String, Span) {
        match key {
            ObjectKey::Ident(i) => (i.as_str().to_string(), self.span_of(i.span(), fallback)),
            ObjectKey::Expression(e) => {
                let span = self.span_of(e.span(), fallback);
                let key = match e {
                    HclExpr::String(s) => s.value().clone(),
                    HclExpr::Variable(v) => v.as_str().to_string(),
                    _ => self.text[span_range(span, self.index)].to_string(),
                };
                (key, span)
            }
        }
    }

    fn expression(&self, expr: &HclExpr, span: Span, literal_parts: Vec<String>) -> Value {
        let mut refs = References::default();
        refs.visit_expr(expr);
        Value::Expr(Box::new(Expression {
            source: self.text[span_range(span, self.index)].to_string(),
            references: refs.found,
            literal_parts,
        }))
    }
}

/// The byte range of `span` in the indexed text (spans carry the file's
/// BOM offset; the text does not).
fn span_range(span: Span, index: &LineIndex) -> std::ops::Range<usize> {
    let len = index.text().len();
    let base = index.span(0, 0).start as usize;
    let start = (span.start as usize).saturating_sub(base).min(len);
    let end = (span.end as usize).saturating_sub(base).clamp(start, len);
    start..end
}

fn number(n: &hcl_edit::Number) -> Number {
    match n.as_i64() {
        Some(i) => Number::Int(i),
        None => Number::Float(n.as_f64().unwrap_or(0.0)),
    }
}

/// The string a template stands for when it is made of literals only.
fn literal_template(template: &Template) -> Option<String> {
    let mut out = String::new();
    for element in template.iter() {
        match element {
            Element::Literal(lit) => out.push_str(lit.value()),
            _ => return None,
        }
    }
    Some(out)
}

fn literal_parts(template: &Template) -> Vec<String> {
    template
        .iter()
        .filter_map(|e| match e {
            Element::Literal(lit) if !lit.value().is_empty() => Some(lit.value().clone()),
            _ => None,
        })
        .collect()
}

/// The references an expression makes (`var.x`, `aws_s3_bucket.b.id`).
pub fn references_of(expr: &HclExpr) -> Vec<String> {
    let mut refs = References::default();
    refs.visit_expr(expr);
    refs.found
}

/// Collects the references an expression makes, as `root.attr.attr` paths
/// cut at the first splat or computed index. Names bound by `for`
/// expressions and template `for` directives are not references.
#[derive(Default)]
struct References {
    found: Vec<String>,
    /// What `found` holds, so that recording stays linear: a list of
    /// 50,000 references was quadratic when each was looked for in
    /// `found` (issue 21, item 10).
    seen: HashSet<String>,
    bound: Vec<String>,
}

impl References {
    fn record(&mut self, path: String) {
        if self.seen.insert(path.clone()) {
            self.found.push(path);
        }
    }

    fn is_bound(&self, name: &str) -> bool {
        self.bound.iter().any(|b| b == name)
    }

    fn bind(&mut self, key: Option<&Ident>, value: &Ident) -> usize {
        let before = self.bound.len();
        if let Some(k) = key {
            self.bound.push(k.as_str().to_string());
        }
        self.bound.push(value.as_str().to_string());
        before
    }
}

/// Roots that are references on their own (`var.x`, `each.key`); any other
/// root followed by a name is a resource (`aws_s3_bucket.b`).
fn is_reference_root(root: &str, segments: usize) -> bool {
    matches!(
        root,
        "var" | "local" | "module" | "data" | "each" | "count" | "path" | "self" | "terraform"
    ) || segments >= 2
}

impl Visit for References {
    fn visit_traversal(&mut self, node: &hcl_edit::expr::Traversal) {
        if let HclExpr::Variable(root) = &node.expr {
            let root = root.as_str();
            if !self.is_bound(root) {
                let mut path = root.to_string();
                let mut segments = 1;
                for op in &node.operators {
                    match op.value() {
                        TraversalOperator::GetAttr(name) => {
                            path.push('.');
                            path.push_str(name.as_str());
                        }
                        TraversalOperator::LegacyIndex(i) => {
                            path.push_str(&format!("[{}]", i.value()));
                        }
                        TraversalOperator::Index(HclExpr::Number(n)) => {
                            path.push_str(&format!("[{}]", n.value()));
                        }
                        TraversalOperator::Index(HclExpr::String(s)) => {
                            path.push_str(&format!("[{:?}]", s.value()));
                        }
                        _ => break,
                    }
                    segments += 1;
                }
                if is_reference_root(root, segments) {
                    self.record(path);
                }
            }
        }
        // Index expressions may hold references of their own.
        for op in &node.operators {
            if let TraversalOperator::Index(e) = op.value() {
                self.visit_expr(e);
            }
        }
        if !matches!(node.expr, HclExpr::Variable(_)) {
            self.visit_expr(&node.expr);
        }
    }

    fn visit_for_expr(&mut self, node: &hcl_edit::expr::ForExpr) {
        self.visit_expr(&node.intro.collection_expr);
        let before = self.bind(
            node.intro.key_var.as_ref().map(|k| k.value()),
            node.intro.value_var.value(),
        );
        if let Some(k) = &node.key_expr {
            self.visit_expr(k);
        }
        self.visit_expr(&node.value_expr);
        if let Some(c) = &node.cond {
            self.visit_expr(&c.expr);
        }
        self.bound.truncate(before);
    }

    fn visit_for_template_expr(&mut self, node: &hcl_edit::template::ForTemplateExpr) {
        self.visit_expr(&node.collection_expr);
        let before = self.bind(
            node.key_var.as_ref().map(|k| k.value()),
            node.value_var.value(),
        );
        self.visit_template(&node.template);
        self.bound.truncate(before);
    }

    fn visit_expr(&mut self, node: &HclExpr) {
        visit::visit_expr(self, node);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_one(text: &str) -> Node {
        let index = LineIndex::new(text);
        let parsed = parse(text, &index);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        parsed.documents.into_iter().next().expect("one document")
    }

    fn at<'a>(node: &'a Node, path: &[&str]) -> &'a Node {
        path.iter().fold(node, |n, key| {
            n.get(key)
                .unwrap_or_else(|| panic!("no key {key} in {:?}", n.type_name()))
        })
    }

    fn pos(node: &Node) -> (u32, u32, u32, u32) {
        let s = node.span;
        (s.start_line, s.start_col, s.end_line, s.end_col)
    }

    const BUCKET: &str = r#"resource "aws_s3_bucket" "logs" {
  bucket = "my-logs"
  acl    = var.acl

  tags = {
    Name = "logs-${var.env}"
  }
}
"#;

    #[test]
    fn resource_nests_labels_and_spans_values() {
        let root = parse_one(BUCKET);
        let body = at(&root, &["resource", "aws_s3_bucket", "logs"]);
        let bucket = at(body, &["bucket"]);
        assert_eq!(bucket.as_str(), Some("my-logs"));
        assert_eq!(pos(bucket), (2, 12, 2, 21));
        assert_eq!(&BUCKET[bucket.span.range()], "\"my-logs\"");
        assert_eq!(pos(body), (1, 1, 8, 2));
    }

    #[test]
    fn references_keep_source_and_paths() {
        let root = parse_one(BUCKET);
        let body = at(&root, &["resource", "aws_s3_bucket", "logs"]);
        let acl = at(body, &["acl"]).as_expr().expect("expression");
        assert_eq!(acl.source, "var.acl");
        assert_eq!(acl.references, vec!["var.acl"]);
        let name = at(body, &["tags", "Name"]).as_expr().expect("template");
        assert_eq!(name.references, vec!["var.env"]);
        assert_eq!(name.literal_parts, vec!["logs-"]);
    }

    #[test]
    fn repeated_blocks_become_an_array() {
        let text = r#"resource "aws_security_group" "sg" {
  ingress {
    from_port = 22
    to_port   = 22
    cidr_blocks = ["0.0.0.0/0"]
  }
  ingress {
    from_port = -1
    to_port   = 443
  }
  egress {
    from_port = 0
  }
}
"#;
        let root = parse_one(text);
        let body = at(&root, &["resource", "aws_security_group", "sg"]);
        let ingress = at(body, &["ingress"]).as_array().expect("array");
        assert_eq!(ingress.len(), 2);
        assert_eq!(pos(&ingress[1]), (7, 3, 10, 4));
        assert_eq!(
            at(&ingress[1], &["from_port"]).as_number(),
            Some(Number::Int(-1))
        );
        let cidr = at(&ingress[0], &["cidr_blocks"]).as_array().expect("list");
        assert_eq!(pos(&cidr[0]), (5, 20, 5, 31));
        // A block written once stays an object.
        assert!(at(body, &["egress"]).as_object().is_some());
    }

    #[test]
    fn references_of_every_kind() {
        let text = r#"locals {
  a = module.vpc.vpc_id
  b = data.aws_iam_policy_document.p.json
  c = aws_s3_bucket.b[0].id
  d = [for s in var.subnets : s.id if s.public]
  e = length(local.names) > 0 ? each.value : null
  f = aws_instance.web[*].id
  g = "${path.module}/files"
}
"#;
        let root = parse_one(text);
        let refs = |k: &str| {
            at(&root, &["locals", k])
                .as_expr()
                .expect(k)
                .references
                .clone()
        };
        assert_eq!(refs("a"), vec!["module.vpc.vpc_id"]);
        assert_eq!(refs("b"), vec!["data.aws_iam_policy_document.p.json"]);
        assert_eq!(refs("c"), vec!["aws_s3_bucket.b[0].id"]);
        assert_eq!(refs("d"), vec!["var.subnets"]);
        assert_eq!(refs("e"), vec!["local.names", "each.value"]);
        assert_eq!(refs("f"), vec!["aws_instance.web"]);
        assert_eq!(refs("g"), vec!["path.module"]);
    }

    #[test]
    fn jsonencode_of_a_literal_is_folded() {
        let text = "p = jsonencode({ Version = \"2012-10-17\", Statement = [{ Action = \"*\" }] })\nq = jsonencode({ a = var.x })\n";
        let root = parse_one(text);
        assert_eq!(
            at(&root, &["p"]).as_str(),
            Some(r#"{"Version":"2012-10-17","Statement":[{"Action":"*"}]}"#)
        );
        assert!(at(&root, &["q"]).as_expr().is_some());
    }

    #[test]
    fn heredocs_keep_their_text() {
        let text = "resource \"aws_iam_policy\" \"p\" {\n  policy = <<-EOF\n    {\"Statement\": []}\n    EOF\n  user_data = <<EOT\necho ${var.x}\nEOT\n}\n";
        let root = parse_one(text);
        let body = at(&root, &["resource", "aws_iam_policy", "p"]);
        assert_eq!(
            at(body, &["policy"]).as_str(),
            Some("{\"Statement\": []}\n")
        );
        let user_data = at(body, &["user_data"]).as_expr().expect("template");
        assert_eq!(user_data.literal_parts, vec!["echo ", "\n"]);
        assert_eq!(user_data.references, vec!["var.x"]);
    }

    #[test]
    fn syntax_error_names_line_and_column() {
        let text = "resource \"a\" \"b\" {\n  x = \n}\n";
        let index = LineIndex::new(text);
        let parsed = parse(text, &index);
        assert!(parsed.documents.is_empty());
        assert_eq!(parsed.errors.len(), 1);
        assert_eq!(parsed.errors[0].line, 2);
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let text = format!("x = {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let index = LineIndex::new(&text);
        let parsed = parse(&text, &index);
        assert!(parsed.errors[0].message.contains("nesting deeper"));
    }

    #[test]
    fn crlf_gives_the_same_positions() {
        let root = parse_one(&BUCKET.replace('\n', "\r\n"));
        let body = at(&root, &["resource", "aws_s3_bucket", "logs"]);
        assert_eq!(pos(at(body, &["bucket"])), (2, 12, 2, 21));
    }

    #[test]
    fn json_strings_with_interpolation_become_expressions() {
        let node = json_string_value("${var.name}-logs", Span::default());
        let e = node.as_expr().expect("expression");
        assert_eq!(e.references, vec!["var.name"]);
        assert_eq!(e.literal_parts, vec!["-logs"]);
        let plain = json_string_value("private", Span::default());
        assert_eq!(plain.as_str(), Some("private"));
    }
}
