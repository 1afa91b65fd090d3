//! Dockerfile entities: the file, each build stage (the last one is
//! `stage.final`, the image that ships), and each instruction.

use super::{CommentSyntax, Entity, Model, Platform};
use crate::tree::Node;

/// The Dockerfile model.
pub struct Dockerfile;

impl Model for Dockerfile {
    fn platform(&self) -> Platform {
        Platform::Dockerfile
    }

    fn entities<'a>(&self, document_index: usize, document: &'a Node, out: &mut Vec<Entity<'a>>) {
        entities(document_index, document, out);
    }

    fn comment_syntax(&self) -> CommentSyntax {
        CommentSyntax::HashAtLineStart
    }

    fn id_prefix(&self) -> &'static str {
        "docker-"
    }

    fn snippet_language(&self) -> &'static str {
        "dockerfile"
    }
}

/// Appends the entities of one parsed Dockerfile to `out`.
pub fn entities<'a>(document: usize, root: &'a Node, out: &mut Vec<Entity<'a>>) {
    let file_header = first_line(root);
    let file_index = out.len();
    out.push(Entity {
        kind: "dockerfile".to_string(),
        identity: "Dockerfile".to_string(),
        name: "Dockerfile".to_string(),
        document,
        node: root,
        header: file_header,
        parent: None,
    });
    for (n, arg) in root
        .get("global_args")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        out.push(Entity {
            kind: "instruction.ARG".to_string(),
            identity: format!("ARG #{} before the first FROM", n + 1),
            name: format!("ARG #{}", n + 1),
            document,
            node: arg,
            header: arg.span,
            parent: Some(file_index),
        });
    }
    let stages = root.get("stages").map(Node::items).unwrap_or_default();
    for (i, stage) in stages.iter().enumerate() {
        let name = match stage.get("name").and_then(Node::as_str) {
            Some(name) => name.to_string(),
            None => i.to_string(),
        };
        let instructions = stage
            .get("instructions")
            .map(Node::items)
            .unwrap_or_default();
        let stage_index = out.len();
        out.push(Entity {
            kind: if i + 1 == stages.len() {
                "stage.final".to_string()
            } else {
                "stage".to_string()
            },
            identity: format!("stage {name}"),
            name: name.clone(),
            document,
            node: stage,
            header: instructions.first().map_or(stage.span, |from| from.span),
            parent: Some(file_index),
        });
        // Instructions are numbered per keyword within their stage, so an
        // identity survives edits elsewhere in the file.
        let mut seen: Vec<(&str, usize)> = Vec::new();
        for instruction in instructions {
            let keyword = instruction
                .get("instruction")
                .and_then(Node::as_str)
                .unwrap_or("?");
            let ordinal = match seen.iter_mut().find(|(k, _)| *k == keyword) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    seen.push((keyword, 1));
                    1
                }
            };
            out.push(Entity {
                kind: format!("instruction.{keyword}"),
                identity: format!("{keyword} #{ordinal} in stage {name}"),
                name: format!("{keyword} #{ordinal}"),
                document,
                node: instruction,
                header: instruction.span,
                parent: Some(stage_index),
            });
        }
    }
}

/// The first line of a document, where a finding about the whole file
/// points.
fn first_line(root: &Node) -> crate::tree::Span {
    let mut span = root.span;
    if span.end_line > span.start_line {
        span.end_line = span.start_line;
        span.end_col = span.start_col;
        span.end = span.start;
    }
    span
}
