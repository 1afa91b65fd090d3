//! One admission decision: the object in a request run through the same
//! registry, exceptions and threshold as `scan`, then the namespace's mode
//! applied.

use serde_json::Value;

use super::policy::Policy;
use super::review::{Request, Response};
use crate::config::{AdmissionMode, Threshold};
use crate::date::Date;
use crate::finding::Finding;
use crate::load::LoadedUnit;
use crate::parse::json::Strings;
use crate::platform::{LoadedFile, Platform};
use crate::query::registry::Registry;
use crate::suppress::{Exceptions, InlineOptions, ObjectRef};
use crate::tree::{LineIndex, SourceText};

/// Findings named in a denial message; the rest are counted. `kubectl`
/// prints the whole message, and a wall of text hides the first line.
const MESSAGE_FINDINGS: usize = 5;

/// Warnings returned; the API server drops what is past its own limits.
const MAX_WARNINGS: usize = 10;

/// What every decision is made with, loaded once at start.
#[derive(Debug)]
pub struct Engine {
    /// The query registry, as `scan` builds it.
    pub registry: Registry,
    /// The security team's exceptions file.
    pub exceptions: Option<Exceptions>,
    /// Findings at or above this deny in `enforce` mode.
    pub fail_on: Threshold,
    /// Modes and exemptions per namespace.
    pub policy: Policy,
}

/// A decision and what the audit line and metrics say about it.
#[derive(Debug)]
pub struct Decision {
    /// The mode that applied; `None` for an exempt namespace.
    pub mode: Option<AdmissionMode>,
    /// What goes back to the API server.
    pub response: Response,
    /// Every finding, with `suppressed` set on those an exception or a
    /// permitted annotation accepted.
    pub findings: Vec<Finding>,
    /// The findings that decided: unsuppressed, at or above `fail_on`.
    pub failing: Vec<String>,
    /// Why the object could not be evaluated, when it could not.
    pub error: Option<String>,
}

/// Decides on `request` (its object is consumed); `today` dates
/// exceptions.
pub fn decide(engine: &Engine, request: &mut Request, today: Date) -> Decision {
    let Some(mode) = engine.policy.mode_for(&request.namespace) else {
        return allow(None);
    };
    let Some(object) = request.object.take() else {
        // A DELETE (or CONNECT) has nothing to check.
        return allow(Some(mode));
    };
    let findings = match evaluate(engine, request, object, today) {
        Ok(findings) => findings,
        Err(error) => {
            // A gate never passes by accident: what cannot be checked is
            // refused where the policy is enforced.
            let message = format!("rampart could not check this object: {error}");
            return Decision {
                mode: Some(mode),
                response: Response {
                    allowed: mode != AdmissionMode::Enforce,
                    message: (mode == AdmissionMode::Enforce).then(|| message.clone()),
                    warnings: if mode == AdmissionMode::Warn {
                        vec![message]
                    } else {
                        Vec::new()
                    },
                },
                findings: Vec::new(),
                failing: Vec::new(),
                error: Some(error),
            };
        }
    };
    let mut counted: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.suppressed.is_none() && engine.fail_on.fails(f.severity))
        .collect();
    // The most severe first: a message or warning list cut short keeps them.
    counted.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let failing = counted.iter().map(|f| f.query_id.clone()).collect();
    let response = match mode {
        AdmissionMode::Enforce if !counted.is_empty() => Response {
            allowed: false,
            message: Some(denial(engine, request, &counted)),
            warnings: Vec::new(),
        },
        AdmissionMode::Warn => Response {
            allowed: true,
            message: None,
            warnings: counted
                .iter()
                .take(MAX_WARNINGS)
                .map(|f| warning(f))
                .collect(),
        },
        _ => Response {
            allowed: true,
            ..Response::default()
        },
    };
    Decision {
        mode: Some(mode),
        response,
        findings,
        failing,
        error: None,
    }
}

fn allow(mode: Option<AdmissionMode>) -> Decision {
    Decision {
        mode,
        response: Response {
            allowed: true,
            ..Response::default()
        },
        findings: Vec::new(),
        failing: Vec::new(),
        error: None,
    }
}

/// Runs the registry over the object as `scan` runs it over a file holding
/// it, then applies the annotation (where allowed) and the exceptions.
fn evaluate(
    engine: &Engine,
    request: &Request,
    mut object: Value,
    today: Date,
) -> Result<Vec<Finding>, String> {
    // The API server fills the namespace in; set it when a client left it
    // out so identities (and exceptions' `entity`) read `Kind/ns/name`.
    if !request.namespace.is_empty()
        && let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut)
    {
        metadata
            .entry("namespace")
            .or_insert_with(|| Value::String(request.namespace.clone()));
    }
    let text = serde_json::to_string_pretty(&object).map_err(|e| e.to_string())?;
    drop(object);
    let index = LineIndex::new(&text);
    let parsed = crate::parse::json::parse(&text, &index, Strings::Plain);
    if let Some(e) = parsed.errors.first() {
        return Err(e.message.clone());
    }
    let display = format!("{}/{}/{}", request.kind, request.namespace, request.name);
    let unit = LoadedUnit {
        files: vec![LoadedFile {
            display: display.clone(),
            platform: Platform::Kubernetes,
            source: SourceText {
                text: String::new(),
                bom_len: 0,
            },
            documents: parsed.documents,
            streamed: false,
            module: None,
            module_call: None,
            derived: false,
        }],
        ..LoadedUnit::default()
    };
    // One object and no tree around it: no scan-wide index, so a query
    // asking what selects the object across the scan (`selected_by`, a
    // pod no NetworkPolicy isolates) is unknown here and never fires. The
    // policies of the namespace are in the cluster, not in the request.
    let mut findings = crate::query::engine::run_unit(&engine.registry, &unit, None).findings;
    if engine.policy.ignore_allowed(&request.namespace) {
        let mut all: Vec<&mut Finding> = findings.iter_mut().collect();
        // JSON has no comments: only the annotation can suppress here.
        crate::suppress::apply_inline(
            &mut all,
            &display,
            "",
            Platform::Kubernetes,
            &engine.registry,
            InlineOptions {
                enabled: true,
                report_unused: false,
                today,
            },
        );
    }
    if let Some(exceptions) = &engine.exceptions {
        let object = ObjectRef {
            kind: &request.kind,
            namespace: &request.namespace,
            name: &request.name,
        };
        for f in findings.iter_mut().filter(|f| f.suppressed.is_none()) {
            let Some(query) = engine.registry.get(&f.query_id) else {
                continue;
            };
            if let Some((e, true)) = exceptions.find_object(query, &object, &f.entity, today) {
                f.suppressed = Some(Box::new(e.suppression()));
            }
        }
    }
    crate::finding::sort(&mut findings);
    Ok(findings)
}

/// Where a finding is: the entity and the field, as a user finds it in
/// the manifest.
fn field(f: &Finding) -> String {
    if f.path.is_empty() {
        f.entity.clone()
    } else {
        format!("{} {}", f.entity, f.path)
    }
}

/// `kubectl` prints this after "admission webhook ... denied the request:".
fn denial(engine: &Engine, request: &Request, counted: &[&Finding]) -> String {
    let mut message = format!(
        "rampart: {} {} has {} finding(s) at or above the policy threshold:",
        request.kind,
        request.name,
        counted.len()
    );
    for f in counted.iter().take(MESSAGE_FINDINGS) {
        message.push_str(&format!(
            "\n- {} ({}) at {}: {}",
            f.query_id,
            f.severity.name(),
            field(f),
            f.message
        ));
        if let Some(fix) = engine
            .registry
            .get(&f.query_id)
            .map(|q| first_sentence(&q.remediation))
            .filter(|s| !s.is_empty())
        {
            message.push_str(&format!(". Fix: {fix}"));
        }
    }
    if counted.len() > MESSAGE_FINDINGS {
        message.push_str(&format!(
            "\n- and {} more (`rampart explain ID` tells how to fix each)",
            counted.len() - MESSAGE_FINDINGS
        ));
    }
    message
}

/// A `kubectl` warning line: short, one finding.
fn warning(f: &Finding) -> String {
    let mut text = format!(
        "rampart {} ({}): {}: {}",
        f.query_id,
        f.severity.name(),
        field(f),
        f.message
    );
    // The API server truncates long warnings; cut at a character boundary.
    if text.len() > 240 {
        let mut end = 237;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str("...");
    }
    text
}

/// The first sentence of a remediation, on one line, without the code
/// example that usually follows a colon.
fn first_sentence(text: &str) -> String {
    let paragraph = text.split("\n\n").next().unwrap_or_default();
    let line = paragraph.split_whitespace().collect::<Vec<_>>().join(" ");
    let end = line.find(". ").map(|i| i + 1).unwrap_or(line.len());
    let sentence = line[..end].trim_end_matches([':', '.', ' ']);
    if sentence.len() > 160 {
        let mut cut = 157;
        while !sentence.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}...", &sentence[..cut])
    } else {
        sentence.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fix_is_one_short_line() {
        assert_eq!(
            first_sentence(
                "Remove the flag (it defaults to false), and grant only\nwhat it needs:\n\n    securityContext: {}\n"
            ),
            "Remove the flag (it defaults to false), and grant only what it needs"
        );
        assert_eq!(first_sentence("Set it. Then more."), "Set it");
        assert!(first_sentence(&"word ".repeat(100)).len() <= 160);
    }

    #[test]
    fn a_query_that_looks_across_the_scan_does_not_fire_on_one_object() {
        let registry = Registry::load(true, &[] as &[&std::path::Path]).expect("loads");
        let engine = Engine {
            registry,
            exceptions: None,
            fail_on: Threshold::AtLeast(crate::finding::Severity::Low),
            policy: Policy::new(&Default::default(), Some(AdmissionMode::Warn)).expect("policy"),
        };
        let object = serde_json::json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "api"},
            "spec": {"template": {
                "metadata": {"labels": {"app": "api"}},
                "spec": {"containers": [{"name": "api", "image": "nginx", "securityContext": {"privileged": true}}]}
            }}
        });
        let request = Request {
            uid: "u".into(),
            kind: "Deployment".into(),
            namespace: "shop".into(),
            name: "api".into(),
            operation: "CREATE".into(),
            user: "me".into(),
            dry_run: false,
            object: None,
        };
        let today = Date::parse("2026-01-01").expect("date");
        let findings = evaluate(&engine, &request, object, today).expect("evaluates");
        let ids: Vec<&str> = findings.iter().map(|f| f.query_id.as_str()).collect();
        // The object is checked (its privileged container is found), but
        // whether a NetworkPolicy selects it is not known here.
        assert!(ids.contains(&"k8s-privileged-container"), "{ids:?}");
        assert!(!ids.contains(&"k8s-pod-without-network-policy"), "{ids:?}");
    }
}
