//! `selected_by`: whether an entity anywhere in the scan, of a kind,
//! selects this one in its scope (a NetworkPolicy whose `podSelector`
//! matches a pod's labels in the pod's namespace). Unlike the relations of
//! [`super::relation`], which stay within a unit, the selecting entity may
//! be in any file: policies live in a `policies/` directory, a chart
//! renders its own.
//!
//! Units are queried in parallel and dropped, so no unit sees another's
//! entities. Instead the scan first reads the units that may declare a
//! selecting kind ([`Wanted::may_declare`], a text test, so most files are
//! not parsed twice) and keeps each selector, owned and small, in a
//! [`ScanIndex`] by scope; every unit is then queried with the index in
//! view. Looking a pod up costs the selectors of its own namespace, not a
//! pass over the scan.
//!
//! Where there is no index (the admission webhook sees one object at a
//! time, with no tree around it), `selected_by` is unknown, so a query
//! built on it never fires there.

use std::collections::HashMap;

use crate::load::LoadedUnit;
use crate::platform::{LoadedFile, Platform, Selectable, Selector, Truth, kind_covers};
use crate::tree::Node;

/// The kinds the registry's `selected_by` conditions ask for, by platform.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Wanted(Vec<(Platform, String)>);

impl Wanted {
    /// The (platform, kind) pairs that `selected_by` conditions ask for
    /// ([`super::registry::Registry::selecting_kinds`]).
    pub fn new(mut kinds: Vec<(Platform, String)>) -> Wanted {
        kinds.sort();
        kinds.dedup();
        Wanted(kinds)
    }

    /// No query asks: the scan needs no index.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a file whose source is `text` may declare a wanted entity,
    /// as the platforms' models judge from text alone.
    pub fn may_declare(&self, text: &str) -> bool {
        self.0
            .iter()
            .any(|(platform, kind)| platform.model().may_declare(text, kind))
    }

    /// An index holding nothing yet, for the wanted kinds.
    pub fn index(&self) -> ScanIndex {
        ScanIndex {
            kinds: self
                .0
                .iter()
                .map(|(platform, kind)| KindIndex {
                    platform: *platform,
                    kind: kind.clone(),
                    by_scope: HashMap::new(),
                    anywhere: Vec::new(),
                })
                .collect(),
            complete: true,
        }
    }

    /// The selectors the wanted entities of a loaded unit declare. A large
    /// stream is read for the documents holding them alone.
    pub fn collect(&self, unit: &LoadedUnit) -> ScanIndex {
        let mut index = self.index();
        for file in &unit.files {
            if file.streamed {
                let kinds: Vec<String> = self
                    .0
                    .iter()
                    .filter(|(p, _)| *p == file.platform)
                    .map(|(_, k)| k.clone())
                    .collect();
                let (documents, _, _) =
                    crate::load::read_streamed(file, &kinds, |context, _| context.to_vec());
                index.add_documents(file, &documents);
            } else {
                index.add_documents(file, &file.documents);
            }
        }
        index
    }
}

/// The selectors of every wanted entity of a scan, by kind and scope.
#[derive(Debug, Default)]
pub struct ScanIndex {
    kinds: Vec<KindIndex>,
    /// False when a unit that may hold selectors could not be read: a
    /// selector missed could be the one that selects, so "not selected"
    /// becomes unknown.
    complete: bool,
}

/// The selectors of one kind.
#[derive(Debug)]
struct KindIndex {
    platform: Platform,
    kind: String,
    /// Selectors by the scope they select in.
    by_scope: HashMap<String, Vec<Selector>>,
    /// Selectors whose scope is not known: they might select in any.
    anywhere: Vec<Selector>,
}

impl ScanIndex {
    fn add_documents(&mut self, file: &LoadedFile, documents: &[Node]) {
        let model = file.platform.model();
        let entities = crate::platform::entities(file.platform, documents);
        for entity in &entities {
            for kind in self
                .kinds
                .iter_mut()
                .filter(|k| k.platform == file.platform && kind_covers(&k.kind, &entity.kind))
            {
                if let Some(selector) = model.selector(entity) {
                    match selector.scope.clone() {
                        Some(scope) => kind.by_scope.entry(scope).or_default().push(selector),
                        None => kind.anywhere.push(selector),
                    }
                }
            }
        }
    }

    /// Adds another unit's selectors (indexes of the same [`Wanted`]).
    pub fn merge(&mut self, other: ScanIndex) {
        self.complete &= other.complete;
        for theirs in other.kinds {
            let Some(mine) = self
                .kinds
                .iter_mut()
                .find(|k| k.platform == theirs.platform && k.kind == theirs.kind)
            else {
                self.kinds.push(theirs);
                continue;
            };
            for (scope, selectors) in theirs.by_scope {
                mine.by_scope.entry(scope).or_default().extend(selectors);
            }
            mine.anywhere.extend(theirs.anywhere);
        }
    }

    /// Notes that a unit that may declare selectors could not be read.
    pub fn mark_incomplete(&mut self) {
        self.complete = false;
    }

    /// How many selectors it holds.
    pub fn len(&self) -> usize {
        self.kinds
            .iter()
            .map(|k| k.by_scope.values().map(Vec::len).sum::<usize>() + k.anywhere.len())
            .sum()
    }

    /// Whether it holds no selector.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether an entity of `kind` of `platform`, anywhere in the scan,
    /// selects `target` in its scope: unknown when a selector that might
    /// apply cannot be read, or when the index missed a unit.
    pub fn selects(&self, platform: Platform, kind: &str, target: &Selectable) -> Truth {
        let mut unknown = !self.complete;
        let kinds = self
            .kinds
            .iter()
            .filter(|k| k.platform == platform && k.kind == kind);
        for k in kinds {
            let candidates: Box<dyn Iterator<Item = &Selector>> = match &target.scope {
                Some(scope) => Box::new(k.by_scope.get(scope).into_iter().flatten()),
                // Not knowing the entity's scope, any selector might be in it.
                None => Box::new(k.by_scope.values().flatten()),
            };
            for selector in candidates.chain(&k.anywhere) {
                match selector.test.selects(target) {
                    Truth::Yes if selector.scope.is_some() && target.scope.is_some() => {
                        return Truth::Yes;
                    }
                    // A selector in a scope not known (or an entity whose
                    // scope is not known) might be elsewhere.
                    Truth::Yes | Truth::Unknown => unknown = true,
                    Truth::No => {}
                }
            }
        }
        if unknown { Truth::Unknown } else { Truth::No }
    }
}
