//! The Wix API layer against the fake Wix over loopback: access tokens, the elevated client's
//! token handling and retries, site info, and the contact-sync outbox.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::json;
use wix_app::model::Role;
use wix_app::store::Store;
use wix_app::wix::fake::FakeWix;
use wix_app::wix::{WixClient, WixClientOptions, WixError};

// ---------- access tokens (Token Info) ----------

#[tokio::test]
async fn access_tokens_map_to_roles() {
    let app = spawn().await;
    for (subject, role) in [
        ("USER", "owner"),
        ("MEMBER", "member"),
        ("VISITOR", "visitor"),
    ] {
        let token = app
            .fake
            .mint_access_token(SITE_A, subject, &format!("{subject}-1"), 600);
        let r = app
            .call(
                "/api/feedback/submit",
                Some(&token),
                json!({ "message": format!("via {subject}") }),
            )
            .await;
        assert_eq!(r.status, 200, "{subject}: {}", r.body);
        let page = app
            .list(SITE_A, json!({ "status": "all", "limit": 1 }))
            .await;
        assert_eq!(page.body["items"][0]["author_kind"], role);
    }
    let owner = app.fake.mint_access_token(SITE_A, "USER", "u", 600);
    let summary = app.call("/api/site/summary", Some(&owner), json!({})).await;
    assert_eq!(summary.status, 200, "{}", summary.body);
    assert_eq!(summary.body["instance_id"], SITE_A);
    let visitor = app.fake.mint_access_token(SITE_A, "VISITOR", "v", 600);
    app.call("/api/site/summary", Some(&visitor), json!({}))
        .await
        .assert_error(403, "forbidden");
}

#[tokio::test]
async fn token_info_rejections() {
    let app = spawn().await;
    let expired = app.fake.mint_access_token(SITE_A, "USER", "u", -10);
    let foreign = app.fake.mint_foreign_access_token(SITE_A, "some-other-app");
    let app_subject = app.fake.mint_access_token(SITE_A, "APP", "app", 600);
    let unknown_subject = app.fake.mint_access_token(SITE_A, "UNKNOWN", "x", 600);
    let no_instance = app.fake.mint_access_token("", "USER", "u", 600);
    for token in [
        expired,
        foreign,
        app_subject,
        unknown_subject,
        no_instance,
        "never-issued.a.b".to_owned(),
    ] {
        app.call("/api/site/summary", Some(&token), json!({}))
            .await
            .assert_error(401, "invalid_access_token");
    }
}

#[tokio::test]
async fn token_info_is_cached_and_single_flight() {
    let app = spawn().await;
    let token = app.fake.mint_access_token(SITE_A, "USER", "u", 600);
    let calls = (0..40).map(|_| app.call("/api/site/summary", Some(&token), json!({})));
    for r in futures::future::join_all(calls).await {
        assert_eq!(r.status, 200, "{}", r.body);
    }
    assert_eq!(
        app.fake.token_info_requests(),
        1,
        "40 concurrent requests, one Token Info call"
    );

    // Negative answers are cached too.
    let bad = "garbage-token-without-dots";
    for _ in 0..5 {
        app.call("/api/site/summary", Some(bad), json!({}))
            .await
            .assert_error(401, "invalid_access_token");
    }
    assert_eq!(app.fake.token_info_requests(), 2);
}

#[tokio::test]
async fn a_flood_of_garbage_tokens_is_rate_limited() {
    let app = spawn().await;
    let mut limited = 0;
    for n in 0..100 {
        let r = app
            .call(
                "/api/site/summary",
                Some(&format!("garbage-{n}")),
                json!({}),
            )
            .await;
        match r.status {
            401 => r.assert_error(401, "invalid_access_token"),
            429 => {
                r.assert_error(429, "too_many_requests");
                assert!(r.headers.get("retry-after").is_some());
                limited += 1;
            }
            other => panic!("unexpected {other}: {}", r.body),
        }
    }
    assert!(
        limited >= 30,
        "only {limited} of 100 garbage tokens were limited"
    );
    assert!(
        app.fake.token_info_requests() <= 70,
        "{} Token Info calls",
        app.fake.token_info_requests()
    );
}

#[tokio::test]
async fn signed_instances_never_reach_token_info() {
    let app = spawn().await;
    app.call(
        "/api/site/summary",
        Some(&instance(SITE_A, Role::Owner)),
        json!({}),
    )
    .await;
    let bad_sig = format!("{}x", instance(SITE_A, Role::Owner));
    app.call("/api/site/summary", Some(&bad_sig), json!({}))
        .await;
    assert_eq!(app.fake.token_info_requests(), 0);
}

#[tokio::test]
async fn token_info_outage_is_503_and_not_cached() {
    let app = spawn().await;
    let token = app.fake.mint_access_token(SITE_A, "USER", "u", 600);
    app.fake.set_down(true);
    app.call("/api/site/summary", Some(&token), json!({}))
        .await
        .assert_error(503, "auth_unavailable");
    app.fake.set_down(false);
    let r = app.call("/api/site/summary", Some(&token), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

// ---------- the elevated client ----------

async fn client(
    fake: &FakeWix,
    options: WixClientOptions,
) -> (WixClient, Store, tempfile::TempDir) {
    let base = fake.spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    let client = WixClient::new(
        &base,
        APP_ID,
        wix_app::server::config::Secret::new(SECRET),
        store.clone(),
        options,
    );
    (client, store, dir)
}

fn fast() -> WixClientOptions {
    WixClientOptions {
        base_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        deadline: Duration::from_secs(10),
        ..Default::default()
    }
}

/// Tenants come only from verified credentials: verify a signed owner instance.
fn tenant_of(site: &str) -> wix_app::auth::TenantId {
    let verifier = wix_app::auth::InstanceVerifier::new(SECRET.as_bytes(), 0);
    verifier
        .verify_at(&instance(site, Role::Owner), chrono::Utc::now())
        .unwrap()
        .tenant()
        .clone()
}

#[tokio::test]
async fn one_token_request_for_a_hundred_concurrent_calls() {
    let fake = FakeWix::new(APP_ID, SECRET);
    fake.set_site_name(SITE_A, "Bakery");
    let (client, _store, _dir) = client(&fake, fast()).await;
    let t = tenant_of(SITE_A);
    let calls = (0..100).map(|_| client.site_info(&t, Duration::from_secs(10)));
    for result in futures::future::join_all(calls).await {
        assert_eq!(result.unwrap().site_name.as_deref(), Some("Bakery"));
    }
    assert_eq!(fake.token_requests(SITE_A), 1);
}

#[tokio::test]
async fn tokens_are_refreshed_before_they_expire_and_shared_through_the_database() {
    let fake = FakeWix::new(APP_ID, SECRET);
    fake.set_token_ttl(2);
    let (client, store, _dir) = client(&fake, fast()).await;
    let t = tenant_of(SITE_A);
    client.site_info(&t, Duration::from_secs(5)).await.unwrap();
    client.site_info(&t, Duration::from_secs(5)).await.unwrap();
    assert_eq!(fake.token_requests(SITE_A), 1, "fresh token reused");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    client.site_info(&t, Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        fake.token_requests(SITE_A),
        2,
        "refreshed once past half its life"
    );

    // A second client (a restart or another replica) on the same database reuses the token.
    fake.set_token_ttl(3600);
    client.drop_tokens(SITE_A).await;
    client.site_info(&t, Duration::from_secs(5)).await.unwrap();
    assert_eq!(fake.token_requests(SITE_A), 3);
    let replica = WixClient::new(
        client.base_url(),
        APP_ID,
        wix_app::server::config::Secret::new(SECRET),
        store,
        fast(),
    );
    replica.site_info(&t, Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        fake.token_requests(SITE_A),
        3,
        "replica used the stored token"
    );
}

#[tokio::test]
async fn a_401_drops_the_token_and_fetches_a_new_one_once() {
    let fake = FakeWix::new(APP_ID, SECRET);
    let (client, _store, _dir) = client(&fake, fast()).await;
    let t = tenant_of(SITE_A);
    client.site_info(&t, Duration::from_secs(5)).await.unwrap();
    fake.revoke_app_tokens(SITE_A);
    client.site_info(&t, Duration::from_secs(5)).await.unwrap();
    assert_eq!(fake.token_requests(SITE_A), 2);

    // If Wix keeps saying 401, the client gives up after that one re-fetch.
    fake.fail_next(5, 401, None);
    let err = client
        .site_info(&t, Duration::from_secs(5))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");
    assert!(fake.token_requests(SITE_A) <= 3);
}

#[tokio::test]
async fn retry_after_is_honoured_on_429() {
    let fake = FakeWix::new(APP_ID, SECRET);
    let (client, _store, _dir) = client(&fake, fast()).await;
    let t = tenant_of(SITE_A);
    client.site_info(&t, Duration::from_secs(5)).await.unwrap();
    fake.fail_next(1, 429, Some(1));
    let started = Instant::now();
    client.site_info(&t, Duration::from_secs(5)).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "waited only {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn server_errors_are_retried_then_reported_clearly() {
    let fake = FakeWix::new(APP_ID, SECRET);
    let (client, _store, _dir) = client(&fake, fast()).await;
    let t = tenant_of(SITE_A);
    client.site_info(&t, Duration::from_secs(5)).await.unwrap();
    let before = fake.requests("/apps/v1/instance");

    fake.fail_next(2, 503, None);
    client.site_info(&t, Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        fake.requests("/apps/v1/instance") - before,
        3,
        "two failures, then success"
    );

    fake.fail_next(100, 500, None);
    let err = client
        .site_info(&t, Duration::from_secs(5))
        .await
        .unwrap_err();
    match &err {
        WixError::Exhausted { attempts, last } => {
            assert_eq!(*attempts, 4);
            assert_eq!(last.status(), Some(500));
        }
        other => panic!("{other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("500") && text.contains("4 attempts"),
        "{text}"
    );
    assert!(!text.contains(SECRET));
    assert_eq!(fake.requests("/apps/v1/instance") - before, 3 + 4);
}

#[tokio::test]
async fn the_overall_deadline_bounds_slow_wix() {
    let fake = FakeWix::new(APP_ID, SECRET);
    let (client, _store, _dir) = client(&fake, fast()).await;
    let t = tenant_of(SITE_A);
    client.site_info(&t, Duration::from_secs(5)).await.unwrap();
    fake.fail_next(100, 503, Some(2));
    let started = Instant::now();
    assert!(client.site_info(&t, Duration::from_secs(1)).await.is_err());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

// ---------- features ----------

#[tokio::test]
async fn summary_has_the_site_name_and_survives_a_wix_outage() {
    let app = spawn().await;
    app.fake.set_site_name(SITE_A, "Corner Bakery");
    let owner = instance(SITE_A, Role::Owner);
    let r = app.call("/api/site/summary", Some(&owner), json!({})).await;
    assert_eq!(r.body["site_name"], "Corner Bakery", "{}", r.body);

    app.fake.set_down(true);
    let b = app
        .call(
            "/api/site/summary",
            Some(&instance(SITE_B, Role::Owner)),
            json!({}),
        )
        .await;
    assert_eq!(b.status, 200, "{}", b.body);
    assert!(b.body["site_name"].is_null());
    assert_eq!(b.body["total"], 0);
    // A cached name keeps being served during the outage.
    let again = app.call("/api/site/summary", Some(&owner), json!({})).await;
    assert_eq!(again.body["site_name"], "Corner Bakery");
}

async fn wait_for_contact_state(
    app: &TestApp,
    site: &str,
    feedback_id: &str,
    state: &str,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let page = app
            .list(site, json!({ "status": "all", "limit": 100 }))
            .await;
        let item = page.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == feedback_id)
            .cloned()
            .expect("item listed");
        if item["contact"]["state"] == state {
            return item;
        }
        assert!(
            Instant::now() < deadline,
            "contact never became {state}: {item}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn feedback_email_becomes_a_contact_and_duplicates_are_linked() {
    let app = spawn().await;
    let visitor = instance(SITE_A, Role::Visitor);
    let first = app
        .call(
            "/api/feedback/submit",
            Some(&visitor),
            json!({ "message": "hi", "email": "Fan@Example.com" }),
        )
        .await;
    let first_id = first.body["id"].as_str().unwrap().to_owned();
    let item = wait_for_contact_state(&app, SITE_A, &first_id, "synced").await;
    let contact_id = item["contact"]["contact_id"].as_str().unwrap().to_owned();
    assert_eq!(app.fake.contacts(SITE_A).len(), 1);

    // Same email again: Wix answers 409 and the existing contact is linked.
    let second = app
        .call(
            "/api/feedback/submit",
            Some(&visitor),
            json!({ "message": "again", "email": "fan@example.com" }),
        )
        .await;
    let second_id = second.body["id"].as_str().unwrap().to_owned();
    let item = wait_for_contact_state(&app, SITE_A, &second_id, "synced").await;
    assert_eq!(item["contact"]["contact_id"], contact_id.as_str());
    assert_eq!(app.fake.contacts(SITE_A).len(), 1, "never duplicated");
    assert!(app.fake.contacts(SITE_B).is_empty());

    // No email, no contact.
    let plain = app.submit(SITE_A, Role::Visitor, "no email").await;
    let page = app.list(SITE_A, json!({ "status": "all" })).await;
    let item = page.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == plain.as_str())
        .unwrap()
        .clone();
    assert!(item["contact"].is_null());
}

#[tokio::test]
async fn a_wix_outage_delays_syncs_across_a_restart_and_loses_nothing() {
    let app = spawn().await;
    app.fake.set_down(true);
    let visitor = instance(SITE_A, Role::Visitor);
    let mut ids = Vec::new();
    for n in 0..5 {
        let r = app
            .call(
                "/api/feedback/submit",
                Some(&visitor),
                json!({ "message": format!("m{n}"), "email": format!("p{n}@example.com") }),
            )
            .await;
        assert_eq!(
            r.status, 200,
            "a Wix outage never fails a submission: {}",
            r.body
        );
        ids.push(r.body["id"].as_str().unwrap().to_owned());
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let page = app.list(SITE_A, json!({ "status": "all" })).await;
    for item in page.body["items"].as_array().unwrap() {
        assert_eq!(item["contact"]["state"], "pending", "{item}");
    }

    // Restart on the same database while Wix is still down, then Wix recovers.
    let app = restart(app).await;
    assert_eq!(
        app.list(SITE_A, json!({ "status": "all" })).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    app.fake.set_down(false);
    for id in &ids {
        wait_for_contact_state(&app, SITE_A, id, "synced").await;
    }
    assert_eq!(app.fake.contacts(SITE_A).len(), 5);
}

#[tokio::test]
async fn permanent_refusals_are_marked_failed_and_visible() {
    let app = spawn().await;
    app.fake.fail_next(1, 403, None);
    let r = app
        .call(
            "/api/feedback/submit",
            Some(&instance(SITE_A, Role::Visitor)),
            json!({ "message": "m", "email": "x@example.com" }),
        )
        .await;
    let id = r.body["id"].as_str().unwrap().to_owned();
    let item = wait_for_contact_state(&app, SITE_A, &id, "failed").await;
    assert!(item["contact"]["contact_id"].is_null());
}
