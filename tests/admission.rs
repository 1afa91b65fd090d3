//! `rampart admission` end to end: the real binary serving HTTPS on a
//! loopback port, a real TLS client trusting only the server's CA, and
//! AdmissionReviews wrapping objects kubectl produced
//! (`tests/admission-data/generate.sh`).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde::Serialize;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

// ---- AdmissionReview, typed after admission.k8s.io/v1 ----

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AdmissionReview {
    api_version: &'static str,
    kind: &'static str,
    request: AdmissionRequest,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AdmissionRequest {
    uid: String,
    kind: GroupVersionKind,
    resource: GroupVersionResource,
    namespace: String,
    name: String,
    operation: &'static str,
    user_info: UserInfo,
    object: Value,
    dry_run: bool,
}

#[derive(Serialize)]
struct GroupVersionKind {
    group: String,
    version: String,
    kind: String,
}

#[derive(Serialize)]
struct GroupVersionResource {
    group: String,
    version: String,
    resource: String,
}

#[derive(Serialize)]
struct UserInfo {
    username: String,
}

/// A CREATE review of the kubectl-made object `file`, in `namespace`
/// (which the API server writes into the object before admission).
fn review(uid: &str, file: &str, namespace: &str, dry_run: bool) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/admission-data")
        .join(file);
    let text = std::fs::read_to_string(&path).expect("test object");
    let mut object: Value = serde_json::from_str(&text).expect("kubectl wrote JSON");
    let api_version = object["apiVersion"]
        .as_str()
        .expect("apiVersion")
        .to_string();
    let (group, version) = api_version
        .rsplit_once('/')
        .map_or((String::new(), api_version.clone()), |(g, v)| {
            (g.to_string(), v.to_string())
        });
    let kind = object["kind"].as_str().expect("kind").to_string();
    let name = object["metadata"]["name"]
        .as_str()
        .expect("name")
        .to_string();
    let cluster_scoped = kind.starts_with("Cluster");
    if !cluster_scoped {
        object["metadata"]["namespace"] = Value::String(namespace.to_string());
    }
    let body = AdmissionReview {
        api_version: "admission.k8s.io/v1",
        kind: "AdmissionReview",
        request: AdmissionRequest {
            uid: uid.to_string(),
            kind: GroupVersionKind {
                group: group.clone(),
                version: version.clone(),
                kind: kind.clone(),
            },
            resource: GroupVersionResource {
                group,
                version,
                resource: format!("{}s", kind.to_ascii_lowercase()),
            },
            namespace: if cluster_scoped {
                String::new()
            } else {
                namespace.to_string()
            },
            name,
            operation: "CREATE",
            user_info: UserInfo {
                username: "alice@example.com".into(),
            },
            object,
            dry_run,
        },
    };
    serde_json::to_vec(&body).expect("serializes")
}

// ---- the server under test ----

struct Server {
    child: Child,
    addr: SocketAddr,
    ca: Vec<u8>,
    log: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts `rampart admission` on a free loopback port with a
    /// self-signed CA, `files` written into its directory first.
    fn start(files: &[(&str, &str)], args: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).expect("write");
        }
        let ca_path = dir.path().join("ca.pem");
        let mut command = Command::new(env!("CARGO_BIN_EXE_rampart"));
        command
            .current_dir(dir.path())
            .env_remove("RAMPART_CONFIG")
            .args(["admission", "--listen", "127.0.0.1:0"]);
        let self_signed = !args.contains(&"--tls-cert");
        if self_signed {
            command
                .args(["--tls-self-signed", "--tls-ca-out"])
                .arg(&ca_path);
        }
        command.args(args);
        Server::spawn(command, dir, self_signed.then_some(ca_path))
    }

    fn spawn(mut command: Command, dir: tempfile::TempDir, ca_path: Option<PathBuf>) -> Server {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("rampart starts");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("the server says where it listens")
                .expect("stderr is text");
            if let Some(rest) = line.strip_prefix("rampart admission: listening on https://") {
                break rest.parse::<SocketAddr>().expect("an address");
            }
        };
        // Keep draining stderr so the server never blocks on it.
        std::thread::spawn(move || lines.for_each(drop));
        let log = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().expect("stdout");
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().expect("log").push(line);
            }
        });
        // Built before anything else can fail, so Drop stops the child.
        let mut server = Server {
            child,
            addr,
            ca: Vec::new(),
            log,
            _dir: dir,
        };
        if let Some(path) = ca_path {
            server.ca = std::fs::read(path).expect("CA written");
        }
        server
    }

    /// The first log line containing `needle`, waiting for it: the server
    /// queues its line before it answers, and stdout reaches us a little
    /// later. The line arriving, not a time, ends the wait (the bound only
    /// turns a missing line into a failure).
    fn line(&self, needle: &str) -> Option<String> {
        for _ in 0..600 {
            if let Some(line) = self
                .log
                .lock()
                .expect("log")
                .iter()
                .find(|l| l.contains(needle))
            {
                return Some(line.clone());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// The audit line for `uid`.
    fn audit(&self, uid: &str) -> Value {
        let line = self
            .line(&format!("\"uid\":\"{uid}\""))
            .unwrap_or_else(|| panic!("no audit line for {uid}"));
        serde_json::from_str(&line).expect("audit lines are JSON")
    }

    /// Whether the server logged `event` (waiting for it to arrive).
    fn has_event(&self, event: &str) -> bool {
        self.line(&format!("\"event\":\"{event}\"")).is_some()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---- the client ----

fn client(trusted: &[u8]) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(trusted) {
        roots.add(cert.expect("PEM")).expect("a CA");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// One HTTPS request on a new connection, trusting only `trusted`.
async fn request(
    addr: SocketAddr,
    trusted: &[u8],
    method: &str,
    path: &str,
    body: Vec<u8>,
) -> Result<(u16, Vec<u8>), String> {
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let name = ServerName::try_from("localhost").expect("name");
    let tls = client(trusted)
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS: {e}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .expect("request");
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes()
        .to_vec();
    Ok((status, body))
}

/// Posts a review and returns the AdmissionReview's `response`.
async fn validate(server: &Server, body: Vec<u8>) -> Value {
    let (status, bytes) = request(server.addr, &server.ca, "POST", "/validate", body)
        .await
        .expect("answered");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    let answer: Value = serde_json::from_slice(&bytes).expect("JSON");
    assert_eq!(answer["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(answer["kind"], "AdmissionReview");
    answer["response"].clone()
}

const SETTINGS: &str = "\
fail_on: high
exceptions: exceptions.yaml
admission:
  mode: enforce
  namespaces:
    team-warn: warn
    team-audit: audit
  allow_ignore_annotation: [dev-*]
";

const EXCEPTIONS: &str = "\
exceptions:
  - query: k8s-privileged-container
    namespaces: [legacy]
    kinds: [Pod]
    names: [web]
    reason: The legacy web pod needs the device; replaced in Q3.
    approved_by: security@example.com
    expires: 2099-12-31
";

fn policy_server() -> Server {
    Server::start(
        &[("settings.yaml", SETTINGS), ("exceptions.yaml", EXCEPTIONS)],
        &["--config", "settings.yaml"],
    )
}

#[tokio::test]
async fn enforce_denies_a_privileged_pod_naming_the_query_and_allows_a_hardened_one() {
    let server = policy_server();
    let denied = validate(
        &server,
        review("u-priv", "pod-privileged.json", "prod", false),
    )
    .await;
    assert_eq!(denied["uid"], "u-priv");
    assert_eq!(denied["allowed"], false);
    assert_eq!(denied["status"]["code"], 403);
    let message = denied["status"]["message"].as_str().expect("a message");
    assert_eq!(
        message,
        "rampart: Pod web has 1 finding(s) at or above the policy threshold:\n\
         - k8s-privileged-container (high) at container web in Pod/prod/web securityContext.privileged: \
         securityContext.privileged is true; the container has full access to the node. \
         Fix: Remove the flag (it defaults to false), and grant only the specific capability the workload needs if it needs one"
    );
    let audit = server.audit("u-priv");
    assert_eq!(audit["decision"], "deny");
    assert_eq!(audit["enforced"], true);
    assert_eq!(audit["mode"], "enforce");
    assert_eq!(audit["user"], "alice@example.com");
    assert_eq!(audit["namespace"], "prod");
    assert_eq!(audit["kind"], "Pod");
    assert_eq!(audit["name"], "web");
    assert_eq!(audit["operation"], "CREATE");
    let queries: Vec<&str> = audit["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["query"].as_str())
        .collect();
    // Every finding is in the trail, not only the one that denied.
    assert_eq!(queries.len(), 17, "{queries:?}");
    assert!(queries.contains(&"k8s-privileged-container"));

    let allowed = validate(&server, review("u-ok", "pod-hardened.json", "prod", false)).await;
    assert_eq!(allowed["uid"], "u-ok");
    assert_eq!(allowed["allowed"], true);
    assert!(allowed.get("status").is_none());
    assert!(allowed.get("warnings").is_none());
    assert_eq!(server.audit("u-ok")["findings"], serde_json::json!([]));

    // Every workload kind: the pod template of a Deployment.
    let deployment = validate(
        &server,
        review("u-dep", "deployment-privileged.json", "prod", false),
    )
    .await;
    assert_eq!(deployment["allowed"], false);
    assert!(
        deployment["status"]["message"]
            .as_str()
            .expect("message")
            .contains("k8s-privileged-container (high) at container nginx in Deployment/prod/api")
    );
}

#[tokio::test]
async fn warn_returns_warnings_and_audit_allows_and_logs() {
    let server = policy_server();
    let warned = validate(
        &server,
        review("u-warn", "pod-privileged.json", "team-warn", false),
    )
    .await;
    assert_eq!(warned["allowed"], true);
    assert_eq!(
        warned["warnings"],
        serde_json::json!([
            "rampart k8s-privileged-container (high): container web in Pod/team-warn/web securityContext.privileged: securityContext.privileged is true; the container has full access to the node"
        ])
    );
    assert_eq!(server.audit("u-warn")["mode"], "warn");

    let audited = validate(
        &server,
        review("u-audit", "pod-privileged.json", "team-audit", false),
    )
    .await;
    assert_eq!(audited["allowed"], true);
    assert!(audited.get("warnings").is_none());
    let audit = server.audit("u-audit");
    assert_eq!(audit["mode"], "audit");
    assert_eq!(audit["decision"], "allow");
    assert!(
        audit["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["query"] == "k8s-privileged-container" && f["severity"] == "high")
    );
}

#[tokio::test]
async fn exempt_namespaces_exceptions_and_annotations() {
    let server = policy_server();
    // kube-system is exempt by default: not even evaluated.
    let exempt = validate(
        &server,
        review("u-ks", "pod-privileged.json", "kube-system", false),
    )
    .await;
    assert_eq!(exempt["allowed"], true);
    let audit = server.audit("u-ks");
    assert_eq!(audit["mode"], "exempt");
    assert_eq!(audit["findings"], serde_json::json!([]));

    // The exceptions file names Pod "web" in namespace "legacy".
    let excepted = validate(
        &server,
        review("u-exc", "pod-privileged.json", "legacy", false),
    )
    .await;
    assert_eq!(excepted["allowed"], true);
    let audit = server.audit("u-exc");
    assert_eq!(audit["decision"], "allow");
    assert_eq!(audit["exceptions"][0]["query"], "k8s-privileged-container");
    assert_eq!(audit["exceptions"][0]["origin"], "exceptions.yaml:2");
    assert_eq!(audit["exceptions"][0]["expires"], "2099-12-31");

    // The annotation counts where the settings allow it (dev-*), not in
    // prod.
    let dev = validate(
        &server,
        review("u-ann-dev", "pod-privileged-annotated.json", "dev-1", false),
    )
    .await;
    assert_eq!(dev["allowed"], true);
    let prod = validate(
        &server,
        review("u-ann-prod", "pod-privileged-annotated.json", "prod", false),
    )
    .await;
    assert_eq!(prod["allowed"], false);
}

#[tokio::test]
async fn a_dry_run_is_evaluated_but_not_counted_as_enforcement() {
    let server = policy_server();
    let dry = validate(
        &server,
        review("u-dry", "pod-privileged.json", "prod", true),
    )
    .await;
    // The user asking for a dry run gets the real answer.
    assert_eq!(dry["allowed"], false);
    let audit = server.audit("u-dry");
    assert_eq!(audit["dry_run"], true);
    assert_eq!(audit["decision"], "deny");
    assert_eq!(audit["enforced"], false);
    let real = validate(
        &server,
        review("u-real", "pod-privileged.json", "prod", false),
    )
    .await;
    assert_eq!(real["allowed"], false);
    let (status, metrics) = request(server.addr, &server.ca, "GET", "/metrics", Vec::new())
        .await
        .expect("metrics");
    assert_eq!(status, 200);
    let metrics = String::from_utf8(metrics).expect("text");
    assert!(
        metrics.contains("rampart_admission_denials_total{query=\"k8s-privileged-container\"} 1\n"),
        "{metrics}"
    );
    assert!(metrics.contains(
        "rampart_admission_reviews_total{mode=\"enforce\",decision=\"denied\",dry_run=\"true\"} 1\n"
    ));
    assert!(metrics.contains(
        "rampart_admission_reviews_total{mode=\"enforce\",decision=\"denied\",dry_run=\"false\"} 1\n"
    ));
    assert!(metrics.contains("rampart_admission_review_duration_seconds_count 2\n"));
}

#[tokio::test]
async fn malformed_oversized_and_stray_requests_get_clear_errors_and_the_server_stays_up() {
    let server = Server::start(&[], &["--max-request-bytes", "4096"]);
    let (status, body) = request(
        server.addr,
        &server.ca,
        "POST",
        "/validate",
        b"{\"apiVersion\":".to_vec(),
    )
    .await
    .expect("answered");
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).starts_with("not an AdmissionReview: "));
    let (status, _) = request(
        server.addr,
        &server.ca,
        "POST",
        "/validate",
        vec![b' '; 10_000],
    )
    .await
    .expect("answered");
    assert_eq!(status, 413);
    let (status, _) = request(server.addr, &server.ca, "GET", "/validate", Vec::new())
        .await
        .expect("answered");
    assert_eq!(status, 405);
    let (status, _) = request(server.addr, &server.ca, "POST", "/elsewhere", Vec::new())
        .await
        .expect("answered");
    assert_eq!(status, 404);
    assert!(server.has_event("admission.bad_request"));
    // Still serving.
    let (status, body) = request(server.addr, &server.ca, "GET", "/healthz", Vec::new())
        .await
        .expect("answered");
    assert_eq!((status, body.as_slice()), (200, b"ok\n".as_slice()));
    let (status, _) = request(server.addr, &server.ca, "GET", "/readyz", Vec::new())
        .await
        .expect("answered");
    assert_eq!(status, 200);
    // Default threshold (low) without settings: a ClusterRoleBinding to
    // cluster-admin is denied (RBAC objects are checked too).
    let rbac = validate(
        &server,
        review("u-rbac", "clusterrolebinding-admin.json", "", false),
    )
    .await;
    assert_eq!(rbac["allowed"], false);
    assert!(
        rbac["status"]["message"]
            .as_str()
            .expect("message")
            .contains("k8s-cluster-admin-binding (medium)")
    );
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_ca_is_refused() {
    let server = Server::start(&[], &[]);
    let other = rampart::admission::tls::self_signed(&["localhost".into()]).expect("another CA");
    let refused = request(
        server.addr,
        other.ca_pem.as_bytes(),
        "GET",
        "/healthz",
        Vec::new(),
    )
    .await;
    let error = refused.expect_err("the handshake fails");
    assert!(error.contains("TLS"), "{error}");
    // The server's own CA works.
    let (status, _) = request(server.addr, &server.ca, "GET", "/healthz", Vec::new())
        .await
        .expect("trusted");
    assert_eq!(status, 200);
}

#[tokio::test]
async fn certificate_files_are_reloaded_when_they_change() {
    let first = rampart::admission::tls::self_signed(&["localhost".into()]).expect("CA 1");
    let second = rampart::admission::tls::self_signed(&["localhost".into()]).expect("CA 2");
    let server = Server::start(
        &[("tls.crt", &first.cert_pem), ("tls.key", &first.key_pem)],
        &[
            "--tls-cert",
            "tls.crt",
            "--tls-key",
            "tls.key",
            "--tls-reload-seconds",
            "1",
        ],
    );
    let get = |ca: String| async move {
        request(server.addr, ca.as_bytes(), "GET", "/healthz", Vec::new()).await
    };
    assert!(get(first.ca_pem.clone()).await.is_ok());
    assert!(get(second.ca_pem.clone()).await.is_err());
    // Rotate as cert-manager does: new files in place.
    let dir = server._dir.path();
    std::fs::write(dir.join("tls.key"), &second.key_pem).expect("write");
    std::fs::write(dir.join("tls.crt"), &second.cert_pem).expect("write");
    // The next check (once a second) picks them up.
    assert!(
        server.has_event("admission.tls_reloaded"),
        "the server did not pick up the new files"
    );
    assert!(get(second.ca_pem.clone()).await.is_ok());
    assert!(get(first.ca_pem.clone()).await.is_err());
}

#[tokio::test]
async fn shutdown_drains_a_review_in_flight() {
    let mut server = policy_server();
    let body = review("u-drain", "pod-privileged.json", "prod", false);
    let tcp = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    let name = ServerName::try_from("localhost").expect("name");
    let mut tls = client(&server.ca).connect(name, tcp).await.expect("TLS");
    let (head, tail) = body.split_at(body.len() / 2);
    // `expect: 100-continue`: the server answers "100 Continue" once it is
    // reading the body, so the review is surely in flight when SIGTERM
    // comes.
    let headers = format!(
        "POST /validate HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\nexpect: 100-continue\r\nconnection: close\r\n\r\n",
        body.len()
    );
    tls.write_all(headers.as_bytes()).await.expect("write");
    tls.flush().await.expect("flush");
    let mut seen = Vec::new();
    while !seen.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        tokio::io::AsyncReadExt::read_exact(&mut tls, &mut byte)
            .await
            .expect("100 Continue");
        seen.push(byte[0]);
    }
    assert!(seen.starts_with(b"HTTP/1.1 100 Continue"));
    tls.write_all(head).await.expect("write");
    tls.flush().await.expect("flush");
    // SIGTERM to our own child, mid-request.
    // SAFETY: kill(2) on the pid of a child this test started.
    unsafe {
        libc::kill(server.child.id() as i32, libc::SIGTERM);
    }
    assert!(
        server.has_event("admission.draining"),
        "the server did not start draining"
    );
    // New connections are no longer accepted.
    assert!(
        request(server.addr, &server.ca, "GET", "/healthz", Vec::new())
            .await
            .is_err()
    );
    tls.write_all(tail)
        .await
        .expect("the connection is still open");
    tls.flush().await.expect("flush");
    let mut answer = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut tls, &mut answer)
        .await
        .ok();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert!(answer.contains("\"uid\":\"u-drain\""), "{answer}");
    let status = server.child.wait().expect("exits");
    assert!(status.success(), "{status:?}");
    assert!(server.has_event("admission.stop"));
    assert_eq!(server.audit("u-drain")["decision"], "deny");
}

#[tokio::test]
async fn the_exceptions_file_sets_parameters_over_the_settings() {
    // The settings trust the hardened pod's registry; the security team's
    // exceptions file trusts another one, and wins.
    let settings = format!(
        "{SETTINGS}parameters:\n  k8s-image-untrusted-registry:\n    trusted_registries: [registry.example.com/]\n"
    )
    .replace("fail_on: high", "fail_on: medium");
    let exceptions = "parameters:\n  k8s-image-untrusted-registry:\n    trusted_registries: [registry.internal/]\n";
    let server = Server::start(
        &[
            ("settings.yaml", &settings),
            ("exceptions.yaml", exceptions),
        ],
        &["--config", "settings.yaml"],
    );
    let denied = validate(
        &server,
        review("u-param", "pod-hardened.json", "prod", false),
    )
    .await;
    assert_eq!(denied["allowed"], false);
    let audit = server.audit("u-param");
    let queries: Vec<&str> = audit["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["query"].as_str())
        .collect();
    assert_eq!(queries, ["k8s-image-untrusted-registry"]);
}
