//! What reaches the logs: one span per request with a request id, and never a credential.

// The shared support code of tests/it; this binary uses only part of it.
#[allow(dead_code)]
#[path = "it/common/mod.rs"]
mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use common::*;
use serde_json::json;
use wix_app::model::Role;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// JSON logs at TRACE level for everything in this test binary, as production would write them.
fn logs() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_env_filter("trace")
            .with_writer(move || writer.clone())
            .init();
        captured
    })
}

#[tokio::test]
async fn logs_carry_request_context_and_never_credentials() {
    let logs = logs();
    let app = spawn().await;
    let owner = instance(SITE_A, Role::Owner);
    let visitor = instance(SITE_A, Role::Visitor);
    let token = app.fake.mint_access_token(SITE_A, "VISITOR", "v-1", 600);
    let forged = format!("{}AAAA", &owner[..owner.len() - 4]);

    app.call(
        "/api/feedback/submit",
        Some(&visitor),
        json!({ "message": "hello", "email": "log@example.com" }),
    )
    .await;
    app.call(
        "/api/feedback/submit",
        Some(&token),
        json!({ "message": "via token" }),
    )
    .await;
    app.list(SITE_A, json!({ "status": "all" })).await;
    app.call("/api/site/summary", Some(&owner), json!({})).await;
    app.call("/api/site/summary", Some(&forged), json!({}))
        .await;
    app.call("/api/site/summary", Some("not-a-real-token.x.y"), json!({}))
        .await;
    let page = app
        .client
        .get(app.url(&format!("/dashboard?instance={owner}")))
        .send()
        .await
        .unwrap();
    let request_id = page.headers()["x-request-id"].to_str().unwrap().to_owned();
    let html = page.text().await.unwrap();
    // Give the contact-sync worker a moment, so its calls (with the app token) are logged too.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.len() > 1000, "logs were captured");
    for (what, secret) in [
        ("app secret", SECRET),
        ("owner instance", owner.as_str()),
        ("visitor instance", visitor.as_str()),
        ("forged instance", forged.as_str()),
        ("access token", token.as_str()),
        ("signature part", owner.split('.').next().unwrap()),
    ] {
        assert!(!text.contains(secret), "{what} reached the logs");
    }
    let (app_token, _) = app
        .store
        .app_tokens()
        .get(SITE_A)
        .await
        .unwrap()
        .expect("an app token was used");
    assert!(!text.contains(&app_token), "an app token reached the logs");
    // The access log line of the page request names its request id and path, not the query.
    assert!(text.contains(&request_id), "request id in logs");
    assert!(text.contains("\"path\":\"/dashboard\""), "path in the span");
    assert!(
        !text.contains("instance=ey") && !text.contains("?instance="),
        "query in logs"
    );
    // Verified requests record the instance and role on their span.
    assert!(
        text.contains(&format!("\"instance_id\":\"{SITE_A}\"")),
        "instance id on spans"
    );
    assert!(text.contains("\"role\":\"owner\""), "role on spans");
    // The page does not echo the credential into the HTML.
    assert!(
        !html.contains(owner.split('.').next().unwrap()),
        "instance echoed into the HTML"
    );
}
