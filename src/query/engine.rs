//! Running the registry over a loaded unit: every entity meets the queries
//! that select its kind, and each match becomes a [`Finding`].

use std::collections::HashSet;

use super::condition::{Hit, Outcome};
use super::registry::Registry;
use super::resolve::{Context, Scope, Scratch, UnitCache, UnitFile};
use crate::diagnostic::Diagnostic;
use crate::finding::{Finding, fingerprint};
use crate::load::LoadedUnit;
use crate::platform::{Entity, entities};
use crate::suppress::{Date, InlineSuppressions, Kind, Suppression, Target, Verdict};
use crate::tree::{Node, Value};

/// Entities and findings of one unit.
#[derive(Debug, Default)]
pub struct UnitResult {
    /// The findings, in no particular order (the caller sorts once).
    pub findings: Vec<Finding>,
    /// Number of entities the unit holds.
    pub entities: usize,
    /// Expired suppressions that matched a finding, and (when asked for)
    /// suppressions that matched none.
    pub notices: Vec<Diagnostic>,
}

/// How the engine treats suppressions written in the scanned files.
#[derive(Clone, Copy, Debug)]
pub struct EngineOptions {
    /// Honour inline suppressions (`--no-inline-suppressions` turns them
    /// off, for audits).
    pub inline_suppressions: bool,
    /// Report inline suppressions that matched no finding.
    pub report_unused: bool,
    /// The date expiries are compared with.
    pub today: Date,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            inline_suppressions: true,
            report_unused: false,
            today: Date::today(),
        }
    }
}

/// The annotation a Kubernetes object uses to suppress queries on itself
/// and its pod spec and containers.
pub const IGNORE_ANNOTATION: &str = "rampart.dev/ignore";

/// Runs every applicable query over every entity of `unit`.
pub fn run_unit(registry: &Registry, unit: &LoadedUnit) -> UnitResult {
    run_unit_with(registry, unit, EngineOptions::default())
}

/// [`run_unit`] with explicit suppression options.
pub fn run_unit_with(registry: &Registry, unit: &LoadedUnit, options: EngineOptions) -> UnitResult {
    let scratch = Scratch::new();
    let files: Vec<UnitFile> = unit
        .files
        .iter()
        .map(|f| {
            let mut found = entities(f.platform, &f.documents);
            // Entities of a module instance are named under its call.
            if let Some(chain) = &f.module {
                for e in &mut found {
                    e.identity = format!("{chain}.{}", e.identity);
                }
            }
            UnitFile::new(f.platform, f.module.as_deref(), &f.documents, found)
        })
        .collect();
    let cache = UnitCache::default();
    let mut result = UnitResult::default();
    for (file, loaded) in files.iter().zip(&unit.files) {
        result.entities += file.entities.len();
        let inline = if options.inline_suppressions {
            InlineSuppressions::parse(&loaded.source.text, loaded.platform)
        } else {
            InlineSuppressions::default()
        };
        let mut used = vec![false; inline.directives().len()];
        for (index, entity) in file.entities.iter().enumerate() {
            let queries = registry.for_kind(file.platform, &entity.kind);
            if queries.is_empty() {
                continue;
            }
            let ctx = Context {
                platform: file.platform,
                entities: &file.entities,
                entity: index,
                document: &file.documents[entity.document],
                unit: &files,
                scratch: &scratch,
                module: file.module,
                cache: &cache,
            };
            let scope = Scope {
                node: entity.node,
                header: entity.header,
                path: String::new(),
                key: None,
            };
            for query in queries {
                let Outcome::Match(hits) = query.condition.eval(&scope, &ctx) else {
                    continue;
                };
                // A set: one entity may have as many hits as a RUN has
                // commands (issue 21, item 10).
                let mut seen: HashSet<(u32, u32, &str)> = HashSet::with_capacity(hits.len());
                for hit in &hits {
                    if !seen.insert((hit.span.start, hit.span.end, hit.path.as_str())) {
                        continue;
                    }
                    let suppressed = if options.inline_suppressions {
                        inline_suppression(
                            &inline,
                            &mut used,
                            &mut result.notices,
                            &loaded.display,
                            query,
                            &file.entities,
                            index,
                            hit,
                            options.today,
                        )
                    } else {
                        None
                    };
                    result.findings.push(Finding {
                        query_id: query.id.clone(),
                        severity: query.severity,
                        file: loaded.display.clone(),
                        span: hit.span,
                        entity: entity.identity.clone(),
                        path: hit.path.clone(),
                        message: query.message.render(
                            hit.value.as_deref(),
                            &hit.path,
                            &entity.identity,
                        ),
                        fingerprint: fingerprint(
                            &query.id,
                            &loaded.display,
                            &entity.identity,
                            &hit.path,
                            hit.value.as_deref(),
                        ),
                        suppressed,
                        value: hit.value.clone(),
                        called_from: loaded.module.as_ref().zip(loaded.module_call.as_ref()).map(
                            |(module, (file, line))| crate::finding::CallSite {
                                file: file.clone(),
                                line: *line,
                                module: module.clone(),
                            },
                        ),
                    });
                }
            }
        }
        if options.report_unused {
            for (d, used) in inline.directives().iter().zip(&used) {
                if !used {
                    result.notices.push(Diagnostic::notice(
                        &loaded.display,
                        d.line,
                        1,
                        format!("unused suppression: \"{}\" matches no finding", d.text),
                    ));
                }
            }
        }
    }
    result
}

/// The inline suppression (comment or annotation) covering a finding.
#[allow(clippy::too_many_arguments)]
fn inline_suppression(
    inline: &InlineSuppressions,
    used: &mut [bool],
    notices: &mut Vec<Diagnostic>,
    file: &str,
    query: &super::Query,
    entities: &[Entity],
    index: usize,
    hit: &Hit,
    today: Date,
) -> Option<Suppression> {
    if let Some(s) = annotation_suppression(file, query, entities, index) {
        return Some(s);
    }
    if inline.directives().is_empty() {
        return None;
    }
    let entity = &entities[index];
    let anchors = anchor_lines(entities, index, hit);
    let start = entity.header.start_line.min(entity.node.span.start_line);
    let target = Target {
        query,
        anchors: &anchors,
        line: hit.span.start_line,
        entity_lines: (start, entity.node.span.end_line.max(start)),
    };
    match inline.check(file, &target, today) {
        Verdict::Suppressed(i, suppression) => {
            used[i] = true;
            Some(suppression)
        }
        Verdict::Expired(i, date) => {
            used[i] = true;
            let d = &inline.directives()[i];
            notices.push(Diagnostic::notice(
                file,
                d.line,
                1,
                format!(
                    "suppression of {} expired on {date}; the finding at line {} counts again",
                    query.id, hit.span.start_line
                ),
            ));
            None
        }
        Verdict::None => None,
    }
}

/// `metadata.annotations."rampart.dev/ignore"` on the Kubernetes object the
/// entity is, or is in.
fn annotation_suppression(
    file: &str,
    query: &super::Query,
    entities: &[Entity],
    index: usize,
) -> Option<Suppression> {
    let mut at = Some(index);
    while let Some(i) = at {
        let e = entities.get(i)?;
        if e.kind.starts_with("object.") {
            let entry = e
                .node
                .at("metadata.annotations")?
                .entry(IGNORE_ANNOTATION)?;
            let ids = entry.value.as_str()?;
            let named = ids
                .split(',')
                .map(str::trim)
                .any(|id| id.eq_ignore_ascii_case(&query.id));
            return named.then(|| Suppression {
                kind: Kind::Inline,
                reason: None,
                origin: format!("{file}:{}", entry.key_span.start_line),
                expires: None,
                approved_by: None,
            });
        }
        at = e.parent;
    }
    None
}

/// The lines an inline suppression may name to cover a finding: where the
/// entity and its enclosing entities start, and where each attribute on the
/// way from the entity to the offending value starts.
fn anchor_lines(entities: &[Entity], index: usize, hit: &Hit) -> Vec<u32> {
    let mut lines = vec![hit.span.start_line];
    let mut at = Some(index);
    while let Some(i) = at {
        let Some(e) = entities.get(i) else {
            break;
        };
        lines.push(e.header.start_line);
        lines.push(e.node.span.start_line);
        at = e.parent;
    }
    if let Some(e) = entities.get(index)
        && !hit.path.starts_with('$')
    {
        let mut node: &Node = e.node;
        for step in path_steps(&hit.path) {
            let next = match (step, &node.value) {
                (Step::Key(k), Value::Object(o)) => o.entry(k).map(|entry| {
                    lines.push(entry.key_span.start_line);
                    &entry.value
                }),
                (Step::Index(i), Value::Array(items)) => items.get(i),
                _ => None,
            };
            let Some(next) = next else {
                break;
            };
            lines.push(next.span.start_line);
            node = next;
        }
    }
    lines.sort_unstable();
    lines.dedup();
    lines
}

enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// The steps of a concrete path as findings record it (`a.b[1].c`).
fn path_steps(path: &str) -> Vec<Step<'_>> {
    let mut steps = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            steps.push(Step::Key(key));
        }
        while let Some(close) = rest.find(']') {
            if let Ok(i) = rest[1..close].parse() {
                steps.push(Step::Index(i));
            }
            rest = &rest[close + 1..];
        }
    }
    steps
}
