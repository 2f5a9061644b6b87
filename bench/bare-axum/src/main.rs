//! `bare-axum <port>`: answers `GET /` with `ok` and nothing else (no middleware, no state).
use axum::{routing::get, Router};

#[tokio::main]
async fn main() {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("usage: bare-axum <port>");
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    let app = Router::new().route("/", get(|| async { "ok" }));
    axum::serve(listener, app).await.expect("serve");
}
