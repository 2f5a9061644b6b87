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
}
