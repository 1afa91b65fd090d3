//! Paths into an entity: `ingress[*].cidr_blocks`, `spec.volumes[*].hostPath`,
//! `metadata.annotations."example.com/key"`,
//! `$parent.securityContext.runAsNonRoot`.
//!
//! A key step applied to an array applies to each element, so
//! `ingress.from_port` reads the same whether `ingress` was written once (an
//! object) or several times (an array). `[*]` on a single object yields the
//! object itself, for the same reason. Paths are compiled once, when a query
//! is loaded.

use std::fmt;

use crate::finding::{FieldPath, Segment};

/// Where a path starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Root {
    /// The node in scope: the entity, or the item a quantifier is visiting.
    Current,
    /// The entity itself, even inside a quantifier (`$entity.name`).
    Entity,
    /// An enclosing entity: `$parent` once per level (a container's pod
    /// spec, a pod spec's object, an instruction's stage).
    Parent(usize),
    /// The root of the document the entity is in (`$document.Parameters`).
    Document,
    /// The key of the entry `any_entry` is visiting (`$key`).
    Key,
}

/// One step of a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// An object key.
    Key(String),
    /// Every element of an array (a non-array is its own only element).
    Each,
    /// One element of an array.
    Index(usize),
}

/// A compiled path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    /// Where it starts.
    pub root: Root,
    /// The steps from there.
    pub steps: Vec<Step>,
}

/// Why a path does not compile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathError(pub String);

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Path {
    /// Parses the path syntax. The empty path (`.`) is the node in scope.
    pub fn parse(text: &str) -> Result<Path, PathError> {
        let mut rest = text.trim();
        let mut root = Root::Current;
        loop {
            let (prefix, next) = match rest.strip_prefix("$parent") {
                Some(r) => ("$parent", r),
                None => match rest.strip_prefix("$entity") {
                    Some(r) => ("$entity", r),
                    None => match rest.strip_prefix("$document") {
                        Some(r) => ("$document", r),
                        None => match rest.strip_prefix("$key") {
                            Some(r) => ("$key", r),
                            None => break,
                        },
                    },
                },
            };
            if !(next.is_empty() || next.starts_with('.') || next.starts_with('[')) {
                break;
            }
            root = match (prefix, root) {
                ("$parent", Root::Current) => Root::Parent(1),
                ("$parent", Root::Parent(n)) => Root::Parent(n + 1),
                ("$entity", Root::Current) => Root::Entity,
                ("$document", Root::Current) => Root::Document,
                ("$key", Root::Current) => Root::Key,
                _ => {
                    return Err(PathError(format!(
                        "\"{prefix}\" can only start a path or follow $parent in \"{text}\""
                    )));
                }
            };
            rest = next.strip_prefix('.').unwrap_or(next);
        }
        let mut steps = Vec::new();
        let bytes = rest.as_bytes();
        let mut i = 0;
        if rest == "." {
            return Ok(Path { root, steps });
        }
        while i < bytes.len() {
            match bytes[i] {
                b'.' if !steps.is_empty() => i += 1,
                b'[' => {
                    let close = rest[i..]
                        .find(']')
                        .map(|c| i + c)
                        .ok_or_else(|| PathError(format!("unclosed \"[\" in \"{text}\"")))?;
                    let inner = rest[i + 1..close].trim();
                    steps.push(if inner == "*" {
                        Step::Each
                    } else {
                        Step::Index(inner.parse().map_err(|_| {
                            PathError(format!(
                                "\"[{inner}]\" in \"{text}\": expected [*] or a number"
                            ))
                        })?)
                    });
                    i = close + 1;
                    continue;
                }
                _ => {}
            }
            if i >= bytes.len() {
                break;
            }
            if bytes[i] == b'"' {
                let close = rest[i + 1..]
                    .find('"')
                    .map(|c| i + 1 + c)
                    .ok_or_else(|| PathError(format!("unclosed quote in \"{text}\"")))?;
                steps.push(Step::Key(rest[i + 1..close].to_string()));
                i = close + 1;
            } else {
                let end = rest[i..].find(['.', '[']).map_or(rest.len(), |e| i + e);
                let key = rest[i..end].trim();
                if key.is_empty() {
                    return Err(PathError(format!("empty key in \"{text}\"")));
                }
                if key.starts_with('$') {
                    return Err(PathError(format!(
                        "\"{key}\" in \"{text}\": $parent, $entity, $document and $key only start a path"
                    )));
                }
                steps.push(Step::Key(key.to_string()));
                i = end;
            }
            if i < bytes.len() && !matches!(bytes[i], b'.' | b'[') {
                return Err(PathError(format!(
                    "unexpected \"{}\" in \"{text}\"",
                    &rest[i..i + 1]
                )));
            }
        }
        Ok(Path { root, steps })
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        match self.root {
            Root::Current => {}
            Root::Entity => {
                f.write_str("$entity")?;
                first = false;
            }
            Root::Document => {
                f.write_str("$document")?;
                first = false;
            }
            Root::Key => {
                f.write_str("$key")?;
                first = false;
            }
            Root::Parent(n) => {
                for i in 0..n {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str("$parent")?;
                }
                first = false;
            }
        }
        for step in &self.steps {
            match step {
                Step::Key(k) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    if k.contains(['.', '[', ']', '"']) {
                        write!(f, "\"{k}\"")?;
                    } else {
                        f.write_str(k)?;
                    }
                }
                Step::Each => f.write_str("[*]")?,
                Step::Index(i) => write!(f, "[{i}]")?,
            }
            first = false;
        }
        Ok(())
    }
}

/// One step of the concrete path to a value the engine reached, borrowing
/// keys from the tree or the query: cheap to extend while a path is being
/// followed, and turned into an owned [`FieldPath`] only for a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Seg<'a> {
    /// An object key.
    Key(&'a str),
    /// An array element.
    Index(usize),
    /// Every element: a path written with `[*]` that reached nothing.
    Each,
    /// Up to the enclosing entity.
    Parent,
    /// The document root.
    Document,
}

/// A concrete path from the entity, as the engine builds it.
pub type Trail<'a> = Vec<Seg<'a>>;

/// `trail` with one more step.
pub fn extend<'a>(trail: &[Seg<'a>], seg: Seg<'a>) -> Trail<'a> {
    let mut out = Vec::with_capacity(trail.len() + 1);
    out.extend_from_slice(trail);
    out.push(seg);
    out
}

/// The owned form of a trail, for a finding.
pub fn field_path(trail: &[Seg]) -> FieldPath {
    FieldPath(
        trail
            .iter()
            .map(|s| match *s {
                Seg::Key(k) => Segment::Key(k.to_string()),
                Seg::Index(i) => Segment::Index(i),
                Seg::Each => Segment::Each,
                Seg::Parent => Segment::Parent,
                Seg::Document => Segment::Document,
            })
            .collect(),
    )
}

impl Path {
    /// The steps of this path as a trail after `base` (the scope's own
    /// path when the path is relative to it): what a finding about a
    /// missing value names.
    pub fn trail_from<'a>(&'a self, base: &[Seg<'a>]) -> Trail<'a> {
        let mut out: Trail<'a> = match self.root {
            Root::Current | Root::Key => base.to_vec(),
            Root::Entity => Vec::new(),
            Root::Document => vec![Seg::Document],
            Root::Parent(n) => vec![Seg::Parent; n],
        };
        out.extend(self.steps.iter().map(|s| match s {
            Step::Key(k) => Seg::Key(k.as_str()),
            Step::Each => Seg::Each,
            Step::Index(i) => Seg::Index(*i),
        }));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(steps: &[Step]) -> String {
        steps
            .iter()
            .map(|s| match s {
                Step::Key(k) => format!("<{k}>"),
                Step::Each => "*".into(),
                Step::Index(i) => format!("#{i}"),
            })
            .collect()
    }

    #[test]
    fn parses() {
        let cases = [
            ("acl", Root::Current, "<acl>"),
            (
                "ingress[*].cidr_blocks",
                Root::Current,
                "<ingress>*<cidr_blocks>",
            ),
            (
                "spec.volumes[0].hostPath",
                Root::Current,
                "<spec><volumes>#0<hostPath>",
            ),
            (
                "metadata.annotations.\"seccomp.security.alpha.kubernetes.io/pod\"",
                Root::Current,
                "<metadata><annotations><seccomp.security.alpha.kubernetes.io/pod>",
            ),
            (
                "$parent.securityContext",
                Root::Parent(1),
                "<securityContext>",
            ),
            ("$parent.$parent.metadata", Root::Parent(2), "<metadata>"),
            ("$document.Parameters", Root::Document, "<Parameters>"),
            ("$entity", Root::Entity, ""),
            ("$key", Root::Key, ""),
            (".", Root::Current, ""),
            ("Properties.Tags[*]", Root::Current, "<Properties><Tags>*"),
        ];
        for (text, root, want) in cases {
            let path = Path::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(path.root, root, "{text}");
            assert_eq!(keys(&path.steps), want, "{text}");
        }
    }

    #[test]
    fn round_trips() {
        for text in ["a.b[*].c", "$parent.$parent.x", "a.\"b.c\"[2]"] {
            assert_eq!(Path::parse(text).expect("parses").to_string(), text);
        }
    }

    #[test]
    fn rejects() {
        for text in ["a[", "a[x]", "a..b", "\"open", "a.$parent"] {
            assert!(Path::parse(text).is_err(), "{text}");
        }
    }
}
