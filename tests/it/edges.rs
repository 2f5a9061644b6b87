//! CORS, security headers, the pages' human messages and the dev host page, over real HTTP.

use crate::common::*;
use reqwest::Method;
use wix_app::model::Role;

async fn post_with_origin(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/site/summary"))
        .header("origin", origin)
        .header("content-type", "application/json")
        .header("authorization", instance(SITE_A, Role::Owner))
        .body("{}")
        .send()
        .await
        .unwrap()
}

fn allow_origin(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn cors_allows_exactly_the_configured_origins() {
    let app = spawn().await;
    let wix_run = format!("https://{APP_ID}.wix.run");
    for origin in [
        wix_run.as_str(),
        "https://shop.example.com",
        "http://localhost:5173",
        "http://127.0.0.1:8080",
    ] {
        let res = post_with_origin(&app, origin).await;
        assert_eq!(res.status(), 200);
        assert_eq!(allow_origin(&res).as_deref(), Some(origin), "{origin}");
    }
    for origin in [
        "https://evil.example",
        "http://localhost.evil.example",
        "https://shop.example.com.evil.example",
        "http://shop.example.com",
        "https://other-app.wix.run",
        "null",
    ] {
        let res = post_with_origin(&app, origin).await;
        assert_eq!(allow_origin(&res), None, "{origin}");
    }
}

#[tokio::test]
async fn cors_errors_carry_the_header_too() {
    let app = spawn().await;
    let res = app
        .client
        .post(app.url("/api/site/summary"))
        .header("origin", "https://shop.example.com")
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        allow_origin(&res).as_deref(),
        Some("https://shop.example.com")
    );
}

#[tokio::test]
async fn preflight_is_answered_before_auth() {
    let app = spawn().await;
    let preflight = |origin: &'static str| {
        app.client
            .request(Method::OPTIONS, app.url("/api/feedback/list"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
    };
    let res = preflight("https://shop.example.com").await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(
        allow_origin(&res).as_deref(),
        Some("https://shop.example.com")
    );
    let methods = res.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_ascii_uppercase();
    for m in ["GET", "POST", "OPTIONS"] {
        assert!(methods.contains(m), "{methods}");
    }
    assert!(!methods.contains("DELETE"));
    let headers = res.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        headers.contains("authorization") && headers.contains("content-type"),
        "{headers}"
    );

    let denied = preflight("https://evil.example").await.unwrap();
    assert_eq!(allow_origin(&denied), None);
}

#[tokio::test]
async fn prod_does_not_allow_localhost() {
    let app = spawn_with(&[("APP_ENV", "prod")]).await;
    assert_eq!(
        allow_origin(&post_with_origin(&app, "http://localhost:5173").await),
        None
    );
    let wix_run = format!("https://{APP_ID}.wix.run");
    assert_eq!(
        allow_origin(&post_with_origin(&app, &wix_run).await),
        Some(wix_run)
    );
}

#[tokio::test]
async fn pages_are_frameable_by_wix_only_and_send_security_headers() {
    let app = spawn_with(&[("APP_ENV", "prod")]).await;
    let res = app.get("/dashboard").await;
    assert_eq!(res.status(), 200);
    let h = res.headers();
    assert_eq!(
        h["content-security-policy"].to_str().unwrap(),
        "frame-ancestors https://manage.wix.com https://*.wix.com https://*.wixsite.com"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert!(h.get("x-frame-options").is_none());

    let dev = spawn().await;
    let res = dev.get("/widget").await;
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.ends_with(" 'self'"), "{csp}");

    let custom = spawn_with(&[("FRAME_ANCESTORS", "https://editor.example")]).await;
    let res = custom.get("/dashboard").await;
    assert_eq!(
        res.headers()["content-security-policy"],
        "frame-ancestors https://editor.example 'self'"
    );
}

/// The dashboard starts its first two API requests from `<head>`, ahead of the stylesheet (which
/// would hold an inline script back until it loads); no other page does. The credential is read
/// in the browser, never written into the page.
#[tokio::test]
async fn the_dashboard_starts_its_first_requests_from_its_head() {
    let app = spawn().await;
    let owner = instance(SITE_A, Role::Owner);
    let html = app
        .get(&format!("/dashboard?instance={owner}"))
        .await
        .text()
        .await
        .unwrap();
    let at = |needle: &str| {
        html.find(needle)
            .unwrap_or_else(|| panic!("no {needle} in {html}"))
    };
    let script = at("window.__wixAppEarly=");
    assert!(script < at(r#"rel="stylesheet""#), "{html}");
    assert!(script < at("</head>"), "{html}");
    assert!(
        html.contains(r#"["/api/feedback/list",'{"status":"open""#),
        "{html}"
    );
    assert!(!html.contains(&owner), "the instance is not in the page");
    for path in ["/widget", "/settings", "/"] {
        let other = app.get(&format!("{path}?instance={owner}")).await;
        let other = other.text().await.unwrap();
        assert!(!other.contains("__wixAppEarly"), "{path}: {other}");
    }
}

#[tokio::test]
async fn pages_without_an_instance_explain_themselves() {
    let app = spawn().await;
    for path in ["/dashboard", "/widget", "/"] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        let html = res.text().await.unwrap();
        assert!(
            html.contains("Open this app from your Wix dashboard"),
            "{path}: {html}"
        );
    }
    // With an instance the page renders its shell; data comes from the API after hydration.
    let res = app
        .get(&format!(
            "/dashboard?instance={}",
            instance(SITE_A, Role::Owner)
        ))
        .await;
    // A page is rendered for one signed instance: no cache may keep it.
    assert_eq!(res.headers()["cache-control"], "no-store");
    let html = res.text().await.unwrap();
    assert!(!html.contains("Open this app from your Wix dashboard"));
    assert!(html.contains("Loading"));
    // JSON answers are not pages: no blanket no-store added to them.
    let health = app.get("/healthz").await;
    assert!(health.headers().get("cache-control").is_none());
}

#[tokio::test]
async fn dev_host_exists_only_in_dev_and_never_leaks_the_secret() {
    let dev = spawn().await;
    let res = dev.get("/dev").await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    for id in [
        "site-a-widget-visitor",
        "site-a-dashboard-owner",
        "site-b-dashboard-owner",
        "site-a-dashboard-tampered",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert!(!html.contains(SECRET));
    assert!(html.contains("id=\"site-a-uninstall\""));
    assert!(!html.contains("BEGIN PRIVATE KEY"));

    let prod = spawn_with(&[("APP_ENV", "prod")]).await;
    let res = prod.get("/dev").await;
    assert_eq!(res.status(), 404);
    assert_eq!(prod.dev_webhook("a", "AppRemoved").await.status(), 404);
}

#[tokio::test]
async fn the_fake_wix_control_routes_are_not_served_with_real_credentials() {
    let probe = |app: &TestApp| {
        let url = app.url("/_wix/_fake/access-token");
        let client = app.client.clone();
        async move {
            client
                .post(url)
                .json(&serde_json::json!({ "instance_id": SITE_A, "subject_type": "USER" }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // Dev with the built-in development app and no WIX_API_BASE: the fake is served.
    let dev_app = spawn_with(&[
        ("WIX_APP_ID", ""),
        ("WIX_APP_SECRET", ""),
        ("WIX_API_BASE", ""),
    ])
    .await;
    assert!(dev_app.app.fake_wix.is_some());
    assert_ne!(probe(&dev_app).await, 404);
    // Dev with the developer's own app: real Wix (WIX_API_BASE defaults to Wix), no fake.
    let own_app = spawn_with(&[("WIX_API_BASE", "")]).await;
    assert!(own_app.app.fake_wix.is_none());
    assert_eq!(own_app.app.wix.base_url(), wix_app::wix::DEFAULT_API_BASE);
    assert_eq!(probe(&own_app).await, 404);
    // Prod: neither the fake nor /dev.
    let prod = spawn_with(&[("APP_ENV", "prod"), ("WIX_API_BASE", "")]).await;
    assert!(prod.app.fake_wix.is_none());
    assert_eq!(probe(&prod).await, 404);
    let res = prod.get("/_wix/_fake/contacts?instance_id=x").await;
    assert_eq!(res.status(), 404);
}

/// Pages, API answers and the streamed CSV export travel compressed to a browser (brotli
/// preferred, then gzip) and decode to what an uncompressing client gets.
#[tokio::test]
async fn pages_and_api_answers_are_compressed_for_clients_that_accept_it() {
    use std::io::Read as _;
    let app = spawn().await;
    let owner = instance(SITE_A, Role::Owner);
    let premium = instance_with_plan(SITE_A, Role::Owner, Some("pro"), chrono::Utc::now());
    // More than one store page (100 rows), so the export streams several chunks.
    for i in 0..120 {
        app.submit(
            SITE_A,
            Role::Visitor,
            &format!("compressible feedback number {i}"),
        )
        .await;
    }
    let fetch = |path: &'static str, accept: Option<&'static str>| {
        let req = match path {
            "/dashboard" => app.client.get(app.url(path)),
            _ => app
                .client
                .post(app.url(path))
                .header(
                    "authorization",
                    if path.ends_with("export") {
                        &premium
                    } else {
                        &owner
                    },
                )
                .header("content-type", "application/json")
                .body(r#"{"status":"all","limit":20}"#),
        };
        let req = match accept {
            Some(accept) => req.header("accept-encoding", accept),
            None => req,
        };
        async move {
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), 200, "{path}");
            let encoding = res
                .headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap().to_owned());
            (encoding, res.bytes().await.unwrap().to_vec())
        }
    };
    let decode = |encoding: Option<&str>, body: &[u8]| -> Vec<u8> {
        let mut out = Vec::new();
        match encoding {
            Some("br") => {
                brotli_decompressor::Decompressor::new(body, 4096)
                    .read_to_end(&mut out)
                    .unwrap();
            }
            Some("gzip") => {
                flate2::read::GzDecoder::new(body)
                    .read_to_end(&mut out)
                    .unwrap();
            }
            other => panic!("unexpected content-encoding {other:?}"),
        };
        out
    };
    for path in ["/dashboard", "/api/feedback/list", "/api/feedback/export"] {
        let (plain_encoding, plain) = fetch(path, None).await;
        assert_eq!(
            plain_encoding, None,
            "{path}: nothing asked, nothing compressed"
        );
        for (accept, expected) in [("gzip, deflate, br, zstd", "br"), ("gzip", "gzip")] {
            let (encoding, body) = fetch(path, Some(accept)).await;
            assert_eq!(encoding.as_deref(), Some(expected), "{path} with {accept}");
            assert!(
                body.len() < plain.len(),
                "{path}: {} >= {}",
                body.len(),
                plain.len()
            );
            let decoded = decode(encoding.as_deref(), &body);
            match path {
                // Each render carries its own request-scoped bits; compare what matters.
                "/dashboard" => {
                    let text = String::from_utf8(decoded).unwrap();
                    assert!(
                        text.contains("<title>Feedback · Dashboard</title>"),
                        "{text}"
                    );
                }
                "/api/feedback/list" => {
                    let json: serde_json::Value = serde_json::from_slice(&decoded).unwrap();
                    let plain: serde_json::Value = serde_json::from_slice(&plain).unwrap();
                    assert_eq!(json, plain, "{path}");
                }
                _ => {
                    assert_eq!(decoded, plain, "{path}");
                    assert_eq!(String::from_utf8(decoded).unwrap().lines().count(), 1 + 120);
                }
            }
        }
    }
}
