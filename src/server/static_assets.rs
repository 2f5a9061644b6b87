//! The built frontend under `/pkg` (wasm, JS, CSS).
//!
//! Served from precompressed copies when the browser accepts them (`.br`, then `.gz`, made at
//! build time by `scripts/precompress.sh`; a file without copies, e.g. during `make dev`'s live
//! rebuilds, is sent as it is).
//!
//! Caching depends on the name. The production build (`make release-front`) puts a hash of each
//! file's content in its name (`wix-app.<hash>.wasm`, `chunk_4.<hash>.wasm`) and lists the
//! entry points' hashes in `<site root>/hash.txt`, which [`adopt_hashed_names`] points Leptos
//! at so the pages name the hashed files (`scripts/rehash-site.mjs` corrects the names that
//! cargo-leptos hashes before it rewrites the files). A hashed file never changes, so it is sent
//! with `Cache-Control: public, max-age=31536000, immutable`: a returning visitor's browser does
//! not even ask for it again, and a deploy changes the names. Unhashed files (debug builds) get
//! `no-cache` with `Last-Modified`: kept, but revalidated on each page load (a `304`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{CACHE_CONTROL, VARY};
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use leptos::config::LeptosOptions;
use tower_http::services::ServeDir;

/// What cargo-leptos writes next to the site when it hashes file names.
const HASH_FILE: &str = "hash.txt";
const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");

static STYLESHEET_HREF: OnceLock<String> = OnceLock::new();

/// The service for `/<site_pkg_dir>`: files of `dir`.
pub fn pkg_service(dir: PathBuf) -> Router {
    Router::new()
        .fallback_service(ServeDir::new(dir).precompressed_br().precompressed_gzip())
        .layer(middleware::from_fn(cache_control))
}

async fn cache_control(req: Request, next: Next) -> Response<Body> {
    let immutable = is_content_hashed(req.uri().path());
    let mut res = next.run(req).await;
    if res.status().is_success() || res.status().as_u16() == 304 {
        let value = if immutable { IMMUTABLE } else { REVALIDATE };
        res.headers_mut().insert(CACHE_CONTROL, value);
        // The body depends on `Accept-Encoding` (brotli, gzip or plain): a shared cache (a CDN
        // in front of the app) must key on it, or it hands brotli to a client that cannot read
        // it. `ServeDir` does not say so itself.
        res.headers_mut()
            .append(VARY, HeaderValue::from_static("accept-encoding"));
    }
    res
}

/// `name.<hash>.ext`, the hash being cargo-leptos's: 22 characters of base64url (an MD5). The
/// split loader's unhashed name, `__wasm_split.<22 underscores>.js`, is a placeholder, not a hash.
fn is_content_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let mut parts = name.rsplit('.');
    let (_ext, hash) = (parts.next(), parts.next());
    parts.next().is_some()
        && hash.is_some_and(|h| {
            h.len() == 22
                && h.bytes().any(|b| b != b'_')
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// When the site was built with hashed names (`<site root>/hash.txt` exists), has Leptos read
/// them from there: the hydration scripts, the split loader and the stylesheet then name the
/// hashed files. Leptos looks for the file relative to the executable unless the path is
/// absolute, so it is given as an absolute one and the binary can live anywhere.
pub fn adopt_hashed_names(options: &mut LeptosOptions) {
    let hash_file = Path::new(&*options.site_root).join(HASH_FILE);
    let Ok(hashes) = std::fs::read_to_string(&hash_file) else {
        return;
    };
    let absolute = std::path::absolute(&hash_file).unwrap_or(hash_file);
    options.hash_files = true;
    options.hash_file = absolute.to_string_lossy().into();
    let css_hash = hashes
        .lines()
        .find_map(|line| {
            line.split_once(':')
                .filter(|(kind, _)| kind.trim() == "css")
        })
        .map(|(_, hash)| hash.trim().to_owned());
    if let Some(hash) = css_hash {
        let href = format!(
            "/{}/{}.{hash}.css",
            options.site_pkg_dir, options.output_name
        );
        let _ = STYLESHEET_HREF.set(href);
    }
}

/// The stylesheet's address for pages rendered outside Leptos (the dev host page).
#[cfg(feature = "dev-tools")]
pub fn stylesheet_href() -> &'static str {
    STYLESHEET_HREF
        .get()
        .map_or("/pkg/wix-app.css", String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt as _;

    async fn get(dir: &Path, name: &str, accept: Option<&str>) -> Response<Body> {
        let mut req = Request::get(format!("/{name}"));
        if let Some(accept) = accept {
            req = req.header("accept-encoding", accept);
        }
        pkg_service(dir.to_owned())
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap()
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
            let res = get(dir.path(), "app.wasm", accept).await;
            assert_eq!(res.status(), StatusCode::OK);
            assert_eq!(
                res.headers()
                    .get("content-encoding")
                    .map(|v| v.to_str().unwrap()),
                encoding,
                "{accept:?}"
            );
            assert_eq!(res.headers()["cache-control"], "no-cache");
            assert_eq!(res.headers()["vary"], "accept-encoding");
            assert!(res.headers().contains_key("last-modified"));
            let bytes = axum::body::to_bytes(res.into_body(), 1024).await.unwrap();
            assert_eq!(&bytes[..], body);
        }

        // Without copies (a dev rebuild), the file itself.
        std::fs::remove_file(dir.path().join("app.wasm.br")).unwrap();
        std::fs::remove_file(dir.path().join("app.wasm.gz")).unwrap();
        let res = get(dir.path(), "app.wasm", Some("br")).await;
        assert!(res.headers().get("content-encoding").is_none());
    }

    #[tokio::test]
    async fn content_hashed_files_are_immutable_and_missing_ones_are_not_cached() {
        let dir = tempfile::tempdir().unwrap();
        let hashed = "wix-app.AbCdEfGhIjKlMnOpQrSt_-.wasm";
        std::fs::write(dir.path().join(hashed), b"v1").unwrap();
        std::fs::write(dir.path().join(format!("{hashed}.br")), b"br").unwrap();

        let res = get(dir.path(), hashed, Some("br")).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(res.headers()["content-encoding"], "br");

        // A name that is not (yet) there must not be cached for a year.
        let missing = get(dir.path(), "wix-app.ZZZZZZZZZZZZZZZZZZZZZZ.wasm", None).await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert!(missing.headers().get("cache-control").is_none());
    }

    #[test]
    fn only_cargo_leptos_hashes_count_as_content_hashed() {
        for hashed in [
            "/pkg/wix-app.AbCdEfGhIjKlMnOpQrSt_-.wasm",
            "chunk_4.0123456789abcdefghijkl.wasm",
            "__wasm_split.0123456789abcdefghijkl.js",
        ] {
            assert!(is_content_hashed(hashed), "{hashed}");
        }
        for plain in [
            "/pkg/wix-app.wasm",
            "/pkg/wix-app.css",
            "/pkg/__wasm_split.______________________.js",
            "0123456789abcdefghijkl.wasm",
            "wix-app.0123456789abcdefghijk.wasm",
            "wix-app.0123456789abcdefghij!l.wasm",
        ] {
            assert!(!is_content_hashed(plain), "{plain}");
        }
    }

    #[test]
    fn a_site_without_hash_file_keeps_plain_names() {
        let dir = tempfile::tempdir().unwrap();
        let mut options = LeptosOptions::builder()
            .output_name("wix-app")
            .site_root(dir.path().to_string_lossy().to_string())
            .build();
        adopt_hashed_names(&mut options);
        assert!(!options.hash_files);

        std::fs::write(
            dir.path().join(HASH_FILE),
            "js: AAAAAAAAAAAAAAAAAAAAAA\nwasm: BBBBBBBBBBBBBBBBBBBBBB\ncss: CCCCCCCCCCCCCCCCCCCCCC\n",
        )
        .unwrap();
        adopt_hashed_names(&mut options);
        assert!(options.hash_files);
        assert!(Path::new(&*options.hash_file).is_absolute());
    }
}
