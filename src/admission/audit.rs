//! The audit trail: one JSON line per decision on stdout, where a cluster's
//! log collector picks it up.

use serde_json::{Value, json};

use super::decide::Decision;
use super::review::Request;
use crate::finding::SuppressionKind;

/// The audit line for a decision (without the trailing newline).
pub fn line(request: &Request, decision: &Decision, micros: u128) -> String {
    let mode = decision
        .mode
        .map_or(Value::String("exempt".into()), |m| json!(m));
    let findings: Vec<Value> = decision
        .findings
        .iter()
        .map(|f| {
            json!({
                "query": f.query_id,
                "severity": f.severity.name(),
                "entity": f.entity,
                "field": f.path.to_string(),
                "suppressed": f.suppressed.as_ref().map(|s| match s.kind {
                    SuppressionKind::Exception => "exception",
                    SuppressionKind::Inline => "annotation",
                    SuppressionKind::Baseline => "baseline",
                }),
            })
        })
        .collect();
    let exceptions: Vec<Value> = decision
        .findings
        .iter()
        .filter_map(|f| f.suppressed.as_ref().map(|s| (f, s)))
        .filter(|(_, s)| s.kind == SuppressionKind::Exception)
        .map(|(f, s)| json!({"query": f.query_id, "origin": s.origin, "expires": s.expires}))
        .collect();
    let decision_text = if decision.response.allowed {
        "allow"
    } else {
        "deny"
    };
    json!({
        "time": now_rfc3339(),
        "event": "admission.decision",
        "uid": request.uid,
        "user": request.user,
        "namespace": request.namespace,
        "kind": request.kind,
        "name": request.name,
        "operation": request.operation,
        "dry_run": request.dry_run,
        "mode": mode,
        "decision": decision_text,
        // A dry run decides nothing in the cluster: never an enforcement.
        "enforced": !decision.response.allowed && !request.dry_run,
        "findings": findings,
        "exceptions": exceptions,
        "error": decision.error,
        "duration_us": micros as u64,
    })
    .to_string()
}

/// A log line about the server itself (start, reload, refused request).
pub fn event(event: &str, fields: Value) -> String {
    let mut line = json!({ "time": now_rfc3339(), "event": event });
    if let (Some(out), Value::Object(more)) = (line.as_object_mut(), fields) {
        out.extend(more);
    }
    line.to_string()
}

/// The current UTC time as `2026-12-03T15:04:05.123Z`.
pub fn now_rfc3339() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs();
    let (y, m, d) = civil(secs / 86_400);
    let rest = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        now.subsec_millis()
    )
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(20_412), (2025, 11, 20));
        assert_eq!(civil(11_016), (2000, 2, 29));
    }
}
