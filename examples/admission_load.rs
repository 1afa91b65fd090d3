//! Load for `rampart admission`: many AdmissionReviews over many
//! keep-alive HTTPS connections, then throughput and latency percentiles.
//! `scripts/admission-load.sh` starts the server and runs this.
//!
//! ```text
//! admission_load ADDR CA_PEM DATA_DIR [REVIEWS] [CONNECTIONS]
//! ```
//!
//! DATA_DIR holds kubectl-made objects (tests/admission-data); each review
//! wraps one of them, in turn.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        return Err("usage: admission_load ADDR CA_PEM DATA_DIR [REVIEWS] [CONNECTIONS]".into());
    }
    let addr: SocketAddr = args[1].parse()?;
    let ca = std::fs::read(&args[2])?;
    let reviews: usize = args.get(4).map_or(Ok(10_000), |a| a.parse())?;
    let connections: usize = args.get(5).map_or(Ok(50), |a| a.parse())?;
    let bodies = Arc::new(bodies(&args[3])?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(addr, ca, bodies, reviews, connections))
}

/// One review body per object file, with whether it should be allowed.
fn bodies(dir: &str) -> Result<Vec<(Bytes, bool)>, Box<dyn std::error::Error>> {
    let mut out = Vec::new();
    for (file, allowed) in [
        ("pod-privileged.json", false),
        ("pod-hardened.json", true),
        ("deployment-privileged.json", false),
    ] {
        let mut object: Value = serde_json::from_slice(&std::fs::read(format!("{dir}/{file}"))?)?;
        object["metadata"]["namespace"] = json!("prod");
        let kind = object["kind"].clone();
        let name = object["metadata"]["name"].clone();
        let body = json!({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": "load", "kind": {"group": "", "version": "v1", "kind": kind},
                "namespace": "prod", "name": name, "operation": "CREATE",
                "userInfo": {"username": "load"}, "object": object
            }
        });
        out.push((Bytes::from(serde_json::to_vec(&body)?), allowed));
    }
    Ok(out)
}

async fn run(
    addr: SocketAddr,
    ca: Vec<u8>,
    bodies: Arc<Vec<(Bytes, bool)>>,
    reviews: usize,
    connections: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&ca) {
        roots.add(cert?)?;
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let share = reviews / connections + usize::from(c < reviews % connections);
        let connector = connector.clone();
        let bodies = Arc::clone(&bodies);
        tasks.push(tokio::spawn(async move {
            connection(addr, connector, bodies, c, share).await
        }));
    }
    let mut latencies = Vec::with_capacity(reviews);
    let mut errors = 0usize;
    for task in tasks {
        match task.await {
            Ok(Ok((mut l, e))) => {
                latencies.append(&mut l);
                errors += e;
            }
            Ok(Err(e)) => {
                eprintln!("connection failed: {e}");
                errors += 1;
            }
            Err(e) => {
                eprintln!("task failed: {e}");
                errors += 1;
            }
        }
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| -> Duration {
        latencies
            .get(((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "reviews: {} over {connections} connections in {:.2} s: {:.0} reviews/s",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64()
    );
    println!(
        "latency (client side, per review): p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.90).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    println!("errors: {errors}");
    if errors > 0 {
        return Err(format!("{errors} errors").into());
    }
    Ok(())
}

/// One keep-alive connection sending `count` reviews in turn; returns each
/// review's latency and the number of wrong or failed answers.
async fn connection(
    addr: SocketAddr,
    connector: tokio_rustls::TlsConnector,
    bodies: Arc<Vec<(Bytes, bool)>>,
    index: usize,
    count: usize,
) -> Result<(Vec<Duration>, usize), String> {
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let _ = tcp.set_nodelay(true);
    let name = ServerName::try_from("localhost").map_err(|e| e.to_string())?;
    let tls = connector
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let mut latencies = Vec::with_capacity(count);
    let mut errors = 0;
    for i in 0..count {
        let (body, allowed) = &bodies[(index + i) % bodies.len()];
        let request = hyper::Request::post("/validate")
            .header("host", "localhost")
            .header("content-type", "application/json")
            .body(Full::new(body.clone()))
            .map_err(|e| e.to_string())?;
        let sent = Instant::now();
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let ok = response.status() == 200;
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        latencies.push(sent.elapsed());
        let answer: Value = serde_json::from_slice(&bytes).unwrap_or_default();
        if !ok || answer["response"]["allowed"] != json!(*allowed) {
            errors += 1;
        }
    }
    Ok((latencies, errors))
}
