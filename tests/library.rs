//! The built-in query library: it loads, every query's fixtures pass, and
//! every query carries what users need (remediation, references, aliases).

use std::path::Path;

use rampart::query::registry::Registry;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_fixture_yields_exactly_its_marked_findings() {
    let report = rampart::testing::run_pack(root(), 2).expect("the library loads");
    let mut text = Vec::new();
    rampart::testing::render(&report, &mut text).expect("render");
    let text = String::from_utf8(text).expect("utf-8");
    assert!(report.passed(), "{text}");
    assert!(!report.cases.is_empty());
}

#[test]
fn the_embedded_library_is_the_one_on_disk() {
    let embedded = Registry::load(true, &[] as &[&Path]).expect("embedded library loads");
    let on_disk = Registry::load(false, &[root().join("queries")]).expect("library on disk loads");
    let ids = |r: &Registry| r.queries().map(|q| q.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&embedded), ids(&on_disk));
}

/// The headings of the built-in queries, as `src/query/headings.json` must
/// hold them for a scan to compile only the queries it meets.
#[test]
fn the_headings_file_is_the_compilers() {
    use rampart::query::heading::{Heading, write_headings};
    use rampart::query::registry::{embedded_queries, embedded_queries_hash};
    // Compiled here, whole, from the embedded texts: not from the file.
    let compiled = Registry::from_sources(
        embedded_queries()
            .iter()
            .map(|(path, text)| (format!("queries/{path}"), *text)),
    )
    .expect("library compiles");
    let headings: Vec<Heading> = compiled.queries().map(Heading::of).collect();
    let generated = write_headings(embedded_queries_hash(), &headings);
    let file = root().join("src/query/headings.json");
    let current = std::fs::read_to_string(&file).unwrap_or_default();
    if current == generated {
        // And the registry a scan loads reads the same headings.
        let loaded = Registry::load(true, &[] as &[&Path]).expect("loads");
        assert_eq!(loaded.headings().cloned().collect::<Vec<_>>(), headings);
        return;
    }
    if std::env::var_os("RAMPART_UPDATE_DOCS").is_some() {
        std::fs::write(&file, generated).expect("write");
        return;
    }
    panic!(
        "{} is out of date with queries/: run `RAMPART_UPDATE_DOCS=1 cargo test --test library` (until then every run compiles the whole library)",
        file.display()
    );
}

#[test]
fn every_query_is_documented_for_users() {
    let registry = Registry::load(true, &[] as &[&Path]).expect("loads");
    let mut problems = Vec::new();
    for q in registry.queries() {
        if q.remediation.lines().count() < 2 {
            problems.push(format!("{}: remediation has no snippet", q.id));
        }
        if q.references.is_empty() {
            problems.push(format!("{}: no references", q.id));
        }
        // A query with no equivalent in other tools says so with
        // `aliases: {}` and a note; leaving the field out is an oversight.
        let text = std::fs::read_to_string(root().join(&q.source)).unwrap_or_default();
        if q.aliases.is_empty() && !text.lines().any(|l| l.starts_with("aliases:")) {
            problems.push(format!(
                "{}: no aliases (write `aliases: {{}}` if no other tool has this check)",
                q.id
            ));
        }
        // A query for one platform lives under it; a concept checked on
        // several platforms under its provider (`queries/aws/`).
        let expected_dir = match q.platforms().as_slice() {
            [one] => format!("queries/{}/", one.name()),
            _ => format!("queries/{}/", q.id.split('-').next().unwrap_or("")),
        };
        if !q.source.starts_with(&expected_dir) {
            problems.push(format!(
                "{}: {} is not under {expected_dir}",
                q.id, q.source
            ));
        }
        if !q.source.ends_with(&format!("/{}.yaml", q.id)) {
            problems.push(format!(
                "{}: file name {} does not match the id",
                q.id, q.source
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The generated catalogue at the end of `docs/queries.md` and the counts
/// in the README: one line per query (id, severity, title, aliases).
fn catalogue(registry: &Registry) -> String {
    let mut out = String::from("<!-- BEGIN GENERATED: rampart queries -->\n");
    for platform in rampart::platform::Platform::ALL {
        let queries: Vec<_> = registry
            .queries()
            .filter(|q| q.rule_for(platform).is_some() && !q.deprecated)
            .collect();
        if queries.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "\n### {} ({})\n\n| id | severity | title | aliases |\n| --- | --- | --- | --- |\n",
            platform,
            queries.len()
        ));
        for q in queries {
            let aliases: Vec<String> = q
                .aliases
                .iter()
                .map(|(tool, ids)| format!("{tool}: {}", ids.join(", ")))
                .collect();
            out.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                q.id,
                q.severity,
                q.title.replace('|', "\\|"),
                aliases.join("; ")
            ));
        }
    }
    out.push_str("\n<!-- END GENERATED -->");
    out
}

fn counts_line(registry: &Registry) -> String {
    let parts: Vec<String> = rampart::platform::Platform::ALL
        .iter()
        .map(|p| {
            let n = registry
                .queries()
                .filter(|q| q.rule_for(*p).is_some() && !q.deprecated)
                .count();
            format!("{p} {n}")
        })
        .collect();
    let total = registry.queries().filter(|q| !q.deprecated).count();
    format!(
        "<!-- counts -->{total} queries: {}<!-- /counts -->",
        parts.join(", ")
    )
}

/// Replaces the text between `begin` and `end` (inclusive) in `file`.
fn in_sync(file: &Path, begin: &str, end: &str, generated: &str) {
    let text = std::fs::read_to_string(file).expect("read");
    let (Some(start), Some(stop)) = (text.find(begin), text.find(end)) else {
        panic!("{} has no {begin} ... {end} section", file.display());
    };
    let current = &text[start..stop + end.len()];
    if current == generated {
        return;
    }
    if std::env::var_os("RAMPART_UPDATE_DOCS").is_some() {
        let updated = format!("{}{generated}{}", &text[..start], &text[stop + end.len()..]);
        std::fs::write(file, updated).expect("write");
        return;
    }
    panic!(
        "{} is out of date with queries/: run `RAMPART_UPDATE_DOCS=1 cargo test --test library`",
        file.display()
    );
}

/// The concepts other tools check that rampart deliberately does not, from
/// `docs/written-off/*.tsv` (`concept<TAB>reason`, one a line, `#` comments):
/// one table per file, in `docs/queries.md`.
fn written_off() -> String {
    let folder = root().join("docs/written-off");
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .expect("docs/written-off exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "tsv"))
        .collect();
    files.sort();
    let mut out = String::from("<!-- BEGIN GENERATED: written off -->\n");
    let mut seen = std::collections::BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        let name = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let rows: Vec<(&str, &str)> = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|l| {
                let (concept, reason) = l.split_once('\t').unwrap_or((l, ""));
                assert!(
                    !concept.is_empty() && !concept.contains(' ') && reason.trim().len() >= 10,
                    "{}: `{l}` is not `concept<TAB>reason` with a reason",
                    file.display()
                );
                assert!(
                    seen.insert(concept.to_string()),
                    "{concept} written off twice"
                );
                (concept, reason.trim())
            })
            .collect();
        if rows.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "\n#### {name} ({})\n\n| concept | why not |\n| --- | --- |\n",
            rows.len()
        ));
        for (concept, reason) in rows {
            out.push_str(&format!(
                "| `{concept}` | {} |\n",
                reason.replace('|', "\\|")
            ));
        }
    }
    out.push_str("\n<!-- END GENERATED: written off -->");
    out
}

#[test]
fn generated_docs_are_in_sync() {
    let registry = Registry::load(true, &[] as &[&Path]).expect("loads");
    in_sync(
        &root().join("docs/queries.md"),
        "<!-- BEGIN GENERATED: rampart queries -->",
        "<!-- END GENERATED -->",
        &catalogue(&registry),
    );
    in_sync(
        &root().join("docs/queries.md"),
        "<!-- BEGIN GENERATED: written off -->",
        "<!-- END GENERATED: written off -->",
        &written_off(),
    );
    in_sync(
        &root().join("README.md"),
        "<!-- counts -->",
        "<!-- /counts -->",
        &counts_line(&registry),
    );
}
