//! The HTTP contract of `/api`, checked over real HTTP against a real SQLite file.

use crate::common::*;
use serde_json::{json, Value};
use wix_app::model::Role;
use wix_app::store::{NewFeedback, Quota, StoreError, StoredFeedback};

#[tokio::test]
async fn visitor_submits_and_owner_reads_it() {
    let app = spawn().await;
    let r = app
        .submit_as(
            &instance(SITE_A, Role::Visitor),
            json!({ "message": "  Love the shop  ", "email": "fan@example.com", "rating": 5 }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let created = r.body["created_at"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(created).is_ok(),
        "{created}"
    );

    let page = app.list(SITE_A, json!({})).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let items = page.items();
    assert_eq!(items.len(), 1);
    let item = &items[0];
    assert_eq!(item["id"], id.as_str());
    assert_eq!(item["message"], "Love the shop");
    assert_eq!(item["email"], "fan@example.com");
    assert_eq!(item["rating"], 5);
    assert_eq!(item["status"], "open");
    assert_eq!(item["author_kind"], "visitor");
    assert_eq!(item["created_at"], created);
    assert!(page.body["next_cursor"].is_null());
}

#[tokio::test]
async fn members_and_owners_may_submit_too() {
    let app = spawn().await;
    app.submit(SITE_A, Role::Member, "from a member").await;
    app.submit(SITE_A, Role::Owner, "from the owner").await;
    let page = app.list(SITE_A, json!({ "status": "all" })).await;
    let kinds: Vec<&str> = page
        .items()
        .iter()
        .map(|i| i["author_kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["owner", "member"]);
}

#[tokio::test]
async fn owner_resolves_reopens_deletes_and_counts_follow() {
    let app = spawn().await;
    let owner = instance(SITE_A, Role::Owner);
    let first = app.submit(SITE_A, Role::Visitor, "one").await;
    let second = app.submit(SITE_A, Role::Visitor, "two").await;

    let r = app.set_status_as(&owner, &first, "resolved").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, json!({ "id": first, "status": "resolved" }));

    assert_summary(&app, SITE_A, 1, 1).await;

    let open = app.list(SITE_A, json!({ "status": "open" })).await;
    assert_eq!(open.ids(), vec![second.clone()]);
    let resolved = app.list(SITE_A, json!({ "status": "resolved" })).await;
    assert_eq!(resolved.ids(), vec![first.clone()]);
    let all = app.list(SITE_A, json!({ "status": "all" })).await;
    assert_eq!(all.ids(), [second.clone(), first.clone()]);

    let r = app.set_status_as(&owner, &first, "open").await;
    assert_eq!(r.body["status"], "open");

    let r = app.delete_as(&owner, &first).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({ "deleted": true }));
    let again = app.delete_as(&owner, &first).await;
    again.assert_error(404, "not_found");

    assert_summary(&app, SITE_A, 1, 0).await;
}

/// Asserts `site`'s summary, read by its owner: these counts, and the fake Wix's default name of
/// the site (`Demo site` and the first 8 characters of its instance id).
async fn assert_summary(app: &TestApp, site: &str, open: i64, resolved: i64) {
    let mut summary = app.summary(site).await;
    // Additive fields, checked in tests/it/plans.rs.
    let body = summary.body.as_object_mut().unwrap();
    assert!(body.remove("plan").is_some_and(|p| p.is_object()));
    assert!(body.remove("upgrade_url").is_some_and(|u| u.is_string()));
    assert_eq!(
        summary.body,
        json!({
            "instance_id": site,
            "open": open,
            "resolved": resolved,
            "total": open + resolved,
            "site_name": format!("Demo site {}", &site[..8]),
        })
    );
}

#[tokio::test]
async fn pagination_is_newest_first_complete_and_ends_with_null() {
    let app = spawn().await;
    let mut submitted = Vec::new();
    for n in 0..25 {
        submitted.push(
            app.submit(SITE_A, Role::Visitor, &format!("message {n}"))
                .await,
        );
    }
    submitted.reverse();

    // 25 rows, 10 a page: three pages, each but the last with a cursor to the next.
    let pages = app
        .list_pages(SITE_A, json!({ "status": "all", "limit": 10 }), 25)
        .await;
    assert_eq!(pages.len(), 3);
    for page in &pages[..2] {
        assert!(page.body["next_cursor"].is_string(), "{}", page.body);
    }
    assert!(pages[2].body["next_cursor"].is_null());
    let seen: Vec<String> = pages.iter().flat_map(Reply::ids).collect();
    assert_eq!(seen, submitted);

    let default_page = app.list(SITE_A, json!({ "status": "all" })).await;
    assert_eq!(default_page.ids().len(), 20, "default limit");
    let max = app
        .list(SITE_A, json!({ "status": "all", "limit": 100 }))
        .await;
    assert_eq!(max.ids().len(), 25);
    assert!(max.body["next_cursor"].is_null());
}

#[tokio::test]
async fn every_auth_rejection_has_its_own_code() {
    let app = spawn().await;
    let path = "/api/feedback/submit";
    let body = json!({ "message": "hi" });
    let good = instance(SITE_A, Role::Visitor);
    let (sig, data) = good.split_once('.').unwrap();
    // Signed now: the server checks signing times against its own clock.
    let now = chrono::Utc::now();
    let other_secret =
        wix_app::auth::InstanceClaims::for_role(SITE_A, APP_ID, Role::Owner, "u", now)
            .sign(b"not-the-secret");
    let future = instance_at(SITE_A, Role::Owner, now + chrono::Duration::minutes(5));
    let no_id = raw_instance(&format!(
        r#"{{"signDate":"{}","uid":"u"}}"#,
        now.to_rfc3339()
    ));
    let array = raw_instance("[1,2,3]");
    let too_long = "a".repeat(5000);

    let cases: Vec<(Option<&str>, &str)> = vec![
        (None, "missing_authorization"),
        (Some(""), "missing_authorization"),
        (Some(too_long.as_str()), "authorization_too_long"),
        // Without exactly one '.', a value is not a signed instance: it is asked about as an
        // access token, and Wix (the fake) does not know it.
        (Some("no-dot"), "invalid_access_token"),
        (Some(&format!(".{data}")), "malformed_instance"),
        (Some(&format!("{sig}.")), "malformed_instance"),
        (Some(&format!("!!!.{data}")), "malformed_instance"),
        (Some(&format!("QUJD.{data}")), "malformed_instance"),
        (Some(&array), "malformed_instance"),
        (Some(&other_secret), "invalid_signature"),
        (Some(&no_id), "missing_instance_id"),
        (Some(&expired_instance(SITE_A)), "instance_expired"),
        (Some(&future), "instance_not_yet_valid"),
    ]
    .into_iter()
    .map(|(a, c)| {
        (
            a.map(|s| Box::leak(s.to_owned().into_boxed_str()) as &str),
            c,
        )
    })
    .collect();
    for (auth, code) in cases {
        let r = app.call(path, auth, body.clone()).await;
        r.assert_error(401, code);
    }
    // Nothing was written by any of them.
    let page = app.list(SITE_A, json!({ "status": "all" })).await;
    assert_eq!(page.ids().len(), 0);
}

#[tokio::test]
async fn max_age_is_configurable_and_zero_disables_it() {
    let strict = spawn_with(&[("INSTANCE_MAX_AGE_SECS", "60")]).await;
    let two_minutes_old = instance_at(
        SITE_A,
        Role::Owner,
        chrono::Utc::now() - chrono::Duration::minutes(2),
    );
    strict
        .summary_as(&two_minutes_old)
        .await
        .assert_error(401, "instance_expired");

    let lax = spawn_with(&[("INSTANCE_MAX_AGE_SECS", "0")]).await;
    let old = instance_at(
        SITE_A,
        Role::Owner,
        chrono::Utc::now() - chrono::Duration::days(400),
    );
    let r = lax.summary_as(&old).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn visitors_and_members_never_get_owner_data() {
    let app = spawn().await;
    let id = app.submit(SITE_A, Role::Visitor, "private").await;
    for role in [Role::Visitor, Role::Member] {
        let auth = instance(SITE_A, role);
        for (path, body) in [
            ("/api/feedback/list", json!({})),
            (
                "/api/feedback/set_status",
                json!({ "id": id, "status": "resolved" }),
            ),
            ("/api/feedback/delete", json!({ "id": id })),
            ("/api/site/summary", json!({})),
        ] {
            let r = app.call(path, Some(&auth), body).await;
            r.assert_error(403, "forbidden");
            assert!(!r.body.to_string().contains("private"));
        }
    }
    // An owner payload that also carries `aid` is a visitor.
    let tricky = raw_instance(&format!(
        r#"{{"instanceId":"{SITE_A}","signDate":"{}","permissions":"OWNER","uid":"u","aid":"a"}}"#,
        chrono::Utc::now().to_rfc3339()
    ));
    app.call("/api/feedback/list", Some(&tricky), json!({}))
        .await
        .assert_error(403, "forbidden");
    // The row is untouched.
    let page = app.list(SITE_A, json!({})).await;
    assert_eq!(page.ids(), [id]);
}

#[tokio::test]
async fn tenants_are_isolated() {
    let app = spawn().await;
    let a_id = app.submit(SITE_A, Role::Visitor, "for site A only").await;
    let b_id = app.submit(SITE_B, Role::Visitor, "for site B only").await;
    let owner_b = instance(SITE_B, Role::Owner);

    let b_page = app.list(SITE_B, json!({ "status": "all" })).await;
    assert_eq!(b_page.ids(), vec![b_id.clone()]);
    assert!(!b_page.body.to_string().contains("for site A only"));

    app.set_status_as(&owner_b, &a_id, "resolved")
        .await
        .assert_error(404, "not_found");
    app.delete_as(&owner_b, &a_id)
        .await
        .assert_error(404, "not_found");
    // An unknown id looks exactly the same as another tenant's id.
    let unknown = app.delete_as(&owner_b, "does-not-exist").await;
    unknown.assert_error(404, "not_found");

    // B's cursor cannot reveal A's rows either. A's cursor points past A's newest row, so B's
    // page from it holds exactly B's rows older than that: B's one row, and no row of A's.
    let mut a_ids = vec![a_id.clone()];
    for n in 0..3 {
        a_ids.push(app.submit(SITE_A, Role::Visitor, &format!("a{n}")).await);
    }
    let a_first = app
        .list(SITE_A, json!({ "status": "all", "limit": 1 }))
        .await;
    assert_eq!(a_first.ids(), [a_ids[3].clone()]);
    let cursor = a_first.body["next_cursor"].as_str().unwrap();
    let b_with_a_cursor = app
        .list(SITE_B, json!({ "status": "all", "cursor": cursor }))
        .await;
    assert_eq!(b_with_a_cursor.status, 200, "{}", b_with_a_cursor.body);
    let leaked: Vec<String> = b_with_a_cursor
        .ids()
        .into_iter()
        .filter(|id| a_ids.contains(id))
        .collect();
    assert!(leaked.is_empty(), "B's page shows A's rows {leaked:?}");
    assert_eq!(b_with_a_cursor.ids(), std::slice::from_ref(&b_id));

    let a_page = app
        .list(SITE_A, json!({ "status": "all", "limit": 100 }))
        .await;
    assert_eq!(a_page.item(&a_id)["status"], "open");
    assert_summary(&app, SITE_B, 1, 0).await;
}

#[tokio::test]
async fn invalid_input_is_400_and_stores_nothing() {
    let app = spawn().await;
    let visitor = instance(SITE_A, Role::Visitor);
    let too_long = "x".repeat(2001);
    for body in [
        json!({ "message": "" }),
        json!({ "message": "   " }),
        json!({ "message": too_long }),
        json!({ "message": "ok", "email": "not-an-email" }),
        json!({ "message": "ok", "rating": 0 }),
        json!({ "message": "ok", "rating": 6 }),
        json!({ "message": "ok", "rating": "five" }),
        json!({ "email": "a@b.co" }),
        json!([1, 2]),
    ] {
        app.submit_as(&visitor, body)
            .await
            .assert_error(400, "invalid_input");
    }
    // Cut-off JSON, and no body at all.
    for raw in ["{\"message\":", ""] {
        app.call_raw(
            "/api/feedback/submit",
            Some(&visitor),
            "application/json",
            raw.into(),
        )
        .await
        .assert_error(400, "invalid_input");
    }

    for body in [
        json!({ "limit": 0 }),
        json!({ "limit": 101 }),
        json!({ "status": "pending" }),
        json!({ "cursor": "not-a-cursor" }),
    ] {
        app.list(SITE_A, body)
            .await
            .assert_error(400, "invalid_input");
    }
    let owner = instance(SITE_A, Role::Owner);
    app.set_status_as(&owner, "x", "done")
        .await
        .assert_error(400, "invalid_input");
    app.call("/api/feedback/delete", Some(&owner), json!({}))
        .await
        .assert_error(400, "invalid_input");

    let page = app.list(SITE_A, json!({ "status": "all" })).await;
    assert_eq!(page.ids().len(), 0);
}

#[tokio::test]
async fn http_level_errors_are_json_too() {
    let app = spawn().await;
    let get = Reply::read(app.get("/api/feedback/list").await).await;
    get.assert_error(405, "method_not_allowed");

    let unknown = app
        .call("/api/nope", Some(&instance(SITE_A, Role::Owner)), json!({}))
        .await;
    unknown.assert_error(404, "not_found");

    let text = app
        .call_raw(
            "/api/feedback/submit",
            Some(&instance(SITE_A, Role::Visitor)),
            "text/plain",
            r#"{"message":"x"}"#.into(),
        )
        .await;
    text.assert_error(415, "unsupported_media_type");

    let huge = json!({ "message": "x".repeat(200 * 1024) });
    let big = app.submit_as(&instance(SITE_A, Role::Visitor), huge).await;
    big.assert_error(413, "payload_too_large");
}

#[tokio::test]
async fn healthz_answers_from_the_database() {
    let app = spawn().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap(),
        json!({ "status": "ok" })
    );
    assert!(
        app.store.engine() == wix_app::store::Engine::Postgres || app.db_path.exists(),
        "database file and its folder are created"
    );
}

#[tokio::test]
async fn data_survives_a_restart_of_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("app.db").display());
    let store = wix_app::store::Store::open(&url).await.unwrap();
    store.close().await;
    // Re-opening runs the migrations again (a no-op) and keeps the schema.
    let again = wix_app::store::Store::open(&url).await.unwrap();
    assert!(again.is_healthy().await);
}

/// The feedback of row `i` of [`insert_concurrently`]: every other row has an email, and row 30
/// has a rating the schema refuses (ratings are 1..=5), so it cannot be stored.
fn numbered_feedback(i: usize) -> NewFeedback {
    NewFeedback {
        message: format!("message {i}"),
        email: i.is_multiple_of(2).then(|| format!("fan{i}@example.com")),
        rating: Some(if i == 30 { 9 } else { 1 + (i % 5) as u8 }),
        comp_id: "default".into(),
    }
}

/// Inserts rows `range` of [`numbered_feedback`] for `site` all at once (every insert is waiting
/// for the writer at the same time) and returns each row's result.
async fn insert_concurrently(
    app: &TestApp,
    site: &wix_app::auth::TenantId,
    range: std::ops::Range<usize>,
) -> Vec<(usize, Result<StoredFeedback, StoreError>)> {
    let feedback = app.store.feedback();
    let inserts = range.map(|i| {
        let feedback = &feedback;
        async move {
            let author = format!("visitor-{i}");
            let new = numbered_feedback(i);
            (
                i,
                feedback
                    .insert(site, Role::Visitor, Some(&author), &new, Quota::default())
                    .await,
            )
        }
    });
    futures::future::join_all(inserts).await
}

/// Concurrent submissions are committed in shared batches (group commit): every one that is
/// acknowledged is stored with its outbox row, and a row the database refuses fails alone.
#[tokio::test]
async fn concurrent_submissions_share_commits_and_a_bad_row_fails_alone() {
    let app = spawn().await;
    let site = tenant(SITE_A);
    // Good rows only: they are committed together, in batches of more than one row.
    for (i, result) in insert_concurrently(&app, &site, 0..30).await {
        assert!(result.is_ok(), "row {i}: {result:?}");
    }
    let largest = app.store.largest_feedback_batch();
    // Group commit is SQLite's (one writer); PostgreSQL commits each submission in its own
    // transaction and groups the WAL flushes itself.
    assert!(
        app.store.engine() == wix_app::store::Engine::Postgres || largest > 1,
        "30 concurrent submissions were committed one row at a time (largest batch: {largest})"
    );
    // With row 30 among them: its batch fails, is written again row by row, and only row 30 is
    // refused.
    for (i, result) in insert_concurrently(&app, &site, 30..60).await {
        assert_eq!(result.is_err(), i == 30, "row {i}: {result:?}");
    }

    let pages = app.list_pages(SITE_A, json!({ "limit": 50 }), 59).await;
    let stored: Vec<&Value> = pages.iter().flat_map(Reply::items).collect();
    let mut messages: Vec<&str> = stored
        .iter()
        .map(|item| item["message"].as_str().unwrap())
        .collect();
    messages.sort_unstable();
    let mut expected: Vec<String> = (0..60)
        .filter(|i| *i != 30)
        .map(|i| format!("message {i}"))
        .collect();
    expected.sort_unstable();
    assert_eq!(messages, expected);
    // Every stored row with an email has its outbox row (29 of the 30 even rows; 30 failed).
    let with_contact = stored
        .iter()
        .filter(|item| !item["contact"].is_null())
        .count();
    assert_eq!(with_contact, 29);
    let (pending, synced, failed) = app.store.contact_sync().totals().await.unwrap();
    assert_eq!(pending + synced + failed, 29);
}
