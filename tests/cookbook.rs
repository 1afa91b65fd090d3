//! The cookbook of `docs/queries.md`: every recipe is a query in
//! `docs/examples/queries/` whose cases in `docs/examples/fixtures/` pass,
//! and the page shows each query exactly as it is on disk.

use std::path::Path;

use rampart::testing;

fn examples() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples")
}

/// The recipes, in the order the page shows them.
const RECIPES: [&str; 10] = [
    "tf-team-required-tags",
    "k8s-team-required-labels",
    "k8s-team-allowed-registries",
    "docker-team-allowed-base-images",
    "tf-team-allowed-regions",
    "tf-team-bucket-naming",
    "tf-team-forbidden-instance-types",
    "tf-team-instance-open-security-group",
    "tf-team-lb-without-waf",
    "tf-team-security-group-unattached",
];

#[test]
fn every_recipe_passes_its_cases() {
    let report = testing::run_pack(&examples(), 2).expect("the recipes compile");
    let mut out = Vec::new();
    testing::render(&report, &mut out).expect("renders");
    let text = String::from_utf8(out).expect("utf-8");
    assert!(report.passed(), "{text}");
    assert_eq!(
        text.lines().last(),
        Some("20 passed, 0 failed (20 cases of 10 queries)"),
        "{text}"
    );
    let mut ids: Vec<&str> = report.cases.iter().map(|c| c.query_id.as_str()).collect();
    ids.dedup();
    let mut expected = RECIPES.to_vec();
    expected.sort_unstable();
    assert_eq!(ids, expected);
}

#[test]
fn the_page_shows_each_recipe_as_it_is_on_disk() {
    let page =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/queries.md"))
            .expect("docs/queries.md");
    let cookbook = page
        .split_once("## Cookbook\n")
        .and_then(|(_, rest)| rest.split_once("\n## ").map(|(section, _)| section))
        .expect("a Cookbook section");
    let mut at = 0;
    for id in RECIPES {
        let query = std::fs::read_to_string(examples().join(format!("queries/{id}.yaml")))
            .expect("recipe file");
        let block = format!("```yaml\n{query}```\n");
        let found = cookbook[at..]
            .find(&block)
            .unwrap_or_else(|| panic!("the cookbook does not show {id} as on disk"));
        at += found + block.len();
    }
}
