//! Terraform entities: resources, data sources, module calls, providers,
//! variables, outputs, locals and the `terraform` block.
//!
//! Works on the JSON-syntax shape both `.tf` and `.tf.json` parse into
//! (`resource` → type → name → body, where any level may be an array when a
//! block was written more than once), so one walk serves both syntaxes.
//! A module directory is one scan unit; its files' entities together are the
//! module.

pub mod calls;
pub mod eval;
pub mod plan;

use super::{CommentSyntax, Entity, Model, Names, Platform, References, literal_references};
use crate::tree::{Node, Span, Value};
use eval::module::INSTANCE_KEY;

/// The Terraform model.
pub struct Terraform;

impl Model for Terraform {
    fn platform(&self) -> Platform {
        Platform::Terraform
    }

    fn entities<'a>(&self, document_index: usize, document: &'a Node, out: &mut Vec<Entity<'a>>) {
        entities(document_index, document, out);
    }

    /// A `dynamic "ingress"` block not expanded generates `ingress` blocks
    /// rampart has not seen: whether one exists is unknown.
    fn may_generate(&self, object: &Node, key: &str) -> bool {
        object.get("dynamic").and_then(|d| d.get(key)).is_some()
    }

    /// The address, and the literal `bucket` or `name` it declares.
    fn names(&self, entity: &Entity) -> Names {
        let mut names = vec![entity.name.clone()];
        let mut complete = true;
        for key in ["bucket", "name"] {
            match entity.node.get(key).map(|n| &n.value) {
                Some(Value::String(s)) => names.push(s.clone()),
                Some(Value::Expr(_)) => complete = false,
                _ => {}
            }
        }
        Names { names, complete }
    }

    /// Each reference of an expression and every prefix of it that ends a
    /// step (`aws_s3_bucket.b.id` designates `aws_s3_bucket.b`); opaque when
    /// it refers only to values that could be any resource.
    fn references(&self, node: &Node) -> References {
        match &node.value {
            Value::Expr(e) => {
                let mut out = References::default();
                let mut identified = false;
                for r in &e.references {
                    for (i, b) in r.bytes().enumerate() {
                        if matches!(b, b'.' | b'[') {
                            out.names.push(r[..i].to_string());
                        }
                    }
                    out.names.push(r.clone());
                    let root = r.split(['.', '[']).next().unwrap_or("");
                    if OPAQUE_ROOTS.contains(&root) {
                        out.opaque = true;
                    } else if !NEUTRAL_ROOTS.contains(&root) {
                        identified = true;
                    }
                }
                out.opaque |= !identified;
                out
            }
            _ => literal_references(node),
        }
    }

    fn comment_syntax(&self) -> CommentSyntax {
        CommentSyntax::HashOrSlashes
    }

    fn id_prefix(&self) -> &'static str {
        "tf-"
    }

    fn snippet_language(&self) -> &'static str {
        "hcl"
    }
}

/// References whose value could be any resource: a variable, a local, a
/// module output, a data source, an iteration value.
const OPAQUE_ROOTS: [&str; 6] = ["var", "local", "module", "data", "each", "self"];

/// References that never carry an identity (`count.index`, `path.module`).
const NEUTRAL_ROOTS: [&str; 3] = ["count", "path", "terraform"];

/// Appends the entities of one Terraform document to `out`.
pub fn entities<'a>(document: usize, root: &'a Node, out: &mut Vec<Entity<'a>>) {
    if super::policy::is_statements_document(root) {
        super::policy::entities(document, root, out);
        return;
    }
    if super::secrets::is_secrets_document(root) {
        super::secrets::entities_of(document, root, out);
        return;
    }
    let Some(root) = root.as_object() else {
        return;
    };
    for entry in &root.entries {
        for block in entry.value.items() {
            match entry.key.as_str() {
                "resource" => two_labels(document, block, "resource", "", out),
                "data" => two_labels(document, block, "data", "data.", out),
                "module" => module_calls(document, block, out),
                "provider" => providers(document, block, out),
                "variable" => one_label(document, block, "variable", "var.", out),
                "output" => one_label(document, block, "output", "output.", out),
                "locals" => locals(document, block, out),
                "terraform" => out.push(Entity {
                    kind: "terraform".to_string(),
                    identity: "terraform".to_string(),
                    name: "terraform".to_string(),
                    document,
                    node: block,
                    header: entry.key_span,
                    parent: None,
                }),
                _ => {}
            }
        }
    }
}

/// Where a finding about a block itself points: in native syntax from the
/// block keyword to its last label (`resource "a" "b"`), in JSON syntax the
/// name key. Native syntax is recognised by its label wrappers sharing the
/// body's span (they are all the one block), where JSON wrappers are objects
/// of their own.
fn header(block: Span, body: Span, last_label: Span) -> Span {
    if block.start == body.start && block.start <= last_label.start {
        block.to(last_label)
    } else {
        last_label
    }
}

/// `resource "type" "name"` and `data "type" "name"`.
fn two_labels<'a>(
    document: usize,
    block: &'a Node,
    kind: &str,
    prefix: &str,
    out: &mut Vec<Entity<'a>>,
) {
    let Some(types) = block.as_object() else {
        return;
    };
    for ty in &types.entries {
        for names in ty.value.items() {
            let Some(names) = names.as_object() else {
                continue;
            };
            for name in &names.entries {
                for body in name.value.items() {
                    let address = format!("{prefix}{}.{}", ty.key, name.key);
                    // An instance of `count`/`for_each` is named by its key.
                    let identity = match body.get(INSTANCE_KEY).and_then(Node::as_str) {
                        Some(instance) => format!("{address}{instance}"),
                        None => address.clone(),
                    };
                    out.push(Entity {
                        kind: format!("{kind}.{}", ty.key),
                        name: address,
                        identity,
                        document,
                        node: body,
                        header: header(block.span, body.span, name.key_span),
                        parent: None,
                    });
                }
            }
        }
    }
}

/// `variable "name"`, `output "name"`.
fn one_label<'a>(
    document: usize,
    block: &'a Node,
    kind: &str,
    prefix: &str,
    out: &mut Vec<Entity<'a>>,
) {
    let Some(names) = block.as_object() else {
        return;
    };
    for name in &names.entries {
        for body in name.value.items() {
            let identity = format!("{prefix}{}", name.key);
            out.push(Entity {
                kind: kind.to_string(),
                name: identity.clone(),
                identity,
                document,
                node: body,
                header: header(block.span, body.span, name.key_span),
                parent: None,
            });
        }
    }
}

/// `module "name"`: one entity per call as written, however many instances
/// its `count`/`for_each` makes (the first stands for the call: what
/// queries check on a call, its `source` and `version`, is the same in
/// every instance), none when it makes none.
fn module_calls<'a>(document: usize, block: &'a Node, out: &mut Vec<Entity<'a>>) {
    let Some(names) = block.as_object() else {
        return;
    };
    for name in &names.entries {
        let bodies = name.value.items();
        let instances = bodies.iter().any(|b| b.get(INSTANCE_KEY).is_some());
        let bodies = if instances {
            &bodies[..bodies.len().min(1)]
        } else {
            bodies
        };
        for body in bodies {
            let identity = format!("module.{}", name.key);
            out.push(Entity {
                kind: "module".to_string(),
                name: identity.clone(),
                identity,
                document,
                node: body,
                header: header(block.span, body.span, name.key_span),
                parent: None,
            });
        }
    }
}

/// `provider "aws"`, named `provider.aws`, or `provider.aws.west` when it
/// has an `alias`.
fn providers<'a>(document: usize, block: &'a Node, out: &mut Vec<Entity<'a>>) {
    let Some(names) = block.as_object() else {
        return;
    };
    for name in &names.entries {
        for body in name.value.items() {
            let identity = match body.get("alias").and_then(Node::as_str) {
                Some(alias) => format!("provider.{}.{alias}", name.key),
                None => format!("provider.{}", name.key),
            };
            out.push(Entity {
                kind: format!("provider.{}", name.key),
                name: identity.clone(),
                identity,
                document,
                node: body,
                header: header(block.span, body.span, name.key_span),
                parent: None,
            });
        }
    }
}

/// Each attribute of a `locals` block is an entity of its own.
fn locals<'a>(document: usize, block: &'a Node, out: &mut Vec<Entity<'a>>) {
    let Some(body) = block.as_object() else {
        return;
    };
    for local in &body.entries {
        out.push(Entity {
            kind: "local".to_string(),
            identity: format!("local.{}", local.key),
            name: format!("local.{}", local.key),
            document,
            node: &local.value,
            header: local.key_span,
            parent: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::parse::{hcl, json};
    use crate::platform::{Platform, entities};
    use crate::tree::LineIndex;

    const MAIN: &str = r#"terraform {
  required_version = ">= 1.5"
}

provider "aws" {
  region = "eu-west-1"
}

provider "aws" {
  alias  = "us"
  region = "us-east-1"
}

variable "acl" {
  default = "private"
}

locals {
  name = "logs"
  tags = { team = "sec" }
}

resource "aws_s3_bucket" "logs" {
  bucket = local.name
}

resource "aws_s3_bucket" "data" {
  bucket = "data"
}

data "aws_iam_policy_document" "p" {
  statement {
    actions = ["s3:*"]
  }
}

module "vpc" {
  source = "./vpc"
}

output "arn" {
  value = aws_s3_bucket.logs.arn
}
"#;

    fn listing(platform: Platform, documents: &[crate::tree::Node]) -> Vec<String> {
        entities(platform, documents)
            .iter()
            .map(|e| {
                format!(
                    "{} {} {}:{}-{}:{}",
                    e.kind,
                    e.identity,
                    e.header.start_line,
                    e.header.start_col,
                    e.header.end_line,
                    e.header.end_col
                )
            })
            .collect()
    }

    #[test]
    fn every_block_kind_is_an_entity() {
        let index = LineIndex::new(MAIN);
        let parsed = hcl::parse(MAIN, &index);
        assert!(parsed.errors.is_empty());
        assert_eq!(
            listing(Platform::Terraform, &parsed.documents),
            vec![
                "terraform terraform 1:1-1:10",
                "provider.aws provider.aws 5:1-5:15",
                "provider.aws provider.aws.us 9:1-9:15",
                "variable var.acl 14:1-14:15",
                "local local.name 19:3-19:7",
                "local local.tags 20:3-20:7",
                "resource.aws_s3_bucket aws_s3_bucket.logs 23:1-23:32",
                "resource.aws_s3_bucket aws_s3_bucket.data 27:1-27:32",
                "data.aws_iam_policy_document data.aws_iam_policy_document.p 31:1-31:35",
                "module module.vpc 37:1-37:13",
                "output output.arn 41:1-41:13",
            ]
        );
    }

    #[test]
    fn json_syntax_gives_the_same_entities() {
        let text = r#"{
  "resource": {
    "aws_s3_bucket": {
      "logs": { "bucket": "logs" },
      "data": [{ "bucket": "data" }]
    }
  },
  "variable": { "acl": { "default": "private" } }
}"#;
        let index = LineIndex::new(text);
        let parsed = json::parse(text, &index, json::Strings::TerraformTemplates);
        assert_eq!(
            listing(Platform::Terraform, &parsed.documents),
            vec![
                "resource.aws_s3_bucket aws_s3_bucket.logs 4:7-4:13",
                "resource.aws_s3_bucket aws_s3_bucket.data 5:7-5:13",
                "variable var.acl 8:17-8:22",
            ]
        );
    }
}

#[cfg(test)]
mod reference_tests {
    use super::*;
    use crate::tree::Expression;

    #[test]
    fn a_reference_designates_each_prefix_that_ends_a_step() {
        let node = Node::new(
            Value::Expr(Box::new(Expression {
                source: "aws_s3_bucket.b[0].id".into(),
                references: vec!["aws_s3_bucket.b[0].id".into()],
                literal_parts: Vec::new(),
            })),
            Span::default(),
        );
        let references = Terraform.references(&node);
        assert_eq!(
            references.names,
            [
                "aws_s3_bucket",
                "aws_s3_bucket.b",
                "aws_s3_bucket.b[0]",
                "aws_s3_bucket.b[0].id"
            ]
        );
        assert!(!references.opaque && !references.literal);
    }
}
