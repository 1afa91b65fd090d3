//! One object of a build with the names it has had, so references written
//! with an earlier name (before a prefix, a suffix or a hash) still find it.

use super::node::{KNode, Loc};

/// An object being built.
#[derive(Clone, Debug)]
pub struct Resource {
    /// The object.
    pub obj: KNode,
    /// Every name it has had, oldest first; the last is the current one.
    pub names: Vec<String>,
    /// Every namespace it has had (`""`: none), oldest first.
    pub namespaces: Vec<String>,
    /// A generated ConfigMap/Secret whose name takes the content hash.
    pub needs_hash: bool,
    /// Where the object was written (its first line), for origins lost on the way.
    pub at: Loc,
}

impl Resource {
    /// A resource read from a file.
    pub fn new(obj: KNode, needs_hash: bool) -> Self {
        let at = obj.at;
        let name = obj
            .at_path(&["metadata", "name"])
            .and_then(KNode::scalar_text)
            .unwrap_or_default();
        let ns = obj
            .at_path(&["metadata", "namespace"])
            .and_then(KNode::scalar_text)
            .unwrap_or_default();
        Resource {
            obj,
            names: vec![name],
            namespaces: vec![ns],
            needs_hash,
            at,
        }
    }

    /// `kind`.
    pub fn kind(&self) -> &str {
        self.obj.get("kind").and_then(KNode::as_str).unwrap_or("")
    }

    /// `apiVersion`.
    pub fn api_version(&self) -> &str {
        self.obj
            .get("apiVersion")
            .and_then(KNode::as_str)
            .unwrap_or("")
    }

    /// The API group (`""` for core).
    pub fn group(&self) -> &str {
        match self.api_version().rsplit_once('/') {
            Some((g, _)) => g,
            None => "",
        }
    }

    /// The API version without the group.
    pub fn version(&self) -> &str {
        match self.api_version().rsplit_once('/') {
            Some((_, v)) => v,
            None => self.api_version(),
        }
    }

    /// The current name.
    pub fn name(&self) -> &str {
        self.names.last().map(String::as_str).unwrap_or("")
    }

    /// The current namespace (`""`: none).
    pub fn namespace(&self) -> &str {
        self.namespaces.last().map(String::as_str).unwrap_or("")
    }

    /// Whether `name` is this object's name now or was earlier.
    pub fn had_name(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    /// Renames the object, remembering the old name.
    pub fn rename(&mut self, name: String, at: Loc) {
        if let Some(meta) = self.obj.child_map("metadata", at) {
            meta.set("name", KNode::str(name.clone(), at), at);
        }
        if self.name() != name {
            self.names.push(name);
        }
    }

    /// Moves the object to `ns`, remembering the old namespace. Setting the
    /// namespace it already has still counts as a move (as in kustomize,
    /// where references to it are then rewritten with the namespace).
    pub fn set_namespace(&mut self, ns: &str, at: Loc) {
        if let Some(meta) = self.obj.child_map("metadata", at) {
            meta.set("namespace", KNode::str(ns, at), at);
        }
        self.namespaces.push(ns.to_string());
    }

    /// `metadata.labels` as (key, value) pairs.
    pub fn labels(&self) -> Vec<(String, String)> {
        map_pairs(self.obj.at_path(&["metadata", "labels"]))
    }

    /// `metadata.annotations` as (key, value) pairs.
    pub fn annotations(&self) -> Vec<(String, String)> {
        map_pairs(self.obj.at_path(&["metadata", "annotations"]))
    }

    /// Re-reads name and namespace after a patch may have changed them.
    pub fn sync_identity(&mut self) {
        let name = self
            .obj
            .at_path(&["metadata", "name"])
            .and_then(KNode::scalar_text)
            .unwrap_or_default();
        if name != self.name() {
            self.names.push(name);
        }
        let ns = self
            .obj
            .at_path(&["metadata", "namespace"])
            .and_then(KNode::scalar_text)
            .unwrap_or_default();
        if ns != self.namespace() {
            self.namespaces.push(ns);
        }
    }
}

fn map_pairs(node: Option<&KNode>) -> Vec<(String, String)> {
    node.map(|n| {
        n.entries()
            .iter()
            .map(|e| (e.key.clone(), e.node.scalar_text().unwrap_or_default()))
            .collect()
    })
    .unwrap_or_default()
}
