//! The compliance report as one self-contained HTML page: no network, no
//! external scripts or fonts, charts as inline SVG, readable without
//! JavaScript; with it, tables sort on a header click and filter as you
//! type.

use std::fmt::Write as _;

use super::{Compliance, Repository};
use crate::finding::Severity;

/// Escapes text for HTML content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn color(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "#7f1d1d",
        Severity::High => "#dc2626",
        Severity::Medium => "#f59e0b",
        Severity::Low => "#3b82f6",
        Severity::Info => "#9ca3af",
    }
}

fn count(repo: &Repository, severity: Severity) -> usize {
    repo.current.findings.get(&severity).copied().unwrap_or(0)
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#111827;background:#f9fafb}\
header{background:#111827;color:#fff;padding:16px 24px}header h1{margin:0;font-size:20px}\
nav a{color:#d1d5db;margin-right:16px;text-decoration:none}\
main{padding:8px 24px 48px;max-width:1200px}section{margin-top:28px}\
h2{font-size:18px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}\
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}\
th,td{border:1px solid #e5e7eb;padding:4px 8px;text-align:left;vertical-align:top}\
th{background:#f3f4f6;cursor:pointer}td.n{text-align:right;font-variant-numeric:tabular-nums}\
.pass{color:#047857;font-weight:600}.fail{color:#b91c1c;font-weight:600}\
.expired{color:#b91c1c;font-weight:600}.expiring{color:#b45309;font-weight:600}.no-reason{color:#7c3aed;font-weight:600}\
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{background:#fff;border:1px solid #e5e7eb;padding:10px 14px;min-width:140px}\
.card b{display:block;font-size:22px}input.filter{margin:6px 0;padding:4px 6px;width:280px}";

const SCRIPT: &str = "document.querySelectorAll('table.sortable').forEach(function(t){\
var hs=t.querySelectorAll('th');hs.forEach(function(h,i){h.addEventListener('click',function(){\
var b=t.tBodies[0],rs=Array.from(b.rows),asc=h.dataset.dir!=='asc';h.dataset.dir=asc?'asc':'desc';\
rs.sort(function(x,y){var a=x.cells[i].dataset.v||x.cells[i].textContent,c=y.cells[i].dataset.v||y.cells[i].textContent;\
var na=parseFloat(a),nc=parseFloat(c);var r=(!isNaN(na)&&!isNaN(nc))?na-nc:a.localeCompare(c);return asc?r:-r;});\
rs.forEach(function(r){b.appendChild(r);});});});});\
document.querySelectorAll('input.filter').forEach(function(f){f.hidden=false;f.addEventListener('input',function(){\
var t=document.getElementById(f.dataset.table),q=f.value.toLowerCase();Array.from(t.tBodies[0].rows).forEach(function(r){\
r.hidden=q&&r.textContent.toLowerCase().indexOf(q)<0;});});});";

/// The page.
pub fn render(report: &Compliance) -> String {
    let mut h = String::new();
    let failing = report
        .repositories
        .iter()
        .filter(|r| r.status == "fail")
        .count();
    let expired = report
        .exceptions
        .iter()
        .filter(|e| e.status == "expired")
        .count();
    let expiring = report
        .exceptions
        .iter()
        .filter(|e| e.status == "expiring")
        .count();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\
<title>rampart compliance report</title><style>{STYLE}</style></head><body>\
<header><h1>rampart compliance report</h1><nav><a href=\"#overview\">Overview</a><a href=\"#repositories\">Repositories</a>\
<a href=\"#controls\">Controls</a><a href=\"#exceptions\">Exceptions</a><a href=\"#clusters\">Clusters</a><a href=\"#trend\">Trend</a></nav></header><main>"
    );
    // Overview.
    let _ = write!(
        h,
        "<section id=\"overview\"><h2>Overview</h2><p>As of {} (UTC); a repository fails with a finding at or above <b>{}</b>. \
{} result files read{}.</p><div class=\"cards\">\
<div class=\"card\" id=\"repositories-count\"><b>{}</b>repositories</div>\
<div class=\"card\" id=\"failing-count\"><b>{}</b>failing</div>\
<div class=\"card\" id=\"expired-count\"><b>{}</b>exceptions expired</div>\
<div class=\"card\" id=\"expiring-count\"><b>{}</b>expiring within {} days</div></div>",
        esc(&report.today),
        report.fail_on,
        report.inputs,
        if report.skipped.is_empty() {
            String::new()
        } else {
            format!(", {} skipped", report.skipped.len())
        },
        report.repositories.len(),
        failing,
        expired,
        expiring,
        super::EXPIRING_DAYS
    );
    overview_chart(&mut h, report);
    let _ = write!(
        h,
        "<h3>Pass rate per framework</h3><table id=\"framework-table\"><thead><tr><th>framework</th><th>controls mapped</th><th>pass rate</th></tr></thead><tbody>"
    );
    for f in &report.frameworks {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(f.name),
            f.controls.len(),
            f.pass_rate
                .map_or_else(|| "no query maps to it".to_string(), |r| format!("{r}%"))
        );
    }
    h.push_str("</tbody></table><h3>Top failing queries</h3>");
    table_start(
        &mut h,
        "top-queries",
        &["query", "severity", "title", "findings", "repositories"],
    );
    for q in report.top_queries.iter().take(25) {
        let _ = write!(
            h,
            "<tr><td>{}</td><td data-v=\"{}\">{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            esc(&q.id),
            q.severity as u8,
            q.severity,
            esc(&q.title),
            q.findings,
            esc(&q.repositories.join(", "))
        );
    }
    h.push_str("</tbody></table></section>");
    // Repositories.
    h.push_str("<section id=\"repositories\"><h2>Repositories</h2>");
    table_start(
        &mut h,
        "repo-table",
        &[
            "project",
            "status",
            "critical",
            "high",
            "medium",
            "low",
            "suppressed",
            "scanned",
            "commit",
            "top queries",
        ],
    );
    for r in &report.repositories {
        let top: Vec<String> = r
            .current
            .queries
            .iter()
            .take(5)
            .map(|q| format!("{} ({})", q.id, q.findings))
            .collect();
        let _ = write!(
            h,
            "<tr data-project=\"{}\"><td>{}</td><td class=\"{}\">{}</td>",
            esc(&r.project),
            esc(&r.project),
            r.status,
            r.status
        );
        for s in [
            Severity::Critical,
            Severity::High,
            Severity::Medium,
            Severity::Low,
        ] {
            let _ = write!(h, "<td class=\"n\">{}</td>", count(r, s));
        }
        let _ = write!(
            h,
            "<td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            r.current.suppressed.values().sum::<usize>(),
            esc(&r.current.scanned_at),
            esc(r
                .current
                .commit
                .as_deref()
                .map_or("", |c| &c[..c.len().min(12)])),
            esc(&top.join(", "))
        );
    }
    h.push_str("</tbody></table></section>");
    // Controls.
    h.push_str("<section id=\"controls\"><h2>Controls</h2>");
    let mapped: usize = report.frameworks.iter().map(|f| f.controls.len()).sum();
    if mapped == 0 {
        h.push_str("<p>No query in the library in use maps to a compliance control.</p>");
    } else {
        table_start(
            &mut h,
            "control-table",
            &["control", "queries", "passing", "failing"],
        );
        for f in &report.frameworks {
            for c in &f.controls {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"fail\">{}</td></tr>",
                    esc(&c.control),
                    esc(&c.queries.join(", ")),
                    esc(&c.passing.join(", ")),
                    esc(&c.failing.join(", "))
                );
            }
        }
        h.push_str("</tbody></table>");
    }
    h.push_str("</section>");
    // Exceptions register.
    h.push_str("<section id=\"exceptions\"><h2>Exceptions register</h2><p>Every exception of the security team's file and every inline suppression in the newest scan of each repository.</p>");
    table_start(
        &mut h,
        "exception-table",
        &[
            "projects",
            "kind",
            "query",
            "where",
            "reason",
            "approved by",
            "expires",
            "status",
            "findings",
        ],
    );
    for e in &report.exceptions {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&e.projects.join(", ")),
            e.kind,
            esc(&e.query),
            esc(&e.origin),
            esc(e.reason.as_deref().unwrap_or("")),
            esc(e.approved_by.as_deref().unwrap_or("")),
            esc(e.expires.as_deref().unwrap_or("")),
            e.status,
            e.status,
            e.findings
        );
    }
    h.push_str("</tbody></table></section>");
    // Clusters: admission decisions.
    h.push_str("<section id=\"clusters\"><h2>Clusters</h2>");
    if report.clusters.is_empty() {
        h.push_str("<p>No <code>rampart admission</code> audit log was given.</p>");
    } else {
        h.push_str("<p>Decisions of <code>rampart admission</code>, from each cluster's audit log (dry runs are evaluated, never counted as denials).</p>");
        table_start(
            &mut h,
            "cluster-table",
            &[
                "cluster",
                "decisions",
                "denied",
                "allowed with findings",
                "dry runs",
                "denials by query",
                "exceptions used",
                "from",
                "to",
            ],
        );
        for c in &report.clusters {
            let by_query: Vec<String> = c
                .denials_by_query
                .iter()
                .map(|(q, n)| format!("{q} ({n})"))
                .collect();
            let used: Vec<String> = c
                .exceptions_used
                .iter()
                .map(|(o, n)| format!("{o} ({n})"))
                .collect();
            let _ = write!(
                h,
                "<tr data-cluster=\"{}\"><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&c.cluster),
                esc(&c.cluster),
                c.decisions,
                c.denied,
                c.allowed_with_findings,
                c.dry_runs,
                esc(&by_query.join(", ")),
                esc(&used.join(", ")),
                esc(c.first.as_deref().unwrap_or("")),
                esc(c.last.as_deref().unwrap_or(""))
            );
        }
        h.push_str("</tbody></table>");
    }
    h.push_str("</section>");
    // Trend.
    h.push_str("<section id=\"trend\"><h2>Trend</h2><p>Findings that count (solid) and suppressed (dashed) per scan, oldest to newest.</p>");
    for r in &report.repositories {
        trend_chart(&mut h, r);
    }
    h.push_str("</section>");
    if !report.skipped.is_empty() {
        h.push_str("<section id=\"skipped\"><h2>Inputs not used</h2><ul>");
        for s in &report.skipped {
            let _ = write!(h, "<li>{}: {}</li>", esc(&s.file), esc(&s.reason));
        }
        h.push_str("</ul></section>");
    }
    let _ = writeln!(h, "</main><script>{SCRIPT}</script></body></html>");
    h
}

fn table_start(h: &mut String, id: &str, headers: &[&str]) {
    let _ = write!(
        h,
        "<input class=\"filter\" data-table=\"{id}\" placeholder=\"filter\" hidden><table class=\"sortable\" id=\"{id}\"><thead><tr>"
    );
    for header in headers {
        let _ = write!(h, "<th>{}</th>", esc(header));
    }
    h.push_str("</tr></thead><tbody>");
}

/// Findings per repository by severity, as stacked horizontal bars.
fn overview_chart(h: &mut String, report: &Compliance) {
    let rows = report.repositories.len();
    if rows == 0 {
        return;
    }
    let max = report
        .repositories
        .iter()
        .map(|r| r.current.findings.values().sum::<usize>())
        .max()
        .unwrap_or(0)
        .max(1);
    let (label, width, bar) = (220.0, 720.0, 18.0);
    let height = rows as f64 * (bar + 6.0) + 10.0;
    let _ = write!(
        h,
        "<svg id=\"overview-chart\" role=\"img\" aria-label=\"findings per repository by severity\" width=\"{}\" height=\"{height}\" viewBox=\"0 0 {} {height}\">",
        label + width + 60.0,
        label + width + 60.0
    );
    for (i, r) in report.repositories.iter().enumerate() {
        let y = 5.0 + i as f64 * (bar + 6.0);
        let _ = write!(
            h,
            "<text x=\"0\" y=\"{}\" font-size=\"12\">{}</text>",
            y + 13.0,
            esc(&r.project)
        );
        let mut x = label;
        for s in Severity::ALL {
            let n = count(r, s);
            if n == 0 {
                continue;
            }
            let w = n as f64 / max as f64 * width;
            let _ = write!(
                h,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{bar}\" fill=\"{}\"><title>{}: {n} {s}</title></rect>",
                color(s),
                esc(&r.project)
            );
            x += w;
        }
        let _ = write!(
            h,
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"12\">{}</text>",
            x + 4.0,
            y + 13.0,
            r.current.findings.values().sum::<usize>()
        );
    }
    h.push_str("</svg>");
}

/// One repository's findings over its scans, as a small line chart.
fn trend_chart(h: &mut String, repo: &Repository) {
    let points = &repo.trend;
    let totals: Vec<usize> = points.iter().map(|p| p.findings.values().sum()).collect();
    let max = totals
        .iter()
        .chain(points.iter().map(|p| &p.suppressed))
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let (w, ht) = (360.0, 60.0);
    let step = if points.len() > 1 {
        w / (points.len() - 1) as f64
    } else {
        0.0
    };
    let line = |values: &mut dyn Iterator<Item = usize>| -> String {
        values
            .enumerate()
            .map(|(i, v)| {
                format!(
                    "{:.1},{:.1}",
                    10.0 + i as f64 * step,
                    5.0 + ht - v as f64 / max as f64 * ht
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let _ = write!(
        h,
        "<figure><figcaption>{} — {} scans, findings {}</figcaption><svg class=\"trend\" width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"trend for {}\">\
<polyline fill=\"none\" stroke=\"#dc2626\" stroke-width=\"2\" points=\"{}\"/>\
<polyline fill=\"none\" stroke=\"#6b7280\" stroke-dasharray=\"4 3\" points=\"{}\"/></svg></figure>",
        esc(&repo.project),
        points.len(),
        totals
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(" → "),
        w + 20.0,
        ht + 10.0,
        esc(&repo.project),
        line(&mut totals.iter().copied()),
        line(&mut points.iter().map(|p| p.suppressed)),
    );
}
