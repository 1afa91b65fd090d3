//! The HTTPS server: TLS, routing, body limit, graceful shutdown.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::json;

use super::audit;
use super::decide::{Engine, decide};
use super::metrics::Metrics;
use super::review;
use super::tls::CertStore;

/// How the server runs.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Request bodies larger than this get 413.
    pub max_body_bytes: usize,
    /// How often the certificate files are checked for a change.
    pub reload_every: Duration,
    /// How long shutdown waits for in-flight reviews.
    pub drain: Duration,
}

/// A client that has not finished its TLS handshake or request headers in
/// this long is dropped, so idle sockets cannot pile up.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where log lines go: the thread that owns stdout writes them in order
/// (`main` holds stdout's lock for the whole run). Bounded: when stdout
/// stalls, reviews wait rather than memory grow or lines be lost.
pub type Log = std::sync::mpsc::SyncSender<String>;

/// Shared by every connection.
struct State {
    log: Log,
    engine: Engine,
    metrics: Metrics,
    max_body_bytes: usize,
    ready: AtomicBool,
}

fn log(to: &Log, line: String) {
    // Only fails when the writer is gone, at exit.
    let _ = to.send(line);
}

/// Serves until SIGTERM or SIGINT, then stops accepting, lets in-flight
/// reviews finish (up to `drain`) and returns.
pub async fn serve(
    engine: Engine,
    certs: Arc<CertStore>,
    options: ServerOptions,
    to: Log,
) -> anyhow::Result<()> {
    let config = super::tls::server_config(Arc::clone(&certs)).map_err(anyhow::Error::msg)?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", options.listen))?;
    let local = listener.local_addr()?;
    let shutdown_signal = shutdown_signal()?;
    let state = Arc::new(State {
        log: to.clone(),
        engine,
        metrics: Metrics::default(),
        max_body_bytes: options.max_body_bytes,
        ready: AtomicBool::new(true),
    });
    // Said on stderr too, where a person starting it by hand looks.
    eprintln!("rampart admission: listening on https://{local}");
    log(
        &to,
        audit::event(
            "admission.start",
            json!({"listen": local.to_string(), "queries": state.engine.registry.len()}),
        ),
    );
    let reloader = tokio::spawn(reload_loop(certs, options.reload_every, to.clone()));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown_signal);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((tcp, _peer)) = accepted else {
                    // Out of descriptors and the like: wait, do not spin.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let _ = tcp.set_nodelay(true);
                let acceptor = acceptor.clone();
                let state = Arc::clone(&state);
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await else {
                        return;
                    };
                    let service = hyper::service::service_fn(move |request| {
                        let state = Arc::clone(&state);
                        async move { Ok::<_, Infallible>(route(&state, request).await) }
                    });
                    let connection = hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(HANDSHAKE_TIMEOUT)
                        .serve_connection(TokioIo::new(tls), service);
                    let _ = watcher.watch(connection).await;
                });
            }
            () = &mut shutdown => break,
        }
    }
    state.ready.store(false, Ordering::SeqCst);
    drop(listener);
    log(&to, audit::event("admission.draining", json!({})));
    let drained = tokio::time::timeout(options.drain, graceful.shutdown())
        .await
        .is_ok();
    reloader.abort();
    log(
        &to,
        audit::event("admission.stop", json!({"drained": drained})),
    );
    eprintln!("rampart admission: stopped");
    Ok(())
}

/// Waits for SIGTERM or SIGINT. The handlers are installed when this is
/// called, not when first polled, so a signal that arrives right after the
/// server says it listens is never the default action (exit mid-review).
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
    })
}

async fn reload_loop(certs: Arc<CertStore>, every: Duration, to: Log) {
    let mut ticks = tokio::time::interval(every);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let certs = Arc::clone(&certs);
        match tokio::task::spawn_blocking(move || certs.reload_if_changed()).await {
            Ok(Ok(true)) => log(&to, audit::event("admission.tls_reloaded", json!({}))),
            Ok(Ok(false)) => {}
            Ok(Err(error)) => log(
                &to,
                audit::event(
                    "admission.tls_reload_failed",
                    json!({"error": error, "note": "still serving the previous certificate"}),
                ),
            ),
            Err(_) => {}
        }
    }
}

type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Reply {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    response
}

/// A refused request: a clear message to the client, a line in the log.
fn refuse(state: &State, status: StatusCode, path: &str, why: &str) -> Reply {
    state.metrics.rejected(status.as_u16());
    log(
        &state.log,
        audit::event(
            "admission.bad_request",
            json!({"status": status.as_u16(), "path": path, "error": why}),
        ),
    );
    reply(status, "text/plain; charset=utf-8", format!("{why}\n"))
}

async fn route(state: &Arc<State>, request: Request<Incoming>) -> Reply {
    let path = request.uri().path().to_string();
    match (request.method(), path.as_str()) {
        (&Method::GET, "/healthz") => reply(StatusCode::OK, "text/plain", "ok\n"),
        (&Method::GET, "/readyz") => {
            if state.ready.load(Ordering::SeqCst) {
                reply(StatusCode::OK, "text/plain", "ready\n")
            } else {
                reply(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "text/plain",
                    "shutting down\n",
                )
            }
        }
        (&Method::GET, "/metrics") => reply(
            StatusCode::OK,
            "text/plain; version=0.0.4",
            state.metrics.render(),
        ),
        (&Method::POST, "/validate") => validate(state, request).await,
        (_, "/validate" | "/healthz" | "/readyz" | "/metrics") => refuse(
            state,
            StatusCode::METHOD_NOT_ALLOWED,
            &path,
            "method not allowed",
        ),
        _ => refuse(
            state,
            StatusCode::NOT_FOUND,
            &path,
            "not found: reviews go to POST /validate",
        ),
    }
}

async fn validate(state: &Arc<State>, request: Request<Incoming>) -> Reply {
    let started = Instant::now();
    let limit = state.max_body_bytes;
    let body = match Limited::new(request.into_body(), limit).collect().await {
        Ok(body) => body.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return refuse(
                state,
                StatusCode::PAYLOAD_TOO_LARGE,
                "/validate",
                &format!("request body over the {limit}-byte limit (--max-request-bytes)"),
            );
        }
        Err(e) => {
            return refuse(
                state,
                StatusCode::BAD_REQUEST,
                "/validate",
                &format!("cannot read the body: {e}"),
            );
        }
    };
    let mut review = match review::parse(&body) {
        Ok(review) => review,
        Err(why) => return refuse(state, StatusCode::BAD_REQUEST, "/validate", &why),
    };
    drop(body);
    // Evaluation is short CPU work (a fraction of a millisecond): done on
    // this worker, in arrival order, rather than handed to a thread pool
    // where fifty reviews would fight over two cores. A panic is caught and
    // answered, never a dead server.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        decide(&state.engine, &mut review, crate::date::Date::today())
    }));
    let Ok(decision) = outcome else {
        return refuse(
            state,
            StatusCode::INTERNAL_SERVER_ERROR,
            "/validate",
            "internal error while evaluating the object (please report this)",
        );
    };
    let took = started.elapsed();
    let mode = decision.mode.map_or("exempt", |m| m.name());
    state.metrics.review(
        mode,
        decision.response.allowed,
        review.dry_run,
        &decision.failing,
        took,
    );
    log(
        &state.log,
        audit::line(&review, &decision, took.as_micros()),
    );
    reply(
        StatusCode::OK,
        "application/json",
        review::render(&review.uid, &decision.response),
    )
}
