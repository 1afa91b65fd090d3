//! The loaded query library: every query compiled, checked for duplicates,
//! sorted by id, and indexed by the entity kinds it selects, so an entity
//! meets only the queries that apply to it.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::compile::{LoadError, compile_with};
use super::parameter::Overrides;
use super::{Query, Rule};
use crate::platform::Platform;

/// Query files built into the binary: (path under `queries/`, text).
pub fn embedded_queries() -> &'static [(&'static str, &'static str)] {
    crate::embedded::QUERIES
}

/// A compiled, indexed set of queries.
#[derive(Debug, Default)]
pub struct Registry {
    queries: Vec<Query>,
    /// (platform, kind) to (query, rule) indices.
    index: HashMap<(Platform, String), Vec<(usize, usize)>>,
}

impl Registry {
    /// Compiles `sources` (name, text). Every error of every file is
    /// collected; with any error, no registry is returned: nothing is
    /// scanned with a half-loaded library.
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = (String, &'a str)>,
    ) -> Result<Registry, Vec<LoadError>> {
        Registry::from_sources_with(sources, &Overrides::new())
    }

    /// [`Registry::from_sources`] with parameters set by settings files.
    /// A value for a query id no query has is an error at its line: a typo
    /// must not leave a policy at its default unnoticed.
    pub fn from_sources_with<'a>(
        sources: impl IntoIterator<Item = (String, &'a str)>,
        overrides: &Overrides,
    ) -> Result<Registry, Vec<LoadError>> {
        let mut queries = Vec::new();
        let mut errors = Vec::new();
        let mut ids = std::collections::HashSet::new();
        for (name, text) in sources {
            // The id is only known once compiled; a query with overrides
            // is compiled again with them (few are).
            let compiled = super::compile::compile(&name, text).and_then(|q| {
                ids.insert(q.id.clone());
                match overrides.get(&q.id) {
                    Some(o) => compile_with(&name, text, Some(o)),
                    None => Ok(q),
                }
            });
            match compiled {
                Ok(q) => queries.push(q),
                Err(e) => errors.extend(e),
            }
        }
        for (id, values) in overrides {
            if !ids.contains(id)
                && let Some(o) = values.values().next()
            {
                errors.push(LoadError {
                    file: o.file.clone(),
                    line: o.node.span.start_line,
                    column: o.node.span.start_col,
                    message: format!(
                        "parameters: unknown query id \"{id}\" (see `rampart queries`)"
                    ),
                });
            }
        }
        queries.sort_by(|a, b| a.id.cmp(&b.id));
        // Ids and former ids share one namespace: a former id names the
        // queries that replaced it, and nothing else. Several queries may
        // share a former id only when one query was split into concepts
        // side by side (files in one directory); a current id is unique.
        let mut names: Vec<(String, bool, usize)> = Vec::new();
        for (i, q) in queries.iter().enumerate() {
            names.push((q.id.to_ascii_lowercase(), false, i));
            names.extend(
                q.former_ids()
                    .iter()
                    .map(|f| (f.to_ascii_lowercase(), true, i)),
            );
        }
        names.sort();
        for pair in names.windows(2) {
            let ((name, former_a, a), (other, former_b, b)) = (&pair[0], &pair[1]);
            if name != other {
                continue;
            }
            let (first, second) = (&queries[*a], &queries[*b]);
            let split = *former_a
                && *former_b
                && Path::new(&first.source).parent() == Path::new(&second.source).parent();
            if !split {
                errors.push(LoadError {
                    file: second.source.clone(),
                    line: 1,
                    column: 1,
                    message: format!(
                        "duplicate query id \"{other}\": also defined in {}",
                        first.source
                    ),
                });
            }
        }
        if !errors.is_empty() {
            errors.sort();
            return Err(errors);
        }
        Ok(Registry::new(queries))
    }

    /// The built-in library (unless `builtin` is false) plus every
    /// `*.yaml` / `*.yml` under `dirs`.
    pub fn load(builtin: bool, dirs: &[impl AsRef<Path>]) -> Result<Registry, Vec<LoadError>> {
        Registry::load_with(builtin, dirs, &Overrides::new())
    }

    /// [`Registry::load`] with parameters set by settings files.
    pub fn load_with(
        builtin: bool,
        dirs: &[impl AsRef<Path>],
        overrides: &Overrides,
    ) -> Result<Registry, Vec<LoadError>> {
        let mut sources: Vec<(String, String)> = Vec::new();
        if builtin {
            sources.extend(
                embedded_queries()
                    .iter()
                    .map(|(path, text)| (format!("queries/{path}"), text.to_string())),
            );
        }
        let builtin: HashSet<String> = sources.iter().map(|(name, _)| name.clone()).collect();
        let mut errors = Vec::new();
        for dir in dirs {
            read_query_dir(dir.as_ref(), &mut sources, &mut errors);
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut registry = Registry::from_sources_with(
            sources.iter().map(|(n, t)| (n.clone(), t.as_str())),
            overrides,
        )?;
        registry.trust_builtin_types(&builtin);
        Ok(registry)
    }

    fn new(queries: Vec<Query>) -> Registry {
        let mut index: HashMap<(Platform, String), Vec<(usize, usize)>> = HashMap::new();
        for (i, q) in queries.iter().enumerate() {
            if q.deprecated {
                continue;
            }
            for (r, rule) in q.rules.iter().enumerate() {
                for kind in &rule.select {
                    index
                        .entry((rule.platform, kind.clone()))
                        .or_default()
                        .push((i, r));
                }
            }
        }
        Registry { queries, index }
    }

    /// Keeps only the queries `keep` accepts, and re-indexes.
    pub fn retain(self, keep: impl Fn(&Query) -> bool) -> Registry {
        Registry::new(self.queries.into_iter().filter(|q| keep(q)).collect())
    }

    /// A registry of the queries `keep` accepts, leaving this one as it is.
    pub fn subset(&self, keep: impl Fn(&Query) -> bool) -> Registry {
        Registry::new(self.queries.iter().filter(|q| keep(q)).cloned().collect())
    }

    /// All queries, sorted by id.
    pub fn queries(&self) -> &[Query] {
        &self.queries
    }

    /// The (platform, kind) pairs the `selected_by` conditions of the
    /// queries in force look for across a scan.
    pub fn selecting_kinds(&self) -> Vec<(Platform, String)> {
        let mut kinds = Vec::new();
        for query in self.queries.iter().filter(|q| !q.deprecated) {
            for rule in &query.rules {
                let mut found = Vec::new();
                rule.condition.selecting_kinds(&mut found);
                kinds.extend(found.into_iter().map(|k| (rule.platform, k)));
            }
        }
        kinds
    }

    /// The query with this id.
    pub fn get(&self, id: &str) -> Option<&Query> {
        self.queries
            .binary_search_by(|q| q.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.queries[i])
    }

    /// The query a user-written id names: its id or a former id,
    /// case-insensitively.
    pub fn find(&self, id: &str) -> Option<&Query> {
        self.get(id)
            .or_else(|| self.queries.iter().find(|q| q.answers_to(id)))
    }

    /// Every query a user-written id names: the one with that id, else the
    /// ones that replaced it (one, or several when a query was split into
    /// concepts), case-insensitively.
    pub fn find_all(&self, id: &str) -> Vec<&Query> {
        match self.get(id) {
            Some(q) => vec![q],
            None => self.queries.iter().filter(|q| q.answers_to(id)).collect(),
        }
    }

    /// The queries a `--only`/`--skip` selector names:
    ///
    /// - a query id or a former id (`aws-s3-public-acl`);
    /// - another tool's id from the queries' `aliases` (`CKV_AWS_20`,
    ///   `AVD-AWS-0086`, a KICS UUID, `DL3015`), optionally prefixed by
    ///   the tool (`checkov:CKV_AWS_20`);
    /// - a platform (`terraform`, `platform:kubernetes`, or its short
    ///   name `tf`, `k8s`, `cfn`, `docker`): every query with a rule for it;
    /// - a category (`category:encryption`).
    ///
    /// All case-insensitive. A selector that names nothing is an error
    /// saying what would have been accepted: a typo must not silently run
    /// or skip a policy.
    pub fn select(&self, selector: &str) -> Result<Vec<&Query>, String> {
        let selector = selector.trim();
        let live = || self.queries.iter().filter(|q| !q.deprecated);
        if let Some(name) = selector.strip_prefix("category:") {
            let found: Vec<&Query> = live()
                .filter(|q| q.category.eq_ignore_ascii_case(name))
                .collect();
            if found.is_empty() {
                let mut known: Vec<&str> = live().map(|q| q.category.as_str()).collect();
                known.sort_unstable();
                known.dedup();
                return Err(format!(
                    "unknown category \"{name}\": expected one of {}",
                    known.join(", ")
                ));
            }
            return Ok(found);
        }
        let platform_name = selector.strip_prefix("platform:");
        if let Some(platform) = Platform::parse(platform_name.unwrap_or(selector)) {
            return Ok(live()
                .filter(|q| q.platforms().contains(&platform))
                .collect());
        }
        if let Some(name) = platform_name {
            return Err(format!(
                "unknown platform \"{name}\": expected one of {}",
                Platform::ALL.map(Platform::name).join(", ")
            ));
        }
        let found = self.find_all(selector);
        if !found.is_empty() {
            return Ok(found);
        }
        // Another tool's id, bare or as `tool:id`.
        let (tool, id) = match selector.split_once(':') {
            Some((tool, id)) if self.knows_tool(tool) => (Some(tool), id),
            _ => (None, selector),
        };
        let found: Vec<&Query> = live()
            .filter(|q| {
                q.aliases.iter().any(|(t, ids)| {
                    t != super::FORMER_IDS
                        && tool.is_none_or(|tool| t.eq_ignore_ascii_case(tool))
                        && ids.iter().any(|i| i.eq_ignore_ascii_case(id))
                })
            })
            .collect();
        if found.is_empty() {
            return Err(format!(
                "unknown query id \"{selector}\": not a query id, another tool's id in the queries' aliases, a platform ({}) or category:NAME (see `rampart queries`)",
                Platform::ALL.map(Platform::name).join(", ")
            ));
        }
        Ok(found)
    }

    /// True when some query has aliases for `tool` (`checkov`, `trivy`).
    fn knows_tool(&self, tool: &str) -> bool {
        self.queries
            .iter()
            .any(|q| q.aliases.keys().any(|t| t.eq_ignore_ascii_case(tool)))
    }

    /// The queries that select an entity of `kind`: those naming the kind
    /// itself or a less specific kind (`resource` for
    /// `resource.<type>`), each once, in id order.
    pub fn for_kind(&self, platform: Platform, kind: &str) -> Vec<(&Query, &Rule)> {
        let mut hits: Vec<(usize, usize)> = Vec::new();
        let mut prefix_end = kind.len();
        loop {
            if let Some(found) = self.index.get(&(platform, kind[..prefix_end].to_string())) {
                hits.extend(found);
            }
            match kind[..prefix_end].rfind('.') {
                Some(dot) => prefix_end = dot,
                None => break,
            }
        }
        hits.sort_unstable();
        hits.dedup();
        hits.into_iter()
            .map(|(q, r)| (&self.queries[q], &self.queries[q].rules[r]))
            .collect()
    }

    /// What compiled but looks wrong in the loaded queries (a selected
    /// resource type rampart does not know), in query order.
    pub fn warnings(&self) -> impl Iterator<Item = &LoadError> {
        self.queries
            .iter()
            .flat_map(|q| q.warnings.iter().map(|w| &w.warning))
    }

    /// Forgets the warnings about types the built-in queries (sources
    /// named in `builtin`) select: the library's own types are known by
    /// definition, even before `scripts/known-types.sh` is rerun.
    fn trust_builtin_types(&mut self, builtin: &HashSet<String>) {
        let mut known: HashSet<(Platform, String)> = HashSet::new();
        for q in self.queries.iter().filter(|q| builtin.contains(&q.source)) {
            for rule in &q.rules {
                let mut kinds = rule.select.clone();
                rule.condition.related_kinds(&mut kinds);
                known.extend(kinds.into_iter().map(|k| (rule.platform, k)));
            }
        }
        for q in &mut self.queries {
            q.warnings
                .retain(|w| !known.contains(&(w.platform, w.kind.clone())));
        }
    }

    /// Number of queries (deprecated ones included).
    pub fn len(&self) -> usize {
        self.queries.len()
    }

    /// True when no query is loaded.
    pub fn is_empty(&self) -> bool {
        self.queries.is_empty()
    }
}

fn read_query_dir(dir: &Path, sources: &mut Vec<(String, String)>, errors: &mut Vec<LoadError>) {
    let mut files = Vec::new();
    collect_yaml(dir, &mut files, errors);
    files.sort();
    for path in files {
        let name = crate::discover::display_path(&path);
        match crate::source::read_settings_text(&path) {
            Ok(text) => sources.push((name, text)),
            Err(e) => errors.push(LoadError {
                file: name,
                line: 0,
                column: 0,
                message: format!("cannot read query file: {e}"),
            }),
        }
    }
}

fn collect_yaml(dir: &Path, out: &mut Vec<std::path::PathBuf>, errors: &mut Vec<LoadError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(LoadError {
                file: crate::discover::display_path(dir),
                line: 0,
                column: 0,
                message: format!("cannot read query directory: {e}"),
            });
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            collect_yaml(&path, out, errors);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Registry;

    fn query(id: &str, former: &str) -> String {
        format!(
            "id: {id}\ntitle: t\nseverity: low\ncategory: encryption\ncwe: []\ndescription: d\nremediation: r\naliases: {{rampart: [{former}]}}\nselect: terraform resource.aws_db_instance\nflag: {{path: a, missing: true}}\nmessage: m\n"
        )
    }

    #[test]
    fn the_library_never_warns() {
        let registry = Registry::load(true, &[] as &[&str]).expect("library loads");
        let warnings: Vec<String> = registry.warnings().map(ToString::to_string).collect();
        assert!(warnings.is_empty(), "{warnings:#?}");
    }

    #[test]
    fn an_unknown_type_warns_unless_allowed() {
        let query = |allow: &str| {
            format!(
                "id: tf-x\ntitle: t\nseverity: low\ncategory: encryption\ncwe: []\ndescription: d\nremediation: r\n{allow}select: terraform resource.aws_s3_buckt\nflag:\n  not:\n    referenced_by: {{select: resource.aws_kms_kye, path: a}}\nmessage: m\n"
            )
        };
        let text = query("");
        let registry = Registry::from_sources([("team/x.yaml".to_string(), text.as_str())])
            .expect("a warning does not stop loading");
        let warnings: Vec<String> = registry.warnings().map(ToString::to_string).collect();
        assert_eq!(
            warnings,
            [
                "team/x.yaml:8:9: field \"select\": unknown terraform resource type \"aws_s3_buckt\"; did you mean \"aws_s3_bucket\"? (a query selecting it never fires; set allow_unknown_type: true if the type is right)",
                "team/x.yaml:11:29: flag.not.referenced_by.select: unknown terraform resource type \"aws_kms_kye\"; did you mean \"aws_kms_key\"? (a query selecting it never fires; set allow_unknown_type: true if the type is right)",
            ]
        );
        let allowed = query("allow_unknown_type: true\n");
        let registry =
            Registry::from_sources([("team/x.yaml".to_string(), allowed.as_str())]).expect("loads");
        assert_eq!(registry.warnings().count(), 0);
        let bad = query("allow_unknown_type: maybe\n");
        let errors = Registry::from_sources([("team/x.yaml".to_string(), bad.as_str())])
            .expect_err("not a boolean");
        assert!(
            errors[0].message.contains("allow_unknown_type"),
            "{errors:?}"
        );
    }

    #[test]
    fn a_former_id_names_one_query_or_the_concepts_it_was_split_into() {
        let (a, b) = (query("tf-a", "tf-old"), query("tf-b", "tf-old"));
        // Split side by side: both answer to the former id.
        let registry = Registry::from_sources([
            ("queries/aws/x/tf-a.yaml".to_string(), a.as_str()),
            ("queries/aws/x/tf-b.yaml".to_string(), b.as_str()),
        ])
        .expect("loads");
        let found: Vec<&str> = registry
            .find_all("TF-OLD")
            .iter()
            .map(|q| q.id.as_str())
            .collect();
        assert_eq!(found, ["tf-a", "tf-b"]);
        assert_eq!(registry.find_all("tf-b").len(), 1);
        // In different directories (another pack): a duplicate.
        let errors = Registry::from_sources([
            ("queries/aws/x/tf-a.yaml".to_string(), a.as_str()),
            ("team/tf-b.yaml".to_string(), b.as_str()),
        ])
        .expect_err("duplicate");
        assert!(errors[0].message.contains("duplicate query id \"tf-old\""));
        // A former id is never a current id.
        let c = query("tf-old", "x");
        let errors = Registry::from_sources([
            ("queries/aws/x/tf-a.yaml".to_string(), a.as_str()),
            ("queries/aws/x/tf-old.yaml".to_string(), c.as_str()),
        ])
        .expect_err("duplicate");
        assert!(errors[0].message.contains("duplicate query id \"tf-old\""));
    }
}
