//! Terraform's Kubernetes provider: `kubernetes_deployment`,
//! `kubernetes_pod_v1`, `kubernetes_role`, ... are Kubernetes objects in HCL
//! spelling. They are rewritten here into the Kubernetes shape, so every
//! Kubernetes query runs on them unchanged, under the same id, with
//! findings at the HCL lines (every node keeps the span it was written at).
//!
//! The rewriting is the provider's own schema convention:
//! - attribute and block names are snake_case for camelCase
//!   (`run_as_non_root` is `runAsNonRoot`; `host_pid` is `hostPID`);
//! - a block that is a list in Kubernetes is written once per element under
//!   the singular name (`container { }` twice is `containers: [..]`);
//! - a block that is one object in Kubernetes is still a block, which the
//!   parser may hold as a one-element list (`spec[0]`): unwrapped;
//! - maps of user data (`labels`, `annotations`, `limits`, a Service's
//!   `selector`, a Secret's `data`) keep their keys as written.
//!
//! An expression Terraform could not evaluate stays an expression: unknown,
//! never flagged, as in any Terraform query.

use crate::platform::{LoadedFile, Platform};
use crate::tree::{Entry, Node, Object, Span, Value};

/// The key a translated object carries its Terraform address under; the
/// Kubernetes model names the object by it (`kubernetes_deployment.web`).
pub const ADDRESS_KEY: &str = "@terraform";

/// The Kubernetes kind and apiVersion of a provider resource type, with or
/// without its `_v1` suffix.
fn kind_of(resource_type: &str) -> Option<(&'static str, &'static str)> {
    let base = resource_type.strip_prefix("kubernetes_")?;
    let base = base
        .strip_suffix("_v1")
        .or_else(|| base.strip_suffix("_v1beta1"))
        .or_else(|| base.strip_suffix("_v2"))
        .unwrap_or(base);
    Some(match base {
        "pod" => ("v1", "Pod"),
        "deployment" => ("apps/v1", "Deployment"),
        "daemonset" | "daemon_set" => ("apps/v1", "DaemonSet"),
        "stateful_set" => ("apps/v1", "StatefulSet"),
        "replication_controller" => ("v1", "ReplicationController"),
        "job" => ("batch/v1", "Job"),
        "cron_job" => ("batch/v1", "CronJob"),
        "service" => ("v1", "Service"),
        "service_account" => ("v1", "ServiceAccount"),
        "secret" => ("v1", "Secret"),
        "config_map" => ("v1", "ConfigMap"),
        "namespace" => ("v1", "Namespace"),
        "persistent_volume" => ("v1", "PersistentVolume"),
        "persistent_volume_claim" => ("v1", "PersistentVolumeClaim"),
        "limit_range" => ("v1", "LimitRange"),
        "resource_quota" => ("v1", "ResourceQuota"),
        "ingress" => ("networking.k8s.io/v1", "Ingress"),
        "network_policy" => ("networking.k8s.io/v1", "NetworkPolicy"),
        "role" => ("rbac.authorization.k8s.io/v1", "Role"),
        "cluster_role" => ("rbac.authorization.k8s.io/v1", "ClusterRole"),
        "role_binding" => ("rbac.authorization.k8s.io/v1", "RoleBinding"),
        "cluster_role_binding" => ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
        "pod_security_policy" => ("policy/v1beta1", "PodSecurityPolicy"),
        "horizontal_pod_autoscaler" => ("autoscaling/v2", "HorizontalPodAutoscaler"),
        "validating_webhook_configuration" => (
            "admissionregistration.k8s.io/v1",
            "ValidatingWebhookConfiguration",
        ),
        "mutating_webhook_configuration" => (
            "admissionregistration.k8s.io/v1",
            "MutatingWebhookConfiguration",
        ),
        _ => return None,
    })
}

/// Blocks written once per element under a singular name, and the
/// Kubernetes list they make.
const LIST_BLOCKS: [(&str, &str); 26] = [
    ("container", "containers"),
    ("init_container", "initContainers"),
    ("volume", "volumes"),
    ("volume_mount", "volumeMounts"),
    ("port", "ports"),
    ("ports", "ports"),
    ("env", "env"),
    ("env_from", "envFrom"),
    ("toleration", "tolerations"),
    ("host_aliases", "hostAliases"),
    ("image_pull_secrets", "imagePullSecrets"),
    ("rule", "rules"),
    ("subject", "subjects"),
    ("ingress", "ingress"),
    ("egress", "egress"),
    ("from", "from"),
    ("to", "to"),
    ("match_expressions", "matchExpressions"),
    ("items", "items"),
    ("sysctl", "sysctls"),
    ("topology_spread_constraint", "topologySpreadConstraints"),
    ("path", "paths"),
    ("tls", "tls"),
    ("webhook", "webhooks"),
    ("readiness_gate", "readinessGates"),
    ("allowed_host_paths", "allowedHostPaths"),
];

/// Maps whose keys are the user's, not the schema's.
const USER_MAPS: [&str; 9] = [
    "labels",
    "annotations",
    "match_labels",
    "node_selector",
    "limits",
    "requests",
    "data",
    "binary_data",
    "string_data",
];

/// Names whose camelCase is not the mechanical one.
fn special_name(name: &str) -> Option<&'static str> {
    Some(match name {
        "host_ipc" => "hostIPC",
        "host_pid" => "hostPID",
        "cluster_ip" => "clusterIP",
        "cluster_ips" => "clusterIPs",
        "external_ips" => "externalIPs",
        "load_balancer_ip" => "loadBalancerIP",
        "pod_ip" => "podIP",
        "host_ip" => "hostIP",
        "api_version" => "apiVersion",
        _ => return None,
    })
}

/// `run_as_non_root` as `runAsNonRoot`.
fn camel(name: &str) -> String {
    if let Some(special) = special_name(name) {
        return special.to_string();
    }
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Appends to `files`, for each Terraform file holding provider resources,
/// a derived Kubernetes file of their objects (same display, text and
/// module chain).
pub fn derive(files: &mut Vec<LoadedFile>) {
    let derived: Vec<LoadedFile> = files
        .iter()
        .filter(|f| f.platform == Platform::Terraform && !f.derived)
        .filter_map(|f| {
            let documents = translate(&f.documents);
            (!documents.is_empty()).then(|| LoadedFile {
                display: f.display.clone(),
                platform: Platform::Kubernetes,
                source: f.source.clone(),
                documents,
                streamed: false,
                derived: true,
                module: f.module.clone(),
                module_call: f.module_call.clone(),
            })
        })
        .collect();
    files.extend(derived);
}

/// The Kubernetes objects of the provider resources in Terraform
/// `documents` (evaluated), in source order. Empty when there are none.
pub fn translate(documents: &[Node]) -> Vec<Node> {
    let mut out = Vec::new();
    for document in documents {
        for block in document
            .get("resource")
            .map(Node::items)
            .unwrap_or_default()
        {
            let Some(types) = block.as_object() else {
                continue;
            };
            for ty in &types.entries {
                let Some((api_version, kind)) = kind_of(&ty.key) else {
                    continue;
                };
                for names in ty.value.items() {
                    let Some(names) = names.as_object() else {
                        continue;
                    };
                    for name in &names.entries {
                        for body in name.value.items() {
                            let address = format!("{}.{}", ty.key, name.key);
                            out.push(object(api_version, kind, &address, name.key_span, body));
                        }
                    }
                }
            }
        }
    }
    out
}

/// One resource body as a Kubernetes object; `header` (the resource's name
/// label) is where `kind` and `apiVersion` are said to be written.
fn object(api_version: &str, kind: &str, address: &str, header: Span, body: &Node) -> Node {
    let text = |s: &str| Node::new(Value::String(s.to_string()), header);
    let instance = body
        .get(crate::platform::terraform::eval::module::INSTANCE_KEY)
        .and_then(Node::as_str)
        .unwrap_or("");
    let mut entries = vec![
        Entry {
            key: "apiVersion".into(),
            key_span: header,
            value: text(api_version),
        },
        Entry {
            key: "kind".into(),
            key_span: header,
            value: text(kind),
        },
        Entry {
            key: ADDRESS_KEY.into(),
            key_span: header,
            value: text(&format!("{address}{instance}")),
        },
    ];
    if let Some(fields) = body.as_object() {
        entries.extend(translate_entries(fields, 0));
    }
    Node::new(Value::Object(Object { entries }), body.span)
}

/// How deep a resource body is followed: far below the provider's deepest
/// schema (a CronJob's container probe is about twelve levels down).
const MAX_DEPTH: usize = 32;

fn translate_entries(fields: &Object, depth: usize) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    for entry in &fields.entries {
        // Terraform's own meta-arguments and rampart's instance marker.
        if entry.key.starts_with('@')
            || matches!(
                entry.key.as_str(),
                "count" | "for_each" | "depends_on" | "lifecycle" | "provider" | "timeouts"
            )
        {
            continue;
        }
        let Some(value) = translate_field(&entry.key, &entry.value, depth) else {
            continue;
        };
        let list_name = LIST_BLOCKS
            .iter()
            .find(|(tf, _)| *tf == entry.key)
            .map(|(_, k8s)| *k8s);
        let is_block = |n: &Node| match &n.value {
            Value::Object(_) => true,
            Value::Array(items) => items.iter().all(|i| i.as_object().is_some()),
            _ => false,
        };
        let key = match list_name {
            Some(k8s) if is_block(&entry.value) => k8s.to_string(),
            _ => camel(&entry.key),
        };
        // A list block written in several places of one body becomes one
        // list.
        if let Some(existing) = out.iter_mut().find(|e| e.key == key)
            && let (Value::Array(have), Value::Array(more)) =
                (&mut existing.value.value, &value.value)
        {
            have.extend(more.iter().cloned());
            continue;
        }
        out.push(Entry {
            key,
            key_span: entry.key_span,
            value,
        });
    }
    out
}

/// One field's value in the Kubernetes shape.
fn translate_field(key: &str, value: &Node, depth: usize) -> Option<Node> {
    if depth > MAX_DEPTH {
        return None;
    }
    let list_block = LIST_BLOCKS.iter().any(|(tf, _)| *tf == key);
    // A Service's selector is a map of labels; a workload's is a block
    // with match_labels / match_expressions.
    let user_map = USER_MAPS.contains(&key)
        || (key == "selector"
            && value.get("match_labels").is_none()
            && value.get("match_expressions").is_none()
            && value
                .items()
                .iter()
                .all(|i| i.get("match_labels").is_none() && i.get("match_expressions").is_none()));
    if user_map {
        return Some(match &value.value {
            Value::Array(items) if items.len() == 1 => items[0].clone(),
            _ => value.clone(),
        });
    }
    Some(match &value.value {
        Value::Object(o) => {
            let inner = Node::new(
                Value::Object(Object {
                    entries: translate_entries(o, depth + 1),
                }),
                value.span,
            );
            if list_block {
                Node::new(Value::Array(vec![inner]), value.span)
            } else {
                inner
            }
        }
        Value::Array(items)
            if items.iter().all(|i| i.as_object().is_some()) && !items.is_empty() =>
        {
            let converted: Vec<Node> = items
                .iter()
                .filter_map(|i| translate_field_item(i, depth))
                .collect();
            if list_block || converted.len() != 1 {
                Node::new(Value::Array(converted), value.span)
            } else {
                // `spec[0]`: a single nested block.
                converted.into_iter().next()?
            }
        }
        _ => value.clone(),
    })
}

fn translate_field_item(item: &Node, depth: usize) -> Option<Node> {
    let o = item.as_object()?;
    Some(Node::new(
        Value::Object(Object {
            entries: translate_entries(o, depth + 1),
        }),
        item.span,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::hcl;
    use crate::tree::LineIndex;

    fn translated(text: &str) -> Vec<Node> {
        let index = LineIndex::new(text);
        let parsed = hcl::parse(text, &index);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        translate(&parsed.documents)
    }

    #[test]
    fn blocks_take_the_kubernetes_shape() {
        let objects = translated(
            r#"resource "kubernetes_deployment_v1" "web" {
  metadata {
    name   = "web"
    labels = { app_name = "web" }
  }
  spec {
    selector {
      match_labels = { app_name = "web" }
    }
    template {
      metadata {
        labels = { app_name = "web" }
      }
      spec {
        host_pid = true
        container {
          name  = "web"
          image = "nginx:1.25"
          security_context {
            run_as_non_root = true
            capabilities {
              add = ["NET_ADMIN"]
            }
          }
        }
        container {
          name  = "sidecar"
          image = "envoy:1.30"
        }
      }
    }
  }
}
"#,
        );
        let [d] = objects.as_slice() else {
            panic!("one object: {objects:?}")
        };
        assert_eq!(d.get("kind").and_then(Node::as_str), Some("Deployment"));
        assert_eq!(d.get("apiVersion").and_then(Node::as_str), Some("apps/v1"));
        assert_eq!(
            d.get(ADDRESS_KEY).and_then(Node::as_str),
            Some("kubernetes_deployment_v1.web")
        );
        let spec = d.at("spec.template.spec").expect("pod spec");
        assert_eq!(spec.get("hostPID").and_then(Node::as_bool), Some(true));
        let containers = spec.get("containers").expect("containers").items();
        assert_eq!(containers.len(), 2);
        let first = &containers[0];
        assert_eq!(
            first
                .at("securityContext.runAsNonRoot")
                .and_then(Node::as_bool),
            Some(true)
        );
        assert_eq!(
            first
                .at("securityContext.capabilities.add")
                .map(|a| a.items().len()),
            Some(1)
        );
        // User maps keep their keys.
        assert!(d.at("metadata.labels.app_name").is_some());
        assert!(d.at("spec.selector.matchLabels.app_name").is_some());
        // Spans stay those of the HCL.
        assert_eq!(
            first
                .at("securityContext.runAsNonRoot")
                .map(|n| n.span.start_line),
            Some(20)
        );
    }

    #[test]
    fn other_resources_are_left_alone() {
        assert!(translated("resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"b\"\n}\n").is_empty());
        let objects = translated(
            "resource \"kubernetes_service\" \"s\" {\n  spec {\n    selector = { app = \"web\" }\n    type = \"NodePort\"\n    port {\n      port = 80\n      node_port = 30080\n    }\n  }\n}\n",
        );
        let spec = objects[0].get("spec").expect("spec");
        assert_eq!(spec.at("selector.app").and_then(Node::as_str), Some("web"));
        assert_eq!(spec.get("ports").map(|p| p.items().len()), Some(1));
        assert!(
            spec.get("ports").map(Node::items).unwrap_or_default()[0]
                .get("nodePort")
                .is_some()
        );
    }
}
