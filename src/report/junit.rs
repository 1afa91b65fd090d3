//! JUnit XML for CI systems that show test reports (GitLab, Jenkins): one
//! test suite per platform; in it one failed test case per (query, file,
//! entity), named `FILE: ENTITY` so entities of the same name in different
//! files (`stage 0` of every Dockerfile) are separate cases, and one passed
//! test case per query that found nothing. Files that could not be read or parsed are test cases with an
//! `<error>` in a suite of their own.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use super::Report;
use crate::diagnostic::Level;
use crate::finding::Finding;
use crate::platform::Platform;

/// Escapes text for an XML attribute or element.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry other control characters at all.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Writes the JUnit report.
pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    // platform → query id → (file, entity) → findings, all in sorted order.
    type Cases<'a> = BTreeMap<&'a str, BTreeMap<(&'a str, String), Vec<&'a Finding>>>;
    let mut suites: BTreeMap<Platform, Cases> = BTreeMap::new();
    for q in report.registry.queries().filter(|q| !q.deprecated) {
        for platform in q.platforms() {
            suites
                .entry(platform)
                .or_default()
                .entry(&q.id)
                .or_default();
        }
    }
    for f in report
        .result
        .findings
        .iter()
        .filter(|f| f.suppressed.is_none())
    {
        let Some(q) = report.registry.get(&f.query_id) else {
            continue;
        };
        suites
            .entry(f.platform)
            .or_default()
            .entry(&q.id)
            .or_default()
            .entry((f.file.as_str(), f.instance()))
            .or_default()
            .push(f);
    }
    let errors: Vec<_> = report
        .result
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Error)
        .collect();

    let mut body = String::new();
    let (mut total_tests, mut total_failures) = (0, 0);
    for (platform, queries) in &suites {
        let mut cases = String::new();
        let (mut tests, mut failures) = (0, 0);
        for (id, entities) in queries {
            let title = report.registry.get(id).map_or("", |q| q.title.as_str());
            if entities.is_empty() {
                tests += 1;
                let _ = writeln!(
                    cases,
                    "    <testcase classname=\"{platform}.{id}\" name=\"{}\"/>",
                    xml(title)
                );
                continue;
            }
            for ((file, entity), findings) in entities {
                tests += 1;
                failures += 1;
                let first = findings[0];
                let detail: Vec<String> = findings
                    .iter()
                    .map(|f| {
                        format!(
                            "{}:{}:{}: {}",
                            f.file, f.span.start_line, f.span.start_col, f.message
                        )
                    })
                    .collect();
                let _ = writeln!(
                    cases,
                    "    <testcase classname=\"{platform}.{id}\" name=\"{}\" file=\"{}\" line=\"{}\">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
                    xml(&format!("{file}: {entity}")),
                    xml(file),
                    first.span.start_line,
                    xml(&format!("{title}: {}", first.message)),
                    first.severity,
                    xml(&detail.join("\n")),
                );
            }
        }
        total_tests += tests;
        total_failures += failures;
        let _ = write!(
            body,
            "  <testsuite name=\"{platform}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">\n{cases}  </testsuite>\n"
        );
    }
    if !errors.is_empty() {
        let mut cases = String::new();
        for d in &errors {
            let _ = writeln!(
                cases,
                "    <testcase classname=\"parse\" name=\"{}\" file=\"{}\" line=\"{}\">\n      <error message=\"{}\">{}</error>\n    </testcase>",
                xml(&d.file),
                xml(&d.file),
                d.line,
                xml(&d.message),
                xml(&d.to_string()),
            );
        }
        total_tests += errors.len();
        let _ = write!(
            body,
            "  <testsuite name=\"parse\" tests=\"{n}\" failures=\"0\" errors=\"{n}\" skipped=\"0\">\n{cases}  </testsuite>\n",
            n = errors.len()
        );
    }
    write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"rampart\" tests=\"{total_tests}\" failures=\"{total_failures}\" errors=\"{}\" time=\"{:.3}\">\n{body}</testsuites>\n",
        errors.len(),
        report.result.stats.seconds,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_xml() {
        assert_eq!(
            xml("a<b>&\"c'\u{1}"),
            "a&lt;b&gt;&amp;&quot;c&apos;\u{FFFD}"
        );
    }
}
