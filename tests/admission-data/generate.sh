#!/usr/bin/env bash
# Regenerates the objects tests/admission.rs sends in AdmissionReviews:
# every file is kubectl's own output (`kubectl create --dry-run=client` or
# `kubectl patch --local`, both offline), so the objects are what kubectl
# really sends, not hand-typed JSON. Run from this directory.
set -euo pipefail
cd "$(dirname "$0")"
k() { kubectl "$@" -o json; }

# A Pod starts from the smallest manifest kubectl accepts; patches add the
# rest through kubectl's own types.
base=$(mktemp --suffix=.yaml)
trap 'rm -f "$base"' EXIT
cat > "$base" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: prod
spec:
  containers:
    - name: web
      image: nginx:1.27
YAML

# A privileged Pod.
k patch --local -f "$base" --type=merge \
  -p '{"spec":{"containers":[{"name":"web","image":"nginx:1.27","securityContext":{"privileged":true}}]}}' \
  > pod-privileged.json

# A hardened Pod: what rampart's own Kubernetes queries ask for.
k patch --local -f "$base" --type=merge -p '{
  "metadata": {"name": "hardened"},
  "spec": {
    "automountServiceAccountToken": false,
    "serviceAccountName": "web",
    "securityContext": {"runAsNonRoot": true, "runAsUser": 10001, "runAsGroup": 10001,
                        "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [{
      "name": "web",
      "image": "registry.example.com/web:1.4.2@sha256:0a2b8f1c9d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a",
      "imagePullPolicy": "Always",
      "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
                          "privileged": false, "capabilities": {"drop": ["ALL"]}},
      "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "128Mi"}},
      "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
      "readinessProbe": {"httpGet": {"path": "/readyz", "port": 8080}}
    }]
  }
}' > pod-hardened.json

# The privileged Pod again, annotated to ignore the query itself.
k patch --local -f pod-privileged.json --type=merge \
  -p '{"metadata":{"annotations":{"rampart.dev/ignore":"k8s-privileged-container"}}}' \
  > pod-privileged-annotated.json

# A Deployment whose pod template is privileged (every workload kind).
k create deployment api --image=nginx:1.27 --namespace=prod --dry-run=client > deployment.json
k patch --local -f deployment.json --type=merge \
  -p '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.27","securityContext":{"privileged":true}}]}}}}' \
  > deployment-privileged.json
rm deployment.json

# RBAC: a ClusterRoleBinding to cluster-admin.
k create clusterrolebinding ops-admin --clusterrole=cluster-admin --user=ops --dry-run=client \
  > clusterrolebinding-admin.json
