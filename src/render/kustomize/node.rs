//! The object tree a build works on: plain YAML values where every node and
//! every map key remembers the file and line it came from, so the rendered
//! text can say, line by line, which file set each value.

use crate::tree::{Node, Number, Value};

/// Where a node came from: an index into the build's file table and a
/// 1-based line (0: unknown).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Loc {
    /// Index into [`super::Files`].
    pub file: u32,
    /// 1-based line; 0 when unknown.
    pub line: u32,
}

/// A value with its origin.
#[derive(Clone, Debug, PartialEq)]
pub struct KNode {
    /// The value.
    pub val: Val,
    /// Where the value was written.
    pub at: Loc,
}

/// The kinds of value.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    /// `null` or an empty value.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number as the YAML reader typed it.
    Num(Number),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<KNode>),
    /// A mapping, keys in order.
    Map(Vec<KEntry>),
}

/// One key of a mapping.
#[derive(Clone, Debug, PartialEq)]
pub struct KEntry {
    /// The key.
    pub key: String,
    /// Where the key was written.
    pub at: Loc,
    /// The value.
    pub node: KNode,
}

impl KNode {
    /// A node holding `val` from `at`.
    pub fn new(val: Val, at: Loc) -> Self {
        KNode { val, at }
    }

    /// A string node.
    pub fn str(s: impl Into<String>, at: Loc) -> Self {
        KNode::new(Val::Str(s.into()), at)
    }

    /// An empty mapping.
    pub fn map(at: Loc) -> Self {
        KNode::new(Val::Map(Vec::new()), at)
    }

    /// Converts a parsed tree from file `file`.
    pub fn from_tree(node: &Node, file: u32) -> Self {
        let at = Loc {
            file,
            line: node.span.start_line,
        };
        let val = match &node.value {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => Val::Num(*n),
            Value::String(s) => Val::Str(s.clone()),
            Value::Expr(e) => Val::Str(e.source.clone()),
            Value::Array(items) => {
                Val::Seq(items.iter().map(|n| KNode::from_tree(n, file)).collect())
            }
            Value::Object(o) => Val::Map(
                o.entries
                    .iter()
                    .map(|e| KEntry {
                        key: e.key.clone(),
                        at: Loc {
                            file,
                            line: e.key_span.start_line,
                        },
                        node: KNode::from_tree(&e.value, file),
                    })
                    .collect(),
            ),
        };
        KNode { val, at }
    }

    /// The value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&KNode> {
        match &self.val {
            Val::Map(es) => es.iter().find(|e| e.key == key).map(|e| &e.node),
            _ => None,
        }
    }

    /// The value of `key` in a mapping, mutably.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut KNode> {
        match &mut self.val {
            Val::Map(es) => es.iter_mut().find(|e| e.key == key).map(|e| &mut e.node),
            _ => None,
        }
    }

    /// The entry of `key` in a mapping.
    pub fn entry(&self, key: &str) -> Option<&KEntry> {
        match &self.val {
            Val::Map(es) => es.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    /// The node at a `/`-separated path of keys.
    pub fn at_path(&self, path: &[&str]) -> Option<&KNode> {
        path.iter().try_fold(self, |n, k| n.get(k))
    }

    /// The string, when this is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.val {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The string, or the text of a scalar (`8080`, `true`) as YAML would
    /// print it.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.val {
            Val::Str(s) => Some(s.clone()),
            Val::Num(n) => Some(n.to_string()),
            Val::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// The elements of a sequence (nothing for anything else).
    pub fn items(&self) -> &[KNode] {
        match &self.val {
            Val::Seq(v) => v,
            _ => &[],
        }
    }

    /// The entries of a mapping (nothing for anything else).
    pub fn entries(&self) -> &[KEntry] {
        match &self.val {
            Val::Map(v) => v,
            _ => &[],
        }
    }

    /// Whether this is a mapping.
    pub fn is_map(&self) -> bool {
        matches!(self.val, Val::Map(_))
    }

    /// Sets `key` to `node` (replacing any value), keeping the key's place.
    /// Turns a null node into a mapping first.
    pub fn set(&mut self, key: &str, node: KNode, at: Loc) {
        if matches!(self.val, Val::Null) {
            self.val = Val::Map(Vec::new());
        }
        if let Val::Map(es) = &mut self.val {
            if let Some(e) = es.iter_mut().find(|e| e.key == key) {
                e.node = node;
            } else {
                es.push(KEntry {
                    key: key.to_string(),
                    at,
                    node,
                });
            }
        }
    }

    /// The mapping under `key`, created (at `at`) when missing or null.
    /// `None` when this node or the value there is not a mapping.
    pub fn child_map(&mut self, key: &str, at: Loc) -> Option<&mut KNode> {
        if matches!(self.val, Val::Null) {
            self.val = Val::Map(Vec::new());
        }
        let Val::Map(es) = &mut self.val else {
            return None;
        };
        let i = match es.iter().position(|e| e.key == key) {
            Some(i) => i,
            None => {
                es.push(KEntry {
                    key: key.to_string(),
                    at,
                    node: KNode::map(at),
                });
                es.len() - 1
            }
        };
        let node = &mut es[i].node;
        if matches!(node.val, Val::Null) {
            *node = KNode::map(at);
        }
        node.is_map().then_some(node)
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<KNode> {
        match &mut self.val {
            Val::Map(es) => {
                let i = es.iter().position(|e| e.key == key)?;
                Some(es.remove(i).node)
            }
            _ => None,
        }
    }

    /// Sets every origin in this subtree to `at`.
    pub fn relocate(&mut self, at: Loc) {
        self.at = at;
        match &mut self.val {
            Val::Seq(v) => v.iter_mut().for_each(|n| n.relocate(at)),
            Val::Map(es) => es.iter_mut().for_each(|e| {
                e.at = at;
                e.node.relocate(at);
            }),
            _ => {}
        }
    }

    /// Number of nodes in the subtree.
    pub fn count(&self) -> usize {
        1 + match &self.val {
            Val::Seq(v) => v.iter().map(KNode::count).sum(),
            Val::Map(es) => es.iter().map(|e| e.node.count()).sum(),
            _ => 0,
        }
    }

    /// The value as JSON (for hashing and comparisons).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.val {
            Val::Null => J::Null,
            Val::Bool(b) => J::Bool(*b),
            Val::Num(Number::Int(i)) => J::from(*i),
            Val::Num(Number::Float(f)) => J::from(*f),
            Val::Str(s) => J::String(s.clone()),
            Val::Seq(v) => J::Array(v.iter().map(KNode::to_json).collect()),
            Val::Map(es) => J::Object(
                es.iter()
                    .map(|e| (e.key.clone(), e.node.to_json()))
                    .collect(),
            ),
        }
    }
}
