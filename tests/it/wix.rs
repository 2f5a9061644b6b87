//! The Wix API layer against the fake Wix over loopback: access tokens, the elevated client's
//! token handling and retries, site info, and the contact-sync outbox.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::common::*;
use chrono::Utc;
use serde_json::json;
use wix_app::jobs::contact_sync::ContactSyncWorker;
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
            .submit_as(&token, json!({ "message": format!("via {subject}") }))
            .await;
        assert_eq!(r.status, 200, "{subject}: {}", r.body);
        let page = app
            .list(SITE_A, json!({ "status": "all", "limit": 1 }))
            .await;
        assert_eq!(page.body["items"][0]["author_kind"], role);
    }
    let owner = app.fake.mint_access_token(SITE_A, "USER", "u", 600);
    let summary = app.summary_as(&owner).await;
    assert_eq!(summary.status, 200, "{}", summary.body);
    assert_eq!(summary.body["instance_id"], SITE_A);
    let visitor = app.fake.mint_access_token(SITE_A, "VISITOR", "v", 600);
    app.summary_as(&visitor)
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
        app.summary_as(&token)
            .await
            .assert_error(401, "invalid_access_token");
    }
}

#[tokio::test]
async fn token_info_is_cached_and_single_flight() {
    let app = spawn().await;
    let token = app.fake.mint_access_token(SITE_A, "USER", "u", 600);
    let calls = (0..40).map(|_| app.summary_as(&token));
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
        app.summary_as(bad)
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
        let r = app.summary_as(&format!("garbage-{n}")).await;
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
    app.summary(SITE_A).await;
    let bad_sig = format!("{}x", instance(SITE_A, Role::Owner));
    app.summary_as(&bad_sig).await;
    assert_eq!(app.fake.token_info_requests(), 0);
}

#[tokio::test]
async fn token_info_outage_is_503_and_not_cached() {
    let app = spawn().await;
    let token = app.fake.mint_access_token(SITE_A, "USER", "u", 600);
    app.fake.set_down(true);
    app.summary_as(&token)
        .await
        .assert_error(503, "auth_unavailable");
    app.fake.set_down(false);
    let r = app.summary_as(&token).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

// ---------- the elevated client ----------

async fn client(
    fake: &FakeWix,
    options: WixClientOptions,
) -> (WixClient, Store, tempfile::TempDir) {
    let base = fake.spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&database_url_for(&dir.path().join("t.db")).await)
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

#[tokio::test]
async fn while_wix_is_unreachable_a_site_keeps_the_last_plan_it_reported() {
    let fake = FakeWix::new(APP_ID, SECRET);
    fake.set_plan(SITE_A, Some("premium-yearly"));
    // Nothing is reused: every lookup asks Get App Instance, so the outage shows at once.
    let options = WixClientOptions {
        site_info_ttl: Duration::ZERO,
        ..fast()
    };
    let (client, _store, _dir) = client(&fake, options).await;
    let (a, b) = (tenant(SITE_A), tenant(SITE_B));
    let known = client.plan_cached(&a).await.expect("Wix answered");
    assert_eq!(known.plan_id.as_deref(), Some("premium-yearly"));

    fake.set_down(true);
    let during = client
        .plan_cached(&a)
        .await
        .expect("the last plan Wix reported");
    assert_eq!(during.plan_id.as_deref(), Some("premium-yearly"));
    assert_eq!(during.fetched_at, known.fetched_at, "not a fresh answer");
    assert!(
        client.plan_cached(&b).await.is_none(),
        "a site Wix never answered for has no known plan (the caller treats it as free)"
    );

    fake.set_down(false);
    fake.set_plan(SITE_A, None);
    let after = client.plan_cached(&a).await.expect("Wix is back");
    assert_eq!(
        after.plan_id, None,
        "Wix's new answer replaces the last known plan"
    );
}

#[tokio::test]
async fn one_token_request_for_a_hundred_concurrent_calls() {
    let fake = FakeWix::new(APP_ID, SECRET);
    fake.set_site_name(SITE_A, "Bakery");
    let (client, _store, _dir) = client(&fake, fast()).await;
    let t = tenant(SITE_A);
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
    let t = tenant(SITE_A);
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
    let t = tenant(SITE_A);
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
    let t = tenant(SITE_A);
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
    let t = tenant(SITE_A);
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
    let t = tenant(SITE_A);
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
    let r = app.summary_as(&owner).await;
    assert_eq!(r.body["site_name"], "Corner Bakery", "{}", r.body);

    app.fake.set_down(true);
    let b = app.summary(SITE_B).await;
    assert_eq!(b.status, 200, "{}", b.body);
    assert!(b.body["site_name"].is_null());
    assert_eq!(b.body["total"], 0);
    // A cached name keeps being served during the outage.
    let again = app.summary_as(&owner).await;
    assert_eq!(again.body["site_name"], "Corner Bakery");
}

async fn wait_for_contact_state(
    app: &TestApp,
    site: &str,
    feedback_id: &str,
    state: &str,
) -> serde_json::Value {
    wait_for_contact_state_within(app, site, feedback_id, state, Duration::from_secs(15)).await
}

/// Polls the owner's list until the item's `contact.state` is `state`, for at most `within`.
async fn wait_for_contact_state_within(
    app: &TestApp,
    site: &str,
    feedback_id: &str,
    state: &str,
    within: Duration,
) -> serde_json::Value {
    eventually(within, Duration::from_millis(100), || async {
        let page = app
            .list(site, json!({ "status": "all", "limit": 100 }))
            .await;
        let item = page.item(feedback_id);
        if item["contact"]["state"] == state {
            Ok(item.clone())
        } else {
            Err(format!("contact not {state}: {item}"))
        }
    })
    .await
}

#[tokio::test]
async fn feedback_email_becomes_a_contact_and_duplicates_are_linked() {
    let app = spawn().await;
    let visitor = instance(SITE_A, Role::Visitor);
    let first = app
        .submit_as(
            &visitor,
            json!({ "message": "hi", "email": "Fan@Example.com" }),
        )
        .await;
    let first_id = first.body["id"].as_str().unwrap().to_owned();
    let item = wait_for_contact_state(&app, SITE_A, &first_id, "synced").await;
    let contact_id = item["contact"]["contact_id"].as_str().unwrap().to_owned();
    assert_eq!(app.fake.contacts(SITE_A).len(), 1);

    // Same email again: Wix answers 409 and the existing contact is linked.
    let second = app
        .submit_as(
            &visitor,
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
    assert!(page.item(&plain)["contact"].is_null());
}

#[tokio::test]
async fn a_wix_outage_delays_syncs_across_a_restart_and_loses_nothing() {
    let app = spawn().await;
    app.fake.set_down(true);
    let visitor = instance(SITE_A, Role::Visitor);
    let mut ids = Vec::new();
    for n in 0..5 {
        let r = app
            .submit_as(
                &visitor,
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
    for item in page.items() {
        assert_eq!(item["contact"]["state"], "pending", "{item}");
    }

    // Restart on the same database while Wix is still down, then Wix recovers.
    let app = restart(app).await;
    assert_eq!(
        app.list(SITE_A, json!({ "status": "all" }))
            .await
            .items()
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
        .submit_as(
            &instance(SITE_A, Role::Visitor),
            json!({ "message": "m", "email": "x@example.com" }),
        )
        .await;
    let id = r.body["id"].as_str().unwrap().to_owned();
    let item = wait_for_contact_state(&app, SITE_A, &id, "failed").await;
    assert!(item["contact"]["contact_id"].is_null());
}

// ---------- the outbox: removed sites, caps, age, wake-ups, fairness ----------

/// The app is removed from `site` (a signed `AppRemoved`, issued now); asserts it was applied.
async fn remove_app(app: &TestApp, site: &str) {
    assert_eq!(app.webhook_ok(removed(site, Utc::now())).await, "applied");
}

/// A reinstall, issued after any removal sent before it; asserts it was applied.
async fn reinstall_app(app: &TestApp, site: &str) {
    let at = Utc::now() + chrono::Duration::seconds(1);
    assert_eq!(app.webhook_ok(installed(site, at)).await, "applied");
}

/// A visitor's feedback with an email (so it gets a contact-sync row); returns its id.
async fn submit_with_email(app: &TestApp, site: &str, email: &str) -> String {
    let body = json!({ "message": format!("from {email}"), "email": email });
    app.submit_json(site, Role::Visitor, body).await
}

/// No test site holds more rows than this (the bound on paging through one).
const MAX_ROWS_PER_SITE: usize = 1000;

/// Every feedback id of `site` that has a contact sync, with its state, read from the store: the
/// owner's list answers 403 while the site has removed the app.
async fn contact_states(app: &TestApp, site: &str) -> HashMap<String, String> {
    app.stored_items(site, MAX_ROWS_PER_SITE)
        .await
        .into_iter()
        .filter_map(|item| Some((item.id, item.contact?.state.as_str().to_owned())))
        .collect()
}

async fn contact_state(app: &TestApp, site: &str, feedback_id: &str) -> String {
    contact_states(app, site)
        .await
        .remove(feedback_id)
        .unwrap_or_else(|| panic!("{feedback_id} has no contact sync"))
}

/// How many of `site`'s contact syncs are in `state`.
async fn count_in_state(app: &TestApp, site: &str, state: &str) -> usize {
    contact_states(app, site)
        .await
        .values()
        .filter(|s| *s == state)
        .count()
}

/// The contact states of `ids`, in order, from the owner's list.
async fn listed_contact_states(app: &TestApp, site: &str, ids: &[&str]) -> Vec<String> {
    let page = app
        .list(site, json!({ "status": "all", "limit": 100 }))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    ids.iter()
        .map(|id| {
            page.item(id)["contact"]["state"]
                .as_str()
                .unwrap_or("<none>")
                .to_owned()
        })
        .collect()
}

/// How long the parking test watches for calls for a removed site: longer than a failed row of
/// the site takes to come due again (`OUTBOX_MAX_BACKOFF_SECS=1` in tests/common, after an
/// attempt of at most ~1.5 s of client retries), so the worker would have retried it by then.
const PARKED_WATCH: Duration = Duration::from_secs(4);

#[tokio::test]
async fn a_removed_sites_syncs_are_parked_and_resume_after_a_reinstall() {
    let app = spawn().await;
    // Wix is down: A's row stays pending, and no app token is ever fetched for A.
    app.fake.set_down(true);
    let parked = submit_with_email(&app, SITE_A, "parked@example.com").await;
    assert_eq!(contact_state(&app, SITE_A, &parked).await, "pending");
    remove_app(&app, SITE_A).await;
    app.fake.set_down(false);
    let recovered = Instant::now();

    // The worker is never handed the row while A is removed, however far in the future it looks.
    let due = app.store.contact_sync().due(i64::MAX, 1000).await.unwrap();
    assert!(
        due.iter().all(|row| row.instance_id != SITE_A),
        "a removed site's row is due: {due:?}"
    );

    // The worker keeps syncing B's rows, and in all that time makes no contact for A (bounded:
    // PARKED_WATCH, plus at most one more wait for a sync).
    let mut b_rows = 0;
    while b_rows == 0 || recovered.elapsed() < PARKED_WATCH {
        let b = submit_with_email(&app, SITE_B, &format!("b{b_rows}@example.com")).await;
        wait_for_contact_state(&app, SITE_B, &b, "synced").await;
        b_rows += 1;
        assert!(
            app.fake.contacts(SITE_A).is_empty(),
            "a contact was made for a removed site"
        );
    }
    assert_eq!(app.fake.contacts(SITE_B).len(), b_rows);
    assert_eq!(contact_state(&app, SITE_A, &parked).await, "pending");

    // After a reinstall the parked row syncs by itself.
    reinstall_app(&app, SITE_A).await;
    let item = wait_for_contact_state(&app, SITE_A, &parked, "synced").await;
    let contacts = app.fake.contacts(SITE_A);
    assert_eq!(contacts.len(), 1, "{contacts:?}");
    assert_eq!(contacts[0].email.as_deref(), Some("parked@example.com"));
    assert_eq!(item["contact"]["contact_id"], contacts[0].id.as_str());
}

#[tokio::test]
async fn past_the_pending_cap_a_sites_new_syncs_are_skipped() {
    let app = spawn_with(&[("OUTBOX_MAX_PENDING_PER_SITE", "2")]).await;
    app.fake.set_down(true);
    let mut a = Vec::new();
    for n in 0..3 {
        a.push(submit_with_email(&app, SITE_A, &format!("a{n}@example.com")).await);
    }
    let b = submit_with_email(&app, SITE_B, "b@example.com").await;

    // The feedback is stored and listed either way; only the third sync of A is skipped.
    let a_ids: Vec<&str> = a.iter().map(String::as_str).collect();
    assert_eq!(
        listed_contact_states(&app, SITE_A, &a_ids).await,
        ["pending", "pending", "skipped"]
    );
    let listed = app.list(SITE_A, json!({ "status": "all" })).await;
    assert_eq!(listed.items().len(), 3);
    // The cap is per site.
    assert_eq!(
        listed_contact_states(&app, SITE_B, &[&b]).await,
        ["pending"]
    );

    // Once Wix is back the pending ones sync; the skipped one is never attempted.
    app.fake.set_down(false);
    for (site, id) in [(SITE_A, &a[0]), (SITE_A, &a[1]), (SITE_B, &b)] {
        wait_for_contact_state(&app, site, id, "synced").await;
    }
    let mut emails: Vec<String> = app
        .fake
        .contacts(SITE_A)
        .into_iter()
        .filter_map(|c| c.email)
        .collect();
    emails.sort();
    assert_eq!(emails, ["a0@example.com", "a1@example.com"]);
    assert_eq!(
        listed_contact_states(&app, SITE_A, &[&a[2]]).await,
        ["skipped"]
    );
}

#[tokio::test]
async fn syncs_past_the_maximum_age_fail_unless_their_site_is_removed() {
    let app = spawn().await;
    app.fake.set_down(true);
    let stale = submit_with_email(&app, SITE_A, "stale@example.com").await;
    let parked = submit_with_email(&app, SITE_B, "parked@example.com").await;
    remove_app(&app, SITE_B).await;

    // A worker for which every row is past its maximum age.
    let worker = ContactSyncWorker::new(
        app.store.clone(),
        app.app.wix.clone(),
        Duration::from_secs(1),
        Duration::ZERO,
    );
    worker.expire_old().await;

    // Failed at once, by that one pass.
    let listed = app.list(SITE_A, json!({ "status": "all" })).await;
    let item = listed.item(&stale);
    assert_eq!(item["contact"]["state"], "failed", "{item}");
    assert!(item["contact"]["contact_id"].is_null(), "{item}");
    // B's row is parked, not given up: it syncs after B reinstalls.
    assert_eq!(contact_state(&app, SITE_B, &parked).await, "pending");
    app.fake.set_down(false);
    reinstall_app(&app, SITE_B).await;
    wait_for_contact_state(&app, SITE_B, &parked, "synced").await;
}

#[tokio::test]
async fn a_submission_wakes_the_worker_between_its_polls() {
    // The worker looks for due rows only hourly on its own: these syncs happen because each
    // submission wakes it.
    let app = spawn_with(&[("OUTBOX_POLL_SECS", "3600")]).await;
    for n in 0..3 {
        let id = submit_with_email(&app, SITE_A, &format!("wake{n}@example.com")).await;
        wait_for_contact_state_within(&app, SITE_A, &id, "synced", Duration::from_secs(10)).await;
    }
    assert_eq!(app.fake.contacts(SITE_A).len(), 3);
}

#[tokio::test]
async fn one_sites_backlog_does_not_hold_up_another_sites_sync() {
    let app = spawn().await;
    // Every Wix call takes 200 ms: A's 40 syncs take seconds to work off.
    app.fake.set_latency(Duration::from_millis(200));
    let backlog = (0..40).map(|n| {
        let app = &app;
        async move { submit_with_email(app, SITE_A, &format!("a{n}@example.com")).await }
    });
    let backlog = futures::future::join_all(backlog).await;
    assert!(count_in_state(&app, SITE_A, "pending").await > 0);

    // B's row was written after all of A's, yet it is synced while A still has rows waiting.
    let b = submit_with_email(&app, SITE_B, "b@example.com").await;
    wait_for_contact_state(&app, SITE_B, &b, "synced").await;
    let a_waiting = count_in_state(&app, SITE_A, "pending").await;
    assert!(
        a_waiting > 0,
        "B's sync waited until A's whole backlog was done"
    );

    // A's backlog still completes.
    eventually(
        Duration::from_secs(30),
        Duration::from_millis(100),
        || async {
            match count_in_state(&app, SITE_A, "synced").await {
                n if n < backlog.len() => {
                    Err(format!("A's backlog was not worked off: {n} synced"))
                }
                _ => Ok(()),
            }
        },
    )
    .await;
    assert_eq!(app.fake.contacts(SITE_A).len(), backlog.len());
}

// ---------- app tokens under removal and revocation ----------

/// Waits (bounded) until the fake has seen `n` token requests for `site`.
async fn wait_for_token_requests(fake: &FakeWix, site: &str, n: usize) {
    eventually(Duration::from_secs(5), Duration::from_millis(5), || async {
        match fake.token_requests(site) {
            seen if seen < n => Err(format!("only {seen} token requests for {site}")),
            _ => Ok(()),
        }
    })
    .await;
}

#[tokio::test]
async fn a_removal_during_a_token_fetch_keeps_the_token_out() {
    let app = spawn().await;
    app.fake.set_latency(Duration::from_secs(1));
    let wix = app.app.wix.clone();
    let call = tokio::spawn(async move {
        wix.site_info(&tenant(SITE_A), Duration::from_secs(10))
            .await
    });

    // The site removes the app while the token request is at Wix.
    wait_for_token_requests(&app.fake, SITE_A, 1).await;
    remove_app(&app, SITE_A).await;
    let result = call.await.unwrap();
    assert!(
        app.store.app_tokens().get(SITE_A).await.unwrap().is_none(),
        "the removed site's token was stored"
    );
    assert!(
        matches!(result, Err(WixError::InstanceRemoved)),
        "{result:?}"
    );

    // Nor was it kept in memory: after a reinstall the client asks Wix for a new one.
    app.fake.set_latency(Duration::ZERO);
    reinstall_app(&app, SITE_A).await;
    app.app
        .wix
        .site_info(&tenant(SITE_A), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(
        app.fake.token_requests(SITE_A),
        2,
        "the old token was reused"
    );
}

#[tokio::test]
async fn concurrent_401s_replace_the_revoked_token_once() {
    let app = spawn().await;
    let site = tenant(SITE_A);
    app.app
        .wix
        .find_or_create_contact(&site, "warm@example.com")
        .await
        .unwrap();
    assert_eq!(app.fake.token_requests(SITE_A), 1);

    // Every call below uses the revoked token first (contact calls are not cached). Two of them
    // first get a 503 and are retried after a backoff: their 401 for the revoked token comes back
    // after the others have replaced it, and must not drop the replacement.
    app.fake.revoke_app_tokens(SITE_A);
    app.fake.fail_next(2, 503, None);
    let calls = (0..20).map(|n| {
        let (wix, site) = (&app.app.wix, &site);
        async move {
            wix.find_or_create_contact(site, &format!("fan{n}@example.com"))
                .await
        }
    });
    for (n, result) in futures::future::join_all(calls)
        .await
        .into_iter()
        .enumerate()
    {
        assert!(result.is_ok(), "call {n}: {result:?}");
    }
    assert_eq!(
        app.fake.token_requests(SITE_A),
        2,
        "one new token for all twenty 401s"
    );
    assert_eq!(app.fake.contacts(SITE_A).len(), 21);
}
