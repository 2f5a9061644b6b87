//! `POST /webhooks/wix` and the instance lifecycle, over real HTTP against a real SQLite file.
//! Tokens are signed with the test-only key pair in tests/fixtures.

use crate::common::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{Duration, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use wix_app::model::Role;
use wix_app::server::webhooks::{purge_due, MAX_WEBHOOK_BODY_BYTES, WEBHOOK_PATH};
use wix_app::store::{InstanceRecord, InstanceStatus};

/// A token with arbitrary claims, signed RS256 with `private_pem`.
fn sign_claims(private_pem: &str, claims: &Value) -> String {
    let key = EncodingKey::from_rsa_pem(private_pem.as_bytes()).unwrap();
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), claims, &key).unwrap()
}

fn data_claim(event: &str, site: &str) -> String {
    json!({
        "eventType": event,
        "instanceId": site,
        "data": json!({ "appId": APP_ID }).to_string(),
    })
    .to_string()
}

impl TestApp {
    async fn record(&self, site: &str) -> Option<InstanceRecord> {
        self.store.instances().get(&tenant(site)).await.unwrap()
    }

    async fn total(&self, site: &str) -> i64 {
        let r = self.summary(site).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["total"].as_i64().unwrap()
    }
}

#[tokio::test]
async fn install_and_uninstall_drive_the_status() {
    let app = spawn().await;
    // Never mentioned by any webhook: active.
    assert_eq!(app.record(SITE_A).await, None);
    app.submit(SITE_A, Role::Visitor, "before any webhook")
        .await;
    assert_eq!(app.total(SITE_A).await, 1);

    let t = Utc::now() - Duration::seconds(30);
    assert_eq!(app.webhook_ok(installed(SITE_A, t)).await, "applied");
    let rec = app.record(SITE_A).await.unwrap();
    assert_eq!(rec.status, InstanceStatus::Active);
    assert_eq!(rec.installed_at, Some(t.timestamp() * 1_000_000));
    assert_eq!(rec.removed_at, None);

    assert_eq!(
        app.webhook_ok(removed(SITE_A, t + Duration::seconds(10)))
            .await,
        "applied"
    );
    let rec = app.record(SITE_A).await.unwrap();
    assert_eq!(rec.status, InstanceStatus::Removed);
    assert_eq!(rec.removed_at, Some((t.timestamp() + 10) * 1_000_000));
    assert_eq!(rec.purged_at, None);

    // Every API call from the removed site is refused, whatever the role.
    app.summary(SITE_A)
        .await
        .assert_error(403, "instance_removed");
    let r = app
        .submit_as(
            &instance(SITE_A, Role::Visitor),
            json!({ "message": "hello?" }),
        )
        .await;
    r.assert_error(403, "instance_removed");
    app.list(SITE_A, json!({}))
        .await
        .assert_error(403, "instance_removed");
    // An unverifiable credential still gets its 401 first: the status is no oracle.
    app.summary_as("garbage.instance")
        .await
        .assert_error(401, "malformed_instance");
    // The other site is untouched.
    app.submit(SITE_B, Role::Visitor, "site b").await;
    assert_eq!(app.total(SITE_B).await, 1);

    // Reinstall: works again, data kept (retention has not run out).
    assert_eq!(
        app.webhook_ok(installed(SITE_A, t + Duration::seconds(20)))
            .await,
        "applied"
    );
    assert_eq!(app.total(SITE_A).await, 1);
    let rec = app.record(SITE_A).await.unwrap();
    assert_eq!(rec.status, InstanceStatus::Active);
    assert_eq!(rec.removed_at, None);
    assert_eq!(rec.installed_at, Some((t.timestamp() + 20) * 1_000_000));
}

#[tokio::test]
async fn wix_testkit_shape_and_content_types_are_accepted() {
    let app = spawn().await;
    let t = Utc::now();
    for (i, content_type) in [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/json",
        "application/octet-stream",
    ]
    .iter()
    .enumerate()
    {
        let token = installed(&format!("site-ct-{i}"), t);
        let r = app.call_raw(WEBHOOK_PATH, None, content_type, token).await;
        assert_eq!(r.status, 200, "{content_type}: {}", r.body);
    }
    // No content type at all, and a trailing newline (curl --data-binary @file).
    let res = app
        .client
        .post(app.url(WEBHOOK_PATH))
        .body(format!("{}\n", installed("site-no-ct", t)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // Exactly the testkit's claims: {data, iat}, nothing else.
    let payload = installed("x", t).split('.').nth(1).unwrap().to_owned();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let mut keys: Vec<_> = claims.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["data", "iat"]);
}

#[tokio::test]
async fn unhandled_event_types_are_acknowledged() {
    let app = spawn().await;
    let r = app
        .webhook(webhook_event("PaidPlanPurchased", SITE_A, Utc::now()))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["outcome"], "ignored");
    assert_eq!(app.record(SITE_A).await, None);
    let no_instance = sign_claims(
        WEBHOOK_PRIVATE_KEY,
        &json!({ "data": json!({ "eventType": "SomethingNew" }).to_string() }),
    );
    assert_eq!(app.webhook_ok(no_instance).await, "ignored");
}

#[tokio::test]
async fn duplicates_change_nothing() {
    let app = spawn().await;
    let t = Utc::now() - Duration::seconds(5);
    let install = installed(SITE_A, t);
    assert_eq!(app.webhook_ok(install.clone()).await, "applied");
    let before = app.record(SITE_A).await;
    assert_eq!(app.webhook_ok(install.clone()).await, "duplicate");
    assert_eq!(app.record(SITE_A).await, before);

    // Removal with the same event time, then the install delivered again: without the
    // processed-event key the tie would reactivate the site.
    assert_eq!(app.webhook_ok(removed(SITE_A, t)).await, "applied");
    let before = app.record(SITE_A).await;
    assert_eq!(app.webhook_ok(install).await, "duplicate");
    assert_eq!(app.record(SITE_A).await, before);
    assert_eq!(before.unwrap().status, InstanceStatus::Removed);
    app.summary(SITE_A)
        .await
        .assert_error(403, "instance_removed");
}

#[tokio::test]
async fn older_events_never_override_newer_ones() {
    let app = spawn().await;
    let t = Utc::now() - Duration::seconds(60);
    // Reinstalled at t+30, but the removal from t arrives late.
    assert_eq!(
        app.webhook_ok(installed(SITE_A, t + Duration::seconds(30)))
            .await,
        "applied"
    );
    assert_eq!(app.webhook_ok(removed(SITE_A, t)).await, "stale");
    assert_eq!(
        app.record(SITE_A).await.unwrap().status,
        InstanceStatus::Active
    );
    assert_eq!(app.total(SITE_A).await, 0);

    // Removed at t+30; a delayed install from t must not bring it back.
    assert_eq!(
        app.webhook_ok(removed(SITE_B, t + Duration::seconds(30)))
            .await,
        "applied"
    );
    assert_eq!(app.webhook_ok(installed(SITE_B, t)).await, "stale");
    assert_eq!(
        app.record(SITE_B).await.unwrap().status,
        InstanceStatus::Removed
    );
    app.summary(SITE_B)
        .await
        .assert_error(403, "instance_removed");
}

/// The API answers removal from memory: it must agree with the database after concurrent
/// deliveries in any order, and after a restart.
#[tokio::test]
async fn removal_survives_restart_and_concurrent_deliveries_agree_with_the_database() {
    let app = spawn().await;
    let t = Utc::now() - Duration::seconds(120);
    // 40 deliveries for one site at once, alternating install/remove; the newest is a removal.
    let events: Vec<String> = (0..40)
        .map(|i| {
            let at = t + Duration::seconds(i);
            if i % 2 == 0 {
                installed(SITE_A, at)
            } else {
                removed(SITE_A, at)
            }
        })
        .rev()
        .collect();
    let deliveries = events.into_iter().map(|event| {
        let app = &app;
        async move { app.webhook_ok(event).await }
    });
    futures::future::join_all(deliveries).await;
    assert_eq!(
        app.record(SITE_A).await.unwrap().status,
        InstanceStatus::Removed
    );
    app.summary(SITE_A)
        .await
        .assert_error(403, "instance_removed");
    app.submit(SITE_B, Role::Visitor, "b is active").await;

    let app = restart(app).await;
    app.summary(SITE_A)
        .await
        .assert_error(403, "instance_removed");
    assert_eq!(app.summary(SITE_B).await.status, 200);
    assert_eq!(
        app.webhook_ok(installed(SITE_A, Utc::now())).await,
        "applied"
    );
    assert_eq!(app.summary(SITE_A).await.status, 200);
}

#[tokio::test]
async fn reinstall_before_purge_keeps_the_data() {
    let app = spawn().await;
    app.submit(SITE_A, Role::Visitor, "keep me").await;
    let t = Utc::now() - Duration::seconds(60);
    app.webhook_ok(removed(SITE_A, t)).await;
    app.webhook_ok(installed(SITE_A, t + Duration::seconds(10)))
        .await;
    // Long past the retention of the removal: nothing is due, the site came back.
    let report = purge_due(&app.store, 30, Utc::now() + Duration::days(365))
        .await
        .unwrap();
    assert_eq!(report.instances, 0);
    assert_eq!(app.total(SITE_A).await, 1);
}

#[tokio::test]
async fn purge_after_retention_deletes_the_sites_data() {
    let app = spawn().await;
    for site in [SITE_A, SITE_B] {
        app.submit(site, Role::Visitor, "one").await;
        app.submit(site, Role::Member, "two").await;
    }
    let removed_at = Utc::now() - Duration::seconds(1);
    app.webhook_ok(removed(SITE_A, removed_at)).await;

    // Not yet: one second short of 30 days.
    let early = purge_due(
        &app.store,
        30,
        removed_at + Duration::days(30) - Duration::seconds(1),
    )
    .await
    .unwrap();
    assert_eq!(early.instances, 0);
    assert_eq!(early.feedback_rows, 0);
    assert!(app.record(SITE_A).await.unwrap().purged_at.is_none());

    let due = purge_due(&app.store, 30, removed_at + Duration::days(30))
        .await
        .unwrap();
    assert_eq!(due.instances, 1);
    assert_eq!(due.feedback_rows, 2);
    assert!(app.record(SITE_A).await.unwrap().purged_at.is_some());
    // A second run finds nothing more to do.
    let again = purge_due(&app.store, 30, removed_at + Duration::days(31))
        .await
        .unwrap();
    assert_eq!(again.instances, 0);

    // Site B was never removed and keeps everything.
    assert_eq!(app.total(SITE_B).await, 2);
    // Reinstalled after the purge: active, empty.
    app.webhook_ok(installed(SITE_A, Utc::now())).await;
    let rec = app.record(SITE_A).await.unwrap();
    assert_eq!(rec.status, InstanceStatus::Active);
    assert_eq!(rec.purged_at, None);
    assert_eq!(app.total(SITE_A).await, 0);
}

#[tokio::test]
async fn retention_zero_purges_at_once() {
    let app = spawn_with(&[("DATA_RETENTION_DAYS", "0")]).await;
    app.submit(SITE_A, Role::Visitor, "gone soon").await;
    app.submit(SITE_B, Role::Visitor, "stays").await;
    // Even with an iat a little ahead of our clock (within the leeway).
    app.webhook_ok(removed(SITE_A, Utc::now() + Duration::seconds(30)))
        .await;
    assert!(app.record(SITE_A).await.unwrap().purged_at.is_some());
    app.webhook_ok(installed(SITE_A, Utc::now() + Duration::seconds(31)))
        .await;
    assert_eq!(app.total(SITE_A).await, 0);
    assert_eq!(app.total(SITE_B).await, 1);
}

#[tokio::test]
async fn bad_signatures_and_claims_are_401() {
    let app = spawn().await;
    let now = Utc::now().timestamp();
    let data = data_claim("AppRemoved", SITE_A);
    let claims = json!({ "data": data, "iat": now });

    let mut refused = vec![
        ("wrong key", sign_claims(OTHER_PRIVATE_KEY, &claims)),
        (
            "HS256 keyed with the public key PEM",
            jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &claims,
                &EncodingKey::from_secret(WEBHOOK_PUBLIC_KEY.as_bytes()),
            )
            .unwrap(),
        ),
        (
            "expired",
            sign_claims(
                WEBHOOK_PRIVATE_KEY,
                &json!({ "data": data, "iat": now - 7200, "exp": now - 3600 }),
            ),
        ),
        (
            "wrong aud",
            sign_claims(
                WEBHOOK_PRIVATE_KEY,
                &json!({ "data": data, "iat": now, "aud": "some-other-app" }),
            ),
        ),
        (
            "wrong iss",
            sign_claims(
                WEBHOOK_PRIVATE_KEY,
                &json!({ "data": data, "iat": now, "iss": "evil.example" }),
            ),
        ),
        (
            "issued in the future",
            sign_claims(
                WEBHOOK_PRIVATE_KEY,
                &json!({ "data": data, "iat": now + 3600 }),
            ),
        ),
    ];
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    for alg in ["none", "NONE", "HS512", "RS512", "PS256", "ES256", "EdDSA"] {
        let header = URL_SAFE_NO_PAD.encode(json!({ "alg": alg, "typ": "JWT" }).to_string());
        refused.push(("alg", format!("{header}.{payload}.")));
    }
    // A genuine signature moved onto another payload.
    let genuine = sign_claims(WEBHOOK_PRIVATE_KEY, &claims);
    let parts: Vec<&str> = genuine.split('.').collect();
    let other_payload = URL_SAFE_NO_PAD
        .encode(json!({ "data": data_claim("AppRemoved", SITE_B), "iat": now }).to_string());
    refused.push((
        "moved signature",
        format!("{}.{other_payload}.{}", parts[0], parts[2]),
    ));

    for (why, token) in refused {
        let r = app.webhook(token).await;
        assert_eq!(r.status, 401, "{why}: {}", r.body);
        r.assert_error(401, "invalid_webhook_signature");
    }
    // Nothing was applied by any of them.
    assert_eq!(app.record(SITE_A).await, None);
    assert_eq!(app.record(SITE_B).await, None);

    // The same claims with the right aud and iss are fine.
    let good = sign_claims(
        WEBHOOK_PRIVATE_KEY,
        &json!({ "data": data, "iat": now, "exp": now + 300, "aud": APP_ID, "iss": "wix.com" }),
    );
    assert_eq!(app.webhook_ok(good).await, "applied");
}

#[tokio::test]
async fn malformed_bodies_are_400_and_oversize_is_413() {
    let app = spawn().await;
    let now = Utc::now().timestamp();
    let bodies = [
        String::new(),
        "   ".to_owned(),
        "hello".to_owned(),
        "a.b.c".to_owned(),
        "eyJhbGciOiJSUzI1NiJ9.e30".to_owned(),
        json!({ "data": data_claim("AppInstalled", SITE_A) }).to_string(),
        "<xml/>".to_owned(),
        // Signed by the right key, but the nested data is not what Wix sends.
        sign_claims(WEBHOOK_PRIVATE_KEY, &json!({ "iat": now })),
        sign_claims(
            WEBHOOK_PRIVATE_KEY,
            &json!({ "data": "{not json", "iat": now }),
        ),
        sign_claims(
            WEBHOOK_PRIVATE_KEY,
            &json!({ "data": json!({ "eventType": "AppInstalled" }).to_string(), "iat": now }),
        ),
        sign_claims(
            WEBHOOK_PRIVATE_KEY,
            &json!({ "data": json!({ "eventType": "AppRemoved", "instanceId": SITE_A, "data": "{" }).to_string() }),
        ),
        // Larger than the API's 64 KiB limit, within the webhook's own.
        "x".repeat(100 * 1024),
    ];
    for body in bodies {
        let shown: String = body.chars().take(60).collect();
        let r = app.webhook(body).await;
        assert_eq!(r.status, 400, "{shown:?}: {}", r.body);
        r.assert_error(400, "invalid_webhook");
    }
    // Not UTF-8 at all.
    let res = app
        .client
        .post(app.url(WEBHOOK_PATH))
        .header("content-type", "text/plain")
        .body(vec![0xff, 0xfe, 0x00, b'.', b'.'])
        .send()
        .await
        .unwrap();
    Reply::read(res).await.assert_error(400, "invalid_webhook");

    let r = app.webhook("x".repeat(MAX_WEBHOOK_BODY_BYTES + 1)).await;
    r.assert_error(413, "payload_too_large");
    // Chunked, without a Content-Length: the limit still holds while streaming.
    assert_eq!(
        chunked_status(&app, MAX_WEBHOOK_BODY_BYTES + 8 * 1024).await,
        413
    );
    assert_eq!(chunked_status(&app, 8 * 1024).await, 400);

    let res = app.get(WEBHOOK_PATH).await;
    let r = Reply::read(res).await;
    r.assert_error(405, "method_not_allowed");
    assert_eq!(r.headers.get("allow").unwrap(), "POST");
    assert_eq!(app.record(SITE_A).await, None);
}

/// Posts `len` bytes of `x` with `Transfer-Encoding: chunked` over a raw socket; returns the status.
async fn chunked_status(app: &TestApp, len: usize) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let chunk = vec![b'x'; 8 * 1024];
    let mut sent = 0;
    while sent < len {
        let n = chunk.len().min(len - sent);
        // The server may answer 413 and stop reading before everything is sent.
        if stream
            .write_all(format!("{n:x}\r\n").as_bytes())
            .await
            .is_err()
            || stream.write_all(&chunk[..n]).await.is_err()
            || stream.write_all(b"\r\n").await.is_err()
        {
            break;
        }
        sent += n;
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut response = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut response),
    )
    .await;
    assert!(read.is_ok(), "the connection was not closed within 10 s");
    let text = String::from_utf8_lossy(&response);
    text.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {text:?}"))
}

#[tokio::test]
async fn dev_page_sends_lifecycle_webhooks_with_the_dev_key() {
    let app = spawn_with(&[(
        "WIX_WEBHOOK_PUBLIC_KEY",
        wix_app::auth::DEV_WEBHOOK_PUBLIC_KEY,
    )])
    .await;
    let app = &app;
    let send = |event: &'static str| async move {
        app.dev_webhook("a", event).await.text().await.unwrap()
    };
    // The redirect back to /dev is followed; the page shows the result and the new status.
    let html = send("AppRemoved").await;
    assert!(
        html.contains("Last webhook: <code>applied</code>"),
        "{html}"
    );
    assert!(
        html.contains(r#"<span id="site-a-status">removed"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<span id="site-b-status">active"#),
        "{html}"
    );
    let html = send("AppInstalled").await;
    assert!(
        html.contains(r#"<span id="site-a-status">active"#),
        "{html}"
    );
    // Only the two lifecycle events, and nothing echoed from the query.
    let html = send("Bogus").await;
    assert!(html.contains("Last webhook: <code>invalid_input</code>"));
    let res = app.get("/dev?webhook=<script>x</script>").await;
    assert!(!res.text().await.unwrap().contains("<script>x"));

    // With another key configured, dev-signed events are refused like any forgery.
    let other = spawn().await;
    let html = other
        .dev_webhook("a", "AppRemoved")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Last webhook: <code>invalid_webhook_signature</code>"));
    assert!(html.contains(r#"<span id="site-a-status">active (no webhook yet)"#));
}

#[tokio::test]
async fn removal_drops_the_app_token_and_reinstall_fetches_a_new_one() {
    let app = spawn().await;
    // The summary asks Wix for the site name, which needs an app token.
    app.total(SITE_A).await;
    assert!(app.store.app_tokens().get(SITE_A).await.unwrap().is_some());
    assert_eq!(app.fake.token_requests(SITE_A), 1);

    app.webhook_ok(removed(SITE_A, Utc::now())).await;
    assert!(
        app.store.app_tokens().get(SITE_A).await.unwrap().is_none(),
        "token left behind"
    );

    app.webhook_ok(installed(SITE_A, Utc::now() + chrono::Duration::seconds(1)))
        .await;
    app.app
        .wix
        .site_info(&tenant(SITE_A), std::time::Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(
        app.fake.token_requests(SITE_A),
        2,
        "a fresh token after reinstall"
    );
}

#[tokio::test]
async fn events_are_ordered_by_wix_clock_even_when_it_runs_ahead_of_ours() {
    let app = spawn().await;
    // Wix's clock is 50 s ahead of ours (within the 60 s leeway): the install says T+50, a late
    // removal that happened before it says T+40. The site must stay installed.
    let t = Utc::now();
    assert_eq!(
        app.webhook_ok(installed(SITE_A, t + Duration::seconds(50)))
            .await,
        "applied"
    );
    assert_eq!(
        app.webhook_ok(removed(SITE_A, t + Duration::seconds(40)))
            .await,
        "stale"
    );
    assert_eq!(
        app.record(SITE_A).await.unwrap().status,
        InstanceStatus::Active
    );
    assert_eq!(app.summary(SITE_A).await.status, 200);
    // Retention still counts from our clock: the removal time stored is never in our future.
    app.webhook_ok(removed(SITE_A, t + Duration::seconds(55)))
        .await;
    let rec = app.record(SITE_A).await.unwrap();
    assert_eq!(rec.status, InstanceStatus::Removed);
    assert!(rec.removed_at.unwrap() <= Utc::now().timestamp_micros());
}

#[tokio::test]
async fn a_submission_committing_after_the_removal_is_refused_not_orphaned() {
    let app = spawn_with(&[("DATA_RETENTION_DAYS", "0")]).await;
    app.submit(SITE_A, Role::Visitor, "before").await;
    // The request below passed its removal check before this webhook, and reaches the writer
    // after it: driven directly on the store, so the interleaving is deterministic.
    let site = tenant(SITE_A);
    app.webhook_ok(removed(SITE_A, Utc::now())).await;
    assert!(app.record(SITE_A).await.unwrap().purged_at.is_some());
    let late = app
        .store
        .feedback()
        .insert(
            &site,
            Role::Visitor,
            Some("late-visitor"),
            &wix_app::store::NewFeedback {
                message: "after".into(),
                email: Some("late@example.com".into()),
                rating: None,
                comp_id: "default".into(),
            },
            wix_app::store::Quota::default(),
        )
        .await;
    assert!(
        matches!(late, Err(wix_app::store::StoreError::InstanceRemoved)),
        "{late:?}"
    );
    // Nothing of the site is left to resurface on reinstall.
    app.webhook_ok(installed(SITE_A, Utc::now() + Duration::seconds(1)))
        .await;
    assert_eq!(app.total(SITE_A).await, 0);
    assert_eq!(app.store.contact_sync().totals().await.unwrap(), (0, 0, 0));
}

/// A separate connection to the app's database, on whichever engine it runs.
enum RawDb {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl RawDb {
    async fn connect(url: &str) -> Self {
        if url.starts_with("sqlite:") {
            Self::Sqlite(sqlx::SqlitePool::connect(url).await.unwrap())
        } else {
            Self::Postgres(sqlx::PgPool::connect(url).await.unwrap())
        }
    }

    /// `rows` feedback rows for `site`, written straight into the database.
    async fn bulk_insert(&self, site: &str, rows: i64) {
        match self {
            Self::Sqlite(db) => sqlx::query(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                 INSERT INTO feedback (id, instance_id, message, status, author_kind, created_at, updated_at)
                 SELECT printf('bulk-%06d', i), ?, 'bulk', 'open', 'visitor', 1000 + i, 1000 + i FROM n",
            )
            .bind(rows)
            .bind(site)
            .execute(db)
            .await
            .map(|_| ()),
            Self::Postgres(db) => sqlx::query(
                "INSERT INTO feedback (id, instance_id, message, status, author_kind, created_at, updated_at)
                 SELECT 'bulk-' || lpad(i::text, 6, '0'), $2, 'bulk', 'open', 'visitor', 1000 + i, 1000 + i
                 FROM generate_series(1, $1) AS i",
            )
            .bind(rows)
            .bind(site)
            .execute(db)
            .await
            .map(|_| ()),
        }
        .unwrap();
    }

    /// Rows of `site`.
    async fn rows_of(&self, site: &str) -> i64 {
        match self {
            Self::Sqlite(db) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM feedback WHERE instance_id = ?")
                    .bind(site)
                    .fetch_one(db)
                    .await
            }
            Self::Postgres(db) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM feedback WHERE instance_id = $1")
                    .bind(site)
                    .fetch_one(db)
                    .await
            }
        }
        .unwrap()
    }
}

async fn rows_of(db: &RawDb, site: &str) -> i64 {
    db.rows_of(site).await
}

#[tokio::test]
async fn a_large_purge_lets_other_writes_through() {
    const ROWS: i64 = 100_000;
    let app = spawn().await;
    app.submit(SITE_A, Role::Visitor, "seed").await;
    // 100,000 rows for site A, written straight into the database.
    let db = RawDb::connect(&app.database_url).await;
    db.bulk_insert(SITE_A, ROWS - 1).await;
    assert_eq!(rows_of(&db, SITE_A).await, ROWS);
    let removed_at = Utc::now() - Duration::seconds(1);
    app.webhook_ok(removed(SITE_A, removed_at)).await;

    let purge = tokio::spawn({
        let store = app.store.clone();
        async move {
            purge_due(&store, 30, removed_at + Duration::days(31))
                .await
                .unwrap()
        }
    });
    // Wait until the purge is visibly under way (committed chunks), not finished.
    let pool = &db;
    eventually(
        std::time::Duration::from_secs(10),
        std::time::Duration::from_millis(5),
        || async {
            match rows_of(pool, SITE_A).await {
                ROWS => Err("the purge never committed a part of its work".to_owned()),
                _ => Ok(()),
            }
        },
    )
    .await;
    // While it runs: a submission, a status change and a webhook of another site all succeed,
    // each committing before the purge is done (one big transaction would make them wait).
    let id = app.submit(SITE_B, Role::Visitor, "during the purge").await;
    let r = app
        .set_status_as(&instance(SITE_B, Role::Owner), &id, "resolved")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        app.webhook_ok(installed(SITE_B, Utc::now())).await,
        "applied"
    );
    assert!(
        rows_of(&db, SITE_A).await > 0,
        "the purge finished before the other writes: nothing shows they were not blocked"
    );
    let report = purge.await.unwrap();
    assert_eq!(report.instances, 1);
    assert_eq!(report.feedback_rows, ROWS as u64);
    assert_eq!(rows_of(&db, SITE_A).await, 0);
    assert_eq!(rows_of(&db, SITE_B).await, 1);
}
