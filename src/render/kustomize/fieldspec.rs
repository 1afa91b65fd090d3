//! Where kustomize writes: the field specs of its built-in transformers
//! (labels, annotations, images, replicas, namespaces) and of name
//! references, kept as data, as kustomize keeps them
//! (`api/konfig/builtinpluginconsts`).

use super::node::{KNode, Loc, Val};

/// One place in objects of one kind (or every kind).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldSpec {
    /// API group the object must have (`None`: any).
    pub group: Option<String>,
    /// Kind the object must have (`None`: any).
    pub kind: Option<String>,
    /// `/`-separated keys; sequences on the way are entered element by element.
    pub path: String,
    /// Whether missing mappings on the way are created.
    pub create: bool,
}

impl FieldSpec {
    fn new(group: Option<&str>, kind: Option<&str>, path: &str, create: bool) -> Self {
        FieldSpec {
            group: group.map(str::to_string),
            kind: kind.map(str::to_string),
            path: path.to_string(),
            create,
        }
    }

    /// Whether the spec applies to an object of `group`/`kind`.
    pub fn applies(&self, group: &str, kind: &str) -> bool {
        self.kind.as_deref().is_none_or(|k| k == kind)
            && self.group.as_deref().is_none_or(|g| g == group)
    }
}

/// Workload kinds and where their pod spec sits.
pub const POD_SPECS: &[(&str, &str)] = &[
    ("Pod", "spec"),
    ("PodTemplate", "template/spec"),
    ("Deployment", "spec/template/spec"),
    ("ReplicaSet", "spec/template/spec"),
    ("DaemonSet", "spec/template/spec"),
    ("StatefulSet", "spec/template/spec"),
    ("Job", "spec/template/spec"),
    ("ReplicationController", "spec/template/spec"),
    ("CronJob", "spec/jobTemplate/spec/template/spec"),
];

/// Kinds that live outside any namespace: the namespace transformer
/// leaves them alone.
pub const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PersistentVolume",
    "StorageClass",
    "PriorityClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "APIService",
    "IngressClass",
    "RuntimeClass",
    "CSIDriver",
    "CSINode",
    "VolumeAttachment",
    "Node",
    "PodSecurityPolicy",
    "ClusterIssuer",
    "CertificateSigningRequest",
    "FlowSchema",
    "PriorityLevelConfiguration",
    "ComponentStatus",
];

/// `commonLabels` (and `labels` with `includeSelectors`): metadata,
/// selectors and templates.
pub fn common_labels() -> Vec<FieldSpec> {
    let mut v = vec![FieldSpec::new(None, None, "metadata/labels", true)];
    let s = |g: Option<&str>, k: &str, p: &str, c: bool| FieldSpec::new(g, Some(k), p, c);
    v.push(s(None, "Service", "spec/selector", true));
    v.push(s(None, "ReplicationController", "spec/selector", true));
    v.push(s(
        None,
        "ReplicationController",
        "spec/template/metadata/labels",
        true,
    ));
    for k in ["Deployment", "ReplicaSet", "DaemonSet", "StatefulSet"] {
        v.push(s(None, k, "spec/selector/matchLabels", true));
        v.push(s(None, k, "spec/template/metadata/labels", true));
    }
    for k in ["Deployment", "StatefulSet"] {
        for aff in ["podAffinity", "podAntiAffinity"] {
            v.push(s(
                Some("apps"),
                k,
                &format!("spec/template/spec/affinity/{aff}/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels"),
                false,
            ));
            v.push(s(
                Some("apps"),
                k,
                &format!("spec/template/spec/affinity/{aff}/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels"),
                false,
            ));
        }
        v.push(s(
            Some("apps"),
            k,
            "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",
            false,
        ));
    }
    v.push(s(
        Some("apps"),
        "StatefulSet",
        "spec/volumeClaimTemplates[]/metadata/labels",
        true,
    ));
    v.push(s(Some("batch"), "Job", "spec/selector/matchLabels", false));
    v.push(s(
        Some("batch"),
        "Job",
        "spec/template/metadata/labels",
        true,
    ));
    v.push(s(
        Some("batch"),
        "CronJob",
        "spec/jobTemplate/spec/selector/matchLabels",
        false,
    ));
    v.push(s(
        Some("batch"),
        "CronJob",
        "spec/jobTemplate/metadata/labels",
        true,
    ));
    v.push(s(
        Some("batch"),
        "CronJob",
        "spec/jobTemplate/spec/template/metadata/labels",
        true,
    ));
    v.push(s(
        Some("policy"),
        "PodDisruptionBudget",
        "spec/selector/matchLabels",
        false,
    ));
    let np = Some("networking.k8s.io");
    v.push(s(
        np,
        "NetworkPolicy",
        "spec/podSelector/matchLabels",
        false,
    ));
    v.push(s(
        np,
        "NetworkPolicy",
        "spec/ingress/from/podSelector/matchLabels",
        false,
    ));
    v.push(s(
        np,
        "NetworkPolicy",
        "spec/egress/to/podSelector/matchLabels",
        false,
    ));
    v
}

/// `labels` with `includeTemplates` (and without selectors): metadata and
/// pod templates.
pub fn template_labels() -> Vec<FieldSpec> {
    let mut v = vec![FieldSpec::new(None, None, "metadata/labels", true)];
    for k in [
        "Deployment",
        "ReplicaSet",
        "DaemonSet",
        "StatefulSet",
        "Job",
        "ReplicationController",
    ] {
        v.push(FieldSpec::new(
            None,
            Some(k),
            "spec/template/metadata/labels",
            true,
        ));
    }
    v.push(FieldSpec::new(
        Some("apps"),
        Some("StatefulSet"),
        "spec/volumeClaimTemplates[]/metadata/labels",
        true,
    ));
    v.push(FieldSpec::new(
        Some("batch"),
        Some("CronJob"),
        "spec/jobTemplate/metadata/labels",
        true,
    ));
    v.push(FieldSpec::new(
        Some("batch"),
        Some("CronJob"),
        "spec/jobTemplate/spec/template/metadata/labels",
        true,
    ));
    v
}

/// `labels` without selectors or templates.
pub fn metadata_labels() -> Vec<FieldSpec> {
    vec![FieldSpec::new(None, None, "metadata/labels", true)]
}

/// `commonAnnotations`: metadata and pod templates.
pub fn common_annotations() -> Vec<FieldSpec> {
    let mut v = vec![FieldSpec::new(None, None, "metadata/annotations", true)];
    for k in [
        "Deployment",
        "ReplicaSet",
        "DaemonSet",
        "StatefulSet",
        "Job",
        "ReplicationController",
    ] {
        v.push(FieldSpec::new(
            None,
            Some(k),
            "spec/template/metadata/annotations",
            true,
        ));
    }
    v.push(FieldSpec::new(
        Some("batch"),
        Some("CronJob"),
        "spec/jobTemplate/metadata/annotations",
        true,
    ));
    v.push(FieldSpec::new(
        Some("batch"),
        Some("CronJob"),
        "spec/jobTemplate/spec/template/metadata/annotations",
        true,
    ));
    v
}

/// `replicas`: where a replica count is written.
pub fn replicas() -> Vec<FieldSpec> {
    [
        "Deployment",
        "ReplicationController",
        "ReplicaSet",
        "StatefulSet",
    ]
    .iter()
    .map(|k| FieldSpec::new(None, Some(k), "spec/replicas", true))
    .collect()
}

/// Kinds whose names `namePrefix`/`nameSuffix` leave alone.
pub fn prefix_skipped(group: &str, kind: &str) -> bool {
    kind == "CustomResourceDefinition"
        || (kind == "APIService" && group == "apiregistration.k8s.io")
}

/// How a reference is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefShape {
    /// The field is the name.
    Name,
    /// The field is a mapping with `name` (and maybe `namespace`).
    Object,
    /// The field is a list of RBAC subjects; only those of the referral's
    /// kind are references.
    Subjects,
}

/// The fields that name an object of one kind.
#[derive(Clone, Debug)]
pub struct NameRef {
    /// Kind of the named object.
    pub kind: String,
    /// Group of the named object (`""`: core).
    pub group: String,
    /// Where referrers name it.
    pub referrers: Vec<(FieldSpec, RefShape)>,
}

/// The default name-reference table.
pub fn name_references() -> Vec<NameRef> {
    let mut out = Vec::new();
    let pods = |rel: &[&str]| -> Vec<(FieldSpec, RefShape)> {
        let mut v = Vec::new();
        for (kind, base) in POD_SPECS {
            for r in rel {
                v.push((
                    FieldSpec::new(None, Some(kind), &format!("{base}/{r}"), false),
                    RefShape::Name,
                ));
            }
        }
        v
    };
    let one = |kind: &str, path: &str| {
        (
            FieldSpec::new(None, Some(kind), path, false),
            RefShape::Name,
        )
    };
    let mut cm = pods(&[
        "volumes/configMap/name",
        "containers/env/valueFrom/configMapKeyRef/name",
        "initContainers/env/valueFrom/configMapKeyRef/name",
        "containers/envFrom/configMapRef/name",
        "initContainers/envFrom/configMapRef/name",
        "volumes/projected/sources/configMap/name",
    ]);
    cm.push(one("Role", "rules/resourceNames"));
    cm.push(one("ClusterRole", "rules/resourceNames"));
    out.push(NameRef {
        kind: "ConfigMap".into(),
        group: String::new(),
        referrers: cm,
    });
    let mut secret = pods(&[
        "volumes/secret/secretName",
        "containers/env/valueFrom/secretKeyRef/name",
        "initContainers/env/valueFrom/secretKeyRef/name",
        "containers/envFrom/secretRef/name",
        "initContainers/envFrom/secretRef/name",
        "imagePullSecrets/name",
        "volumes/projected/sources/secret/name",
    ]);
    secret.push(one("Ingress", "spec/tls/secretName"));
    secret.push(one("ServiceAccount", "imagePullSecrets/name"));
    secret.push(one("ServiceAccount", "secrets/name"));
    secret.push(one("Role", "rules/resourceNames"));
    secret.push(one("ClusterRole", "rules/resourceNames"));
    out.push(NameRef {
        kind: "Secret".into(),
        group: String::new(),
        referrers: secret,
    });
    let mut sa = pods(&["serviceAccountName"]);
    sa.push((
        FieldSpec::new(None, Some("RoleBinding"), "subjects", false),
        RefShape::Subjects,
    ));
    sa.push((
        FieldSpec::new(None, Some("ClusterRoleBinding"), "subjects", false),
        RefShape::Subjects,
    ));
    out.push(NameRef {
        kind: "ServiceAccount".into(),
        group: String::new(),
        referrers: sa,
    });
    let pvc = pods(&["volumes/persistentVolumeClaim/claimName"]);
    out.push(NameRef {
        kind: "PersistentVolumeClaim".into(),
        group: String::new(),
        referrers: pvc,
    });
    out.push(NameRef {
        kind: "PersistentVolume".into(),
        group: String::new(),
        referrers: vec![one("PersistentVolumeClaim", "spec/volumeName")],
    });
    let mut pc = pods(&["priorityClassName"]);
    pc.truncate(pc.len());
    out.push(NameRef {
        kind: "PriorityClass".into(),
        group: "scheduling.k8s.io".into(),
        referrers: pc,
    });
    out.push(NameRef {
        kind: "Service".into(),
        group: String::new(),
        referrers: vec![
            one("StatefulSet", "spec/serviceName"),
            one("Ingress", "spec/rules/http/paths/backend/serviceName"),
            one("Ingress", "spec/backend/serviceName"),
            one("Ingress", "spec/rules/http/paths/backend/service/name"),
            one("Ingress", "spec/defaultBackend/service/name"),
            one("APIService", "spec/service/name"),
            (
                FieldSpec::new(
                    None,
                    Some("ValidatingWebhookConfiguration"),
                    "webhooks/clientConfig/service",
                    false,
                ),
                RefShape::Object,
            ),
            (
                FieldSpec::new(
                    None,
                    Some("MutatingWebhookConfiguration"),
                    "webhooks/clientConfig/service",
                    false,
                ),
                RefShape::Object,
            ),
            (
                FieldSpec::new(
                    None,
                    Some("CustomResourceDefinition"),
                    "spec/conversion/webhook/clientConfig/service",
                    false,
                ),
                RefShape::Object,
            ),
        ],
    });
    out.push(NameRef {
        kind: "Role".into(),
        group: "rbac.authorization.k8s.io".into(),
        referrers: vec![one("RoleBinding", "roleRef/name")],
    });
    out.push(NameRef {
        kind: "ClusterRole".into(),
        group: "rbac.authorization.k8s.io".into(),
        referrers: vec![
            one("RoleBinding", "roleRef/name"),
            one("ClusterRoleBinding", "roleRef/name"),
        ],
    });
    for k in [
        "Deployment",
        "ReplicationController",
        "ReplicaSet",
        "StatefulSet",
    ] {
        out.push(NameRef {
            kind: k.into(),
            group: String::new(),
            referrers: vec![one("HorizontalPodAutoscaler", "spec/scaleTargetRef/name")],
        });
    }
    out.push(NameRef {
        kind: "StorageClass".into(),
        group: "storage.k8s.io".into(),
        referrers: vec![
            one("PersistentVolume", "spec/storageClassName"),
            one("PersistentVolumeClaim", "spec/storageClassName"),
            one(
                "StatefulSet",
                "spec/volumeClaimTemplates/spec/storageClassName",
            ),
        ],
    });
    out.push(NameRef {
        kind: "IngressClass".into(),
        group: "networking.k8s.io".into(),
        referrers: vec![one("Ingress", "spec/ingressClassName")],
    });
    out
}

/// Reads field specs written in a kustomization `configurations` file
/// (`- path: .. kind: .. group: .. create: ..`).
pub fn parse_specs(list: &KNode) -> Vec<FieldSpec> {
    list.items()
        .iter()
        .filter_map(|s| {
            Some(FieldSpec {
                path: s.get("path")?.as_str()?.to_string(),
                kind: s.get("kind").and_then(KNode::as_str).map(str::to_string),
                group: s.get("group").and_then(KNode::as_str).map(str::to_string),
                create: matches!(s.get("create").map(|n| &n.val), Some(Val::Bool(true))),
            })
        })
        .collect()
}

/// Calls `f` on every value at `path` in `obj` (sequences entered element
/// by element); with `create`, missing mappings are made (at `at`) and `f`
/// gets the parent mapping and the last key, so it can create the field.
pub fn visit(
    obj: &mut KNode,
    path: &[&str],
    create: bool,
    at: Loc,
    f: &mut dyn FnMut(&mut KNode, &str),
) {
    match &mut obj.val {
        Val::Seq(items) => {
            for item in items {
                visit(item, path, create, at, f);
            }
            return;
        }
        Val::Map(_) => {}
        _ => return,
    }
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let key = first.trim_end_matches("[]");
    if rest.is_empty() {
        f(obj, key);
        return;
    }
    if obj.get(key).is_none() || matches!(obj.get(key).map(|n| &n.val), Some(Val::Null)) {
        // A list is never created on the way (`volumeClaimTemplates[]`).
        if !create || first.ends_with("[]") {
            return;
        }
        if let Some(child) = obj.child_map(key, at) {
            visit(child, rest, create, at, f);
        }
        return;
    }
    if let Some(child) = obj.get_mut(key) {
        visit(child, rest, create, at, f);
    }
}
