//! The built frontend under `/pkg` (wasm, JS, CSS).
//!
//! Served from precompressed copies when the browser accepts them (`.br`, then `.gz`, made at
//! build time by `scripts/precompress.sh`; a file without copies, e.g. during `make dev`'s live
//! rebuilds, is sent as it is). Every response says `Cache-Control: no-cache` and carries
//! `Last-Modified`: the browser keeps the bundle and revalidates it on each page load, so a
//! reload costs a `304`, not the bundle. The file names are not content-hashed yet, so a
//! longer-lived `immutable` would keep an old bundle after a deploy.

use std::path::PathBuf;

use axum::http::header::CACHE_CONTROL;
use axum::http::HeaderValue;
use tower::Layer as _;
use tower_http::services::ServeDir;
use tower_http::set_header::{SetResponseHeader, SetResponseHeaderLayer};

/// The service for `/<site_pkg_dir>`: files of `dir`.
pub fn pkg_service(dir: PathBuf) -> SetResponseHeader<ServeDir, HeaderValue> {
    SetResponseHeaderLayer::overriding(CACHE_CONTROL, HeaderValue::from_static("no-cache"))
        .layer(ServeDir::new(dir).precompressed_br().precompressed_gzip())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt as _;

    async fn get(dir: &std::path::Path, accept: Option<&str>) -> axum::response::Response {
        let mut req = Request::get("/app.wasm");
        if let Some(accept) = accept {
            req = req.header("accept-encoding", accept);
        }
        pkg_service(dir.to_owned())
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap()
            .map(Body::new)
    }

    #[tokio::test]
    async fn precompressed_copies_are_negotiated_and_revalidated() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.wasm"), b"plain").unwrap();
        std::fs::write(dir.path().join("app.wasm.br"), b"brotli").unwrap();
        std::fs::write(dir.path().join("app.wasm.gz"), b"gzip").unwrap();

        for (accept, encoding, body) in [
            (Some("gzip, deflate, br"), Some("br"), &b"brotli"[..]),
            (Some("gzip"), Some("gzip"), &b"gzip"[..]),
            (None, None, &b"plain"[..]),
        ] {
            let res = get(dir.path(), accept).await;
            assert_eq!(res.status(), StatusCode::OK);
            assert_eq!(
                res.headers()
                    .get("content-encoding")
                    .map(|v| v.to_str().unwrap()),
                encoding,
                "{accept:?}"
            );
            assert_eq!(res.headers()["cache-control"], "no-cache");
            assert!(res.headers().contains_key("last-modified"));
            let bytes = axum::body::to_bytes(res.into_body(), 1024).await.unwrap();
            assert_eq!(&bytes[..], body);
        }

        // Without copies (a dev rebuild), the file itself.
        std::fs::remove_file(dir.path().join("app.wasm.br")).unwrap();
        std::fs::remove_file(dir.path().join("app.wasm.gz")).unwrap();
        let res = get(dir.path(), Some("br")).await;
        assert!(res.headers().get("content-encoding").is_none());
    }
}
