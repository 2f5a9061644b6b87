//! Limits under abuse: rate limits, body and header sizes, timeouts, load shedding, request ids.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use wix_app::model::Role;

#[tokio::test]
async fn submissions_are_rate_limited_per_visitor() {
    let app = spawn_with(&[("SUBMIT_RATE_PER_MINUTE", "5"), ("SUBMIT_BURST", "2")]).await;
    let visitor = instance(SITE_A, Role::Visitor);
    for _ in 0..2 {
        let r = app
            .call(
                "/api/feedback/submit",
                Some(&visitor),
                json!({ "message": "hi" }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let limited = app
        .call(
            "/api/feedback/submit",
            Some(&visitor),
            json!({ "message": "hi" }),
        )
        .await;
    limited.assert_error(429, "too_many_requests");
    let wait: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=12).contains(&wait), "retry-after {wait}");

    // Another visitor of the same site, and the same visitor id on another site, are not affected.
    let member = instance(SITE_A, Role::Member);
    let r = app
        .call(
            "/api/feedback/submit",
            Some(&member),
            json!({ "message": "hi" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .call(
            "/api/feedback/submit",
            Some(&instance(SITE_B, Role::Visitor)),
            json!({ "message": "hi" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Nothing was stored for the refused one.
    let page = app.list(SITE_A, json!({ "status": "all" })).await;
    assert_eq!(page.body["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn failed_authentication_is_rate_limited_per_address() {
    let app = spawn_with(&[("AUTH_FAILURES_PER_MINUTE", "3")]).await;
    let forged = format!("{}x", instance(SITE_A, Role::Owner));
    for _ in 0..3 {
        app.call("/api/site/summary", Some(&forged), json!({}))
            .await
            .assert_error(401, "malformed_instance");
    }
    let limited = app
        .call("/api/site/summary", Some(&forged), json!({}))
        .await;
    limited.assert_error(429, "too_many_requests");
    assert!(limited.headers.get("retry-after").is_some());
    // A valid credential from the same address still works.
    let ok = app
        .call(
            "/api/site/summary",
            Some(&instance(SITE_A, Role::Owner)),
            json!({}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
}

#[tokio::test]
async fn body_and_header_sizes_are_bounded() {
    let app = spawn().await;
    let visitor = instance(SITE_A, Role::Visitor);
    // The largest valid message fits comfortably.
    let max = "é".repeat(2000);
    let r = app
        .call(
            "/api/feedback/submit",
            Some(&visitor),
            json!({ "message": max }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let over = json!({ "message": "x", "padding": "y".repeat(17 * 1024) });
    app.call("/api/feedback/submit", Some(&visitor), over)
        .await
        .assert_error(413, "payload_too_large");

    let res = app
        .client
        .post(app.url("/api/feedback/submit"))
        .header("authorization", &visitor)
        .header("content-type", "application/json")
        .header("x-padding", "z".repeat(17 * 1024))
        .body(r#"{"message":"hi"}"#)
        .send()
        .await
        .unwrap();
    TestApp::reply(res)
        .await
        .assert_error(431, "headers_too_large");
}

#[tokio::test]
async fn slow_requests_time_out_with_json() {
    let app = spawn_with(&[("REQUEST_TIMEOUT_SECS", "1")]).await;
    app.fake.set_latency(Duration::from_millis(2500));
    let started = std::time::Instant::now();
    let r = app
        .call(
            "/api/site/summary",
            Some(&instance(SITE_A, Role::Owner)),
            json!({}),
        )
        .await;
    r.assert_error(503, "timeout");
    assert!(
        started.elapsed() < Duration::from_millis(2400),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn load_beyond_the_concurrency_limit_is_shed() {
    let app = spawn_with(&[("MAX_CONCURRENT_REQUESTS", "1")]).await;
    app.fake.set_latency(Duration::from_millis(1500));
    let owner = instance(SITE_A, Role::Owner);
    let slow = app.call("/api/site/summary", Some(&owner), json!({}));
    let fast = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        TestApp::reply(app.client.get(app.url("/healthz")).send().await.unwrap()).await
    };
    let (slow, shed) = tokio::join!(slow, fast);
    assert_eq!(slow.status, 200, "{}", slow.body);
    shed.assert_error(503, "overloaded");
    assert!(shed.headers.get("retry-after").is_some());
    // Once the slot is free, requests are served again.
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn().await;
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "{id}");
    let r = app.call("/api/site/summary", None, json!({})).await;
    assert!(r.headers.get("x-request-id").is_some());
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-me-123");
    // Anything but a short plain token is replaced, never echoed or logged.
    for bad in [
        "x".repeat(65),
        "has space".into(),
        "semi;colon".into(),
        "ünïcode".into(),
    ] {
        let res = app
            .client
            .get(app.url("/healthz"))
            .header("x-request-id", bad.as_bytes())
            .send()
            .await
            .unwrap();
        let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_ne!(id.as_bytes(), bad.as_bytes());
        assert_eq!(id.len(), 36, "{id}");
    }
}

/// `POST /api/site/summary` as if relayed by a proxy for `client`.
async fn summary_via_proxy(app: &TestApp, client: &str, auth: &str) -> Reply {
    let res = app
        .client
        .post(app.url("/api/site/summary"))
        .header("content-type", "application/json")
        .header("authorization", auth)
        .header("x-forwarded-for", format!("198.51.100.99, {client}"))
        .body("{}")
        .send()
        .await
        .unwrap();
    TestApp::reply(res).await
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_failure_limit() {
    let app = spawn_with(&[
        ("AUTH_FAILURES_PER_MINUTE", "3"),
        ("TRUSTED_PROXIES", "127.0.0.1/32, ::1"),
    ])
    .await;
    let forged = format!("{}x", instance(SITE_A, Role::Owner));
    let valid = instance(SITE_A, Role::Owner);
    let (x, y) = ("203.0.113.5", "203.0.113.6");
    for _ in 0..3 {
        summary_via_proxy(&app, x, &forged)
            .await
            .assert_error(401, "malformed_instance");
    }
    summary_via_proxy(&app, x, &forged)
        .await
        .assert_error(429, "too_many_requests");
    // Another client behind the same proxy keeps its ordinary answers.
    summary_via_proxy(&app, y, &forged)
        .await
        .assert_error(401, "malformed_instance");
    assert_eq!(summary_via_proxy(&app, y, &valid).await.status, 200);
    // The limited client's valid credential is still served (an office behind one NAT).
    assert_eq!(summary_via_proxy(&app, x, &valid).await.status, 200);
    // With a port, and IPv4-mapped: the same client.
    summary_via_proxy(&app, "[::ffff:203.0.113.5]:4444", &forged)
        .await
        .assert_error(429, "too_many_requests");

    // IPv6 clients are keyed by their /64.
    for _ in 0..3 {
        summary_via_proxy(&app, "2001:db8:0:1::1", &forged)
            .await
            .assert_error(401, "malformed_instance");
    }
    summary_via_proxy(&app, "2001:db8:0:1::ffff", &forged)
        .await
        .assert_error(429, "too_many_requests");
    summary_via_proxy(&app, "2001:db8:0:2::1", &forged)
        .await
        .assert_error(401, "malformed_instance");
}

#[tokio::test]
async fn without_trusted_proxies_forwarded_for_is_ignored() {
    let app = spawn_with(&[("AUTH_FAILURES_PER_MINUTE", "3")]).await;
    let forged = format!("{}x", instance(SITE_A, Role::Owner));
    for client in ["203.0.113.1", "203.0.113.2", "203.0.113.3"] {
        summary_via_proxy(&app, client, &forged)
            .await
            .assert_error(401, "malformed_instance");
    }
    // A fresh X-Forwarded-For does not buy a fresh limit: the TCP peer is the client.
    summary_via_proxy(&app, "203.0.113.4", &forged)
        .await
        .assert_error(429, "too_many_requests");
}

#[tokio::test]
async fn submissions_are_limited_per_site_and_address_too() {
    let app = spawn_with(&[
        ("SUBMIT_RATE_PER_ADDRESS_PER_MINUTE", "1"),
        ("SUBMIT_BURST_PER_ADDRESS", "2"),
    ])
    .await;
    // Three different visitors (fresh subjects) from one address.
    let submit = |site: &'static str, n: usize| {
        let app = &app;
        async move {
            let subject = format!("visitor-{n}");
            let credential = wix_app::auth::InstanceClaims::for_role(
                site,
                APP_ID,
                Role::Visitor,
                &subject,
                chrono::Utc::now(),
            )
            .sign(SECRET.as_bytes());
            app.call(
                "/api/feedback/submit",
                Some(&credential),
                json!({ "message": "hi" }),
            )
            .await
        }
    };
    assert_eq!(submit(SITE_A, 1).await.status, 200);
    assert_eq!(submit(SITE_A, 2).await.status, 200);
    let limited = submit(SITE_A, 3).await;
    limited.assert_error(429, "too_many_requests");
    assert!(limited.headers.get("retry-after").is_some());
    // Another site is another budget.
    assert_eq!(submit(SITE_B, 4).await.status, 200);
    let page = app.list(SITE_A, json!({ "status": "all" })).await;
    assert_eq!(page.body["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_global_token_info_budget_turns_junk_tokens_away_with_503() {
    let app = spawn_with(&[("TOKEN_INFO_PER_MINUTE", "3")]).await;
    for n in 0..3 {
        app.call(
            "/api/site/summary",
            Some(&format!("junk-token-{n}")),
            json!({}),
        )
        .await
        .assert_error(401, "invalid_access_token");
    }
    let busy = app
        .call("/api/site/summary", Some("junk-token-3"), json!({}))
        .await;
    busy.assert_error(503, "auth_unavailable");
    assert!(busy.headers.get("retry-after").is_some());
    assert_eq!(app.fake.token_info_requests(), 3);
    // Cached answers need no budget: a known token still gets its verdict.
    app.call("/api/site/summary", Some("junk-token-0"), json!({}))
        .await
        .assert_error(401, "invalid_access_token");
    // And signed instances never touch Token Info.
    let ok = app
        .call(
            "/api/site/summary",
            Some(&instance(SITE_A, Role::Owner)),
            json!({}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
}
