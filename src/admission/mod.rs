//! `rampart admission`: a validating admission webhook that runs the same
//! query registry, settings, parameters and exceptions as `scan` on each
//! object the Kubernetes API server is asked to store (issue 16).
//!
//! Built only with the `admission` cargo feature, so people who only scan
//! never build an HTTP server or a TLS stack. Nothing outside this module
//! imports it but the command that starts it.
//!
//! - [`review`]: the AdmissionReview wire format.
//! - [`policy`]: per-namespace modes, exemptions, where annotations count.
//! - [`decide`]: the object through the engine, then the mode.
//! - [`audit`]: one JSON line per decision.
//! - [`metrics`]: `/metrics` in the Prometheus text format.
//! - [`tls`]: certificates from files (reloaded) or made at start.
//! - [`server`]: HTTPS, routes, limits, graceful shutdown.

pub mod audit;
pub mod decide;
pub mod metrics;
pub mod policy;
pub mod review;
pub mod server;
pub mod tls;

use std::sync::Arc;

pub use decide::Engine;
pub use server::ServerOptions;

/// Where the certificate comes from.
#[derive(Clone, Debug)]
pub enum TlsSource {
    /// Files, re-read when they change.
    Files(tls::CertFiles),
    /// A CA and a certificate made at start for these names; the CA is
    /// printed as a `caBundle` and, when a path is given, written there.
    SelfSigned {
        /// DNS names and IP addresses the certificate is for.
        names: Vec<String>,
        /// Where to write the CA certificate (PEM).
        ca_out: Option<std::path::PathBuf>,
    },
}

/// Lines waiting for stdout before reviews wait for it.
const LOG_BACKLOG: usize = 65_536;

/// Loads the certificate, then serves until told to stop; the audit trail
/// and server events go to `out`, one JSON line each.
pub fn run(
    engine: Engine,
    tls: TlsSource,
    options: ServerOptions,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<()> {
    let certs = match tls {
        TlsSource::Files(files) => tls::CertStore::from_files(files).map_err(anyhow::Error::msg)?,
        TlsSource::SelfSigned { names, ca_out } => {
            let made = tls::self_signed(&names).map_err(anyhow::Error::msg)?;
            if let Some(path) = ca_out {
                std::fs::write(&path, &made.ca_pem)
                    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            }
            use base64::Engine as _;
            let bundle = base64::engine::general_purpose::STANDARD.encode(&made.ca_pem);
            eprintln!(
                "rampart admission: self-signed certificate for {}; caBundle for the ValidatingWebhookConfiguration:\n{bundle}",
                names.join(", ")
            );
            tls::CertStore::fixed(made.key)
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (to, lines) = std::sync::mpsc::sync_channel::<String>(LOG_BACKLOG);
    let server = std::thread::Builder::new()
        .name("rampart-admission".into())
        .spawn(move || runtime.block_on(server::serve(engine, Arc::new(certs), options, to)))?;
    // This thread owns stdout: it writes each line whole, in order, until
    // the server (and every sender with it) is gone.
    for line in lines {
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            // stdout closed: keep serving; the decisions still stand.
            continue;
        }
    }
    server
        .join()
        .map_err(|_| anyhow::anyhow!("the admission server stopped with an internal error"))?
}
