//! Running the registry over a loaded unit: every entity meets the queries
//! that select its kind, and each match becomes a [`Finding`].

use super::condition::Outcome;
use super::registry::Registry;
use super::resolve::{Context, Scope, Scratch, UnitFile};
use crate::finding::{Finding, fingerprint};
use crate::load::LoadedUnit;
use crate::platform::entities;

/// Entities and findings of one unit.
#[derive(Debug, Default)]
pub struct UnitResult {
    /// The findings, in no particular order (the caller sorts once).
    pub findings: Vec<Finding>,
    /// Number of entities the unit holds.
    pub entities: usize,
}

/// Runs every applicable query over every entity of `unit`.
pub fn run_unit(registry: &Registry, unit: &LoadedUnit) -> UnitResult {
    let scratch = Scratch::new();
    let files: Vec<UnitFile> = unit
        .files
        .iter()
        .map(|f| UnitFile {
            platform: f.platform,
            documents: &f.documents,
            entities: entities(f.platform, &f.documents),
        })
        .collect();
    let mut result = UnitResult::default();
    for (file, loaded) in files.iter().zip(&unit.files) {
        result.entities += file.entities.len();
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
                let mut seen: Vec<(u32, u32, &str)> = Vec::new();
                for hit in &hits {
                    let key = (hit.span.start, hit.span.end, hit.path.as_str());
                    if seen.contains(&key) {
                        continue;
                    }
                    seen.push(key);
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
                        ),
                    });
                }
            }
        }
    }
    result
}
