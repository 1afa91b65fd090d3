//! Control-plane components recognised in a container: a static pod
//! manifest (`/etc/kubernetes/manifests/kube-apiserver.yaml`) runs the
//! component as its container's program. The container then has the derived
//! kind `container.<component>`, which the CIS flag queries select, so no
//! query repeats the recognition. The same settings written in a component
//! configuration file (`KubeletConfiguration`, `KubeSchedulerConfiguration`,
//! ...) are objects of that kind, and the queries select both forms under
//! one id.

use crate::tree::Node;

/// The components recognised, by program name.
pub const COMPONENTS: [&str; 6] = [
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "etcd",
    "kubelet",
    "kube-proxy",
];

/// The component a container runs, if any: an element of `command` that is
/// the program (`kube-apiserver`, `/usr/local/bin/kube-apiserver`), not a
/// flag or a flag's value ending in the name; or, with no `command`, an
/// image of the component (its entrypoint runs it, the flags are in
/// `args`).
pub fn component(container: &Node) -> Option<&'static str> {
    match container.get("command") {
        Some(command) => command
            .items()
            .iter()
            .filter_map(Node::as_str)
            .find_map(program),
        None => container
            .get("image")
            .and_then(Node::as_str)
            .and_then(image_component),
    }
}

/// The component named by a command element that is a program path.
fn program(word: &str) -> Option<&'static str> {
    if word.starts_with('-') || word.contains('=') {
        return None;
    }
    let base = word.rsplit('/').next().unwrap_or(word);
    COMPONENTS.into_iter().find(|c| *c == base)
}

/// The component an image reference names (`registry.k8s.io/kube-apiserver:v1.30.0`).
fn image_component(image: &str) -> Option<&'static str> {
    let name = image.split(['@']).next().unwrap_or(image);
    // The last path segment, without its tag (a registry port is in an
    // earlier segment).
    let last = name.rsplit('/').next().unwrap_or(name);
    let last = last.split(':').next().unwrap_or(last);
    COMPONENTS.into_iter().find(|c| *c == last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::yaml;
    use crate::tree::LineIndex;

    fn container(text: &str) -> Node {
        let index = LineIndex::new(text);
        yaml::parse(text, &index)
            .documents
            .into_iter()
            .next()
            .expect("a document")
    }

    #[test]
    fn recognised_by_program_not_flag_values() {
        let cases = [
            (
                "command: [kube-apiserver, --secure-port=6443]",
                Some("kube-apiserver"),
            ),
            ("command: [/usr/local/bin/etcd]", Some("etcd")),
            // An element that is only the program name counts, as it did
            // when each query carried this test as a regex.
            ("command: [sh, -c, kube-scheduler]", Some("kube-scheduler")),
            ("command: [app, --peer=kube-apiserver]", None),
            (
                "command: [app, --name, kube-apiserver]",
                Some("kube-apiserver"),
            ),
            (
                "image: registry.k8s.io/kube-controller-manager:v1.30.0",
                Some("kube-controller-manager"),
            ),
            ("image: localhost:5000/etcd@sha256:abc", Some("etcd")),
            ("image: example.com/kube-apiserver-proxy:1", None),
            ("{command: [app], image: registry.k8s.io/etcd:3.5}", None),
        ];
        for (text, want) in cases {
            assert_eq!(component(&container(text)), want, "{text}");
        }
    }
}
