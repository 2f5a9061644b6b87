//! Serving the router over TCP so that slow or idle clients cannot exhaust the process.
//!
//! `axum::serve` has no header-read timeout and no connection cap: a client that opens a
//! connection and sends its request headers one byte at a time keeps a socket, a task and a
//! buffer forever, and enough of them exhaust file descriptors and memory. So connections are
//! served here with hyper directly:
//!
//! - **Header-read timeout** (`HEADER_READ_TIMEOUT_SECS`): a connection that has not sent a
//!   complete request head within it is closed. The clock starts when hyper begins reading a
//!   head, so it also closes keep-alive connections left idle that long.
//! - **Connection cap** (`MAX_CONNECTIONS`): a permit is taken *before* `accept`, and held by the
//!   connection's task. Past the cap, new connections wait in the kernel's listen backlog
//!   instead of being accepted and then starved half-way. [`bind`] asks for a backlog of
//!   [`LISTEN_BACKLOG`] rather than the usual 128, so a burst of connections waits there instead
//!   of having its SYNs dropped (which costs each client a one-second retransmit).
//! - **`TCP_NODELAY`** on every accepted socket: responses are written whole, so Nagle's
//!   algorithm would only add latency.
//! - **Graceful shutdown**: on the shutdown signal the listener is closed, idle connections are
//!   closed, in-flight requests finish, and after `SHUTDOWN_GRACE_SECS` every connection still
//!   open (a slow client, a stuck request) is dropped, so a deploy never hangs on a socket.
//! - Every request carries `ConnectInfo<SocketAddr>` (the TCP peer), which
//!   [`super::client_addr::resolve_client`] reads.
//!
//! The body-read deadline is not here but in the router's edges
//! (`http::body_deadline::read_body_in_time`), because it must answer with a JSON 408.
//!
//! Only HTTP/1.1 is served (like `axum::serve` with axum's default features): the app sits
//! behind a TLS-terminating proxy that speaks HTTP/1.1 to it. Protocol upgrades are not served.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tower::ServiceExt as _;

use super::Config;

/// How long to pause accepting after an error that is not about one connection (e.g. the
/// process is out of file descriptors), so the loop does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);
/// Longer header-read timeouts are cut to this: hyper adds the timeout to `Instant::now()`, which
/// overflows (and panics) for absurd values like `u64::MAX` seconds.
const MAX_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(86_400);

/// Connections the kernel accepts and queues for us to `accept` (Linux caps it at
/// `net.core.somaxconn`).
pub const LISTEN_BACKLOG: u32 = 1024;

/// A listener on `addr` with a [`LISTEN_BACKLOG`] backlog (and `SO_REUSEADDR` on Unix, like
/// `TcpListener::bind`). Must be called within a Tokio runtime.
pub fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// The connection-level limits, from [`Config`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    /// A connection that has not sent a whole request head by then is closed.
    pub header_read_timeout: Duration,
    /// Connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// After the shutdown signal, how long open connections get before they are dropped.
    pub shutdown_grace: Duration,
}

impl ServeLimits {
    pub fn from_config(config: &Config) -> Self {
        Self {
            header_read_timeout: Duration::from_secs(config.http.header_read_timeout_secs),
            max_connections: config.http.max_connections,
            shutdown_grace: Duration::from_secs(config.http.shutdown_grace_secs),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then drains (see the module docs).
/// Returns once every connection is closed, at most `limits.shutdown_grace` after `shutdown`.
pub async fn serve_on(
    listener: TcpListener,
    router: Router,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()>,
) {
    let http = http1_builder(limits.header_read_timeout);
    let slots = Arc::new(Semaphore::new(
        limits.max_connections.clamp(1, Semaphore::MAX_PERMITS),
    ));
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);

    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = accept_within_cap(&listener, &slots) => accepted,
        };
        let Some((stream, peer, slot)) = accepted else {
            continue;
        };
        // Finished connections are collected here, so the set stays at most as large as the cap.
        while connections.try_join_next().is_some() {}
        connections.spawn(serve_connection(
            http.clone(),
            stream,
            peer,
            router.clone(),
            graceful.watcher(),
            slot,
        ));
    }

    drop(listener);
    drain(graceful, connections, limits.shutdown_grace).await;
}

fn http1_builder(header_read_timeout: Duration) -> http1::Builder {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout.min(MAX_HEADER_READ_TIMEOUT));
    http
}

/// Waits for a free connection slot, then for a connection. `None` after an accept error (the
/// error is logged; the caller just tries again).
async fn accept_within_cap(
    listener: &TcpListener,
    slots: &Arc<Semaphore>,
) -> Option<(TcpStream, SocketAddr, OwnedSemaphorePermit)> {
    // The semaphore is never closed, so this only waits.
    let slot = Arc::clone(slots).acquire_owned().await.ok()?;
    match listener.accept().await {
        Ok((stream, peer)) => {
            if let Err(err) = stream.set_nodelay(true) {
                tracing::debug!(%peer, error = %err, "cannot set TCP_NODELAY");
            }
            Some((stream, peer, slot))
        }
        Err(err) if is_connection_error(&err) => None,
        Err(err) => {
            tracing::warn!(error = %err, "accept failed");
            tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
            None
        }
    }
}

/// Errors about the one connection being accepted (it went away), not about the listener.
fn is_connection_error(err: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        err.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    )
}

/// Serves one connection to the end; `_slot` frees its place under the cap when dropped.
async fn serve_connection(
    http: http1::Builder,
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    watcher: Watcher,
    _slot: OwnedSemaphorePermit,
) {
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        router.clone().oneshot(request)
    });
    let connection = http.serve_connection(TokioIo::new(stream), service);
    if let Err(err) = watcher.watch(connection).await {
        // Timeouts, resets and malformed requests: routine on the open internet.
        tracing::debug!(%peer, error = %err, "connection ended with an error");
    }
}

/// Asks every connection to finish its current request and close, waits up to `grace`, then
/// drops whatever is still open.
async fn drain(graceful: GracefulShutdown, mut connections: JoinSet<()>, grace: Duration) {
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        while connections.try_join_next().is_some() {}
        tracing::warn!(
            still_open = connections.len(),
            "shutdown grace period over; closing the remaining connections"
        );
    }
    connections.shutdown().await;
}
