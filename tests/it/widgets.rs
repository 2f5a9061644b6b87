//! Per-widget settings (`/api/widget/*`), feedback recorded per widget, and the copy of a
//! duplicated site's settings (Wix's `originInstanceId`).

use chrono::{Duration, Utc};
use serde_json::{json, Value};
use wix_app::auth::{sign_webhook, InstanceClaims, APP_INSTALLED};
use wix_app::model::{Role, WidgetSettings};
use wix_app::server::webhooks::purge_due;

use crate::common::*;

/// A duplicated site: a third site, copied from `SITE_A` in most tests.
const SITE_COPY: &str = "site-c-0000-4000-8000-000000000003";

fn settings_body(comp_id: &str, title: &str, color: &str) -> Value {
    json!({
        "comp_id": comp_id, "title": title, "prompt": format!("{title}?"),
        "ask_email": false, "ask_rating": true, "accent_color": color,
    })
}

impl TestApp {
    async fn settings_as(&self, auth: &str, comp_id: Option<&str>) -> Reply {
        let body = comp_id.map_or_else(|| json!({}), |c| json!({ "comp_id": c }));
        self.call("/api/widget/settings", Some(auth), body).await
    }

    /// `site`'s settings of `comp_id`, read by a visitor; asserts a 200.
    async fn settings(&self, site: &str, comp_id: &str) -> Value {
        let r = self
            .settings_as(&instance(site, Role::Visitor), Some(comp_id))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body
    }

    async fn save_as(&self, auth: &str, body: Value) -> Reply {
        self.call("/api/widget/save_settings", Some(auth), body)
            .await
    }

    /// Saves as `site`'s owner; asserts a 200 and returns the answer.
    async fn save(&self, site: &str, body: Value) -> Value {
        let r = self.save_as(&instance(site, Role::Owner), body).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body
    }
}

fn defaults(comp_id: &str) -> Value {
    serde_json::to_value(WidgetSettings::defaults(comp_id.into())).unwrap()
}

/// An instance of `site` for `role` whose signed payload says the site is a copy of `origin`.
fn copy_instance(site: &str, origin: &str, role: Role) -> String {
    let claims = InstanceClaims::for_role(site, APP_ID, role, "someone", Utc::now());
    let mut payload = serde_json::to_value(claims).unwrap();
    payload["originInstanceId"] = json!(origin);
    raw_instance(&payload.to_string())
}

/// `AppInstalled` for `site`, a duplicate of `origin`, issued `at`.
fn installed_copy(site: &str, origin: &str, at: chrono::DateTime<Utc>) -> String {
    let body = json!({ "appId": APP_ID, "originInstanceId": origin });
    sign_webhook(WEBHOOK_PRIVATE_KEY, APP_INSTALLED, site, &body, at).unwrap()
}

#[tokio::test]
async fn settings_default_then_saved_lower_cased_and_isolated() {
    let app = spawn().await;
    // Absent comp_id is the `default` widget; any role reads.
    let r = app
        .settings_as(&instance(SITE_A, Role::Visitor), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, defaults("default"));
    assert_eq!(app.settings(SITE_A, "comp-1").await, defaults("comp-1"));
    assert_eq!(r.body["accent_color"], "#116dff");
    assert_eq!(r.body["title"], "Tell us what you think");
    assert_eq!(r.body["prompt"], "What should we know?");

    let saved = app
        .save(SITE_A, settings_body("comp-1", "  Hello", "#AbCDeF"))
        .await;
    let expected = json!({
        "comp_id": "comp-1", "title": "Hello", "prompt": "Hello?",
        "ask_email": false, "ask_rating": true, "accent_color": "#abcdef",
    });
    assert_eq!(saved, expected);
    for role in [Role::Visitor, Role::Member, Role::Owner] {
        let r = app
            .settings_as(&instance(SITE_A, role), Some("comp-1"))
            .await;
        assert_eq!(r.body, expected, "{role:?}");
    }
    // Another widget of the same site, and the same widget id on another site: untouched.
    assert_eq!(app.settings(SITE_A, "comp-2").await, defaults("comp-2"));
    assert_eq!(app.settings(SITE_A, "default").await, defaults("default"));
    assert_eq!(app.settings(SITE_B, "comp-1").await, defaults("comp-1"));

    // Saving again replaces (upsert); comp_id absent saves the default widget.
    app.save(SITE_A, settings_body("comp-1", "Again", "#000000"))
        .await;
    assert_eq!(app.settings(SITE_A, "comp-1").await["title"], "Again");
    let mut body = settings_body("x", "Default widget", "#FFFFFF");
    body.as_object_mut().unwrap().remove("comp_id");
    assert_eq!(app.save(SITE_A, body).await["comp_id"], "default");
    assert_eq!(
        app.settings(SITE_A, "default").await["accent_color"],
        "#ffffff"
    );
    assert_eq!(app.settings(SITE_B, "default").await, defaults("default"));
}

#[tokio::test]
async fn every_field_is_validated_with_400_naming_it() {
    let app = spawn().await;
    let owner = instance(SITE_A, Role::Owner);
    let good = settings_body("comp-1", "Title", "#116dff");
    let cases: Vec<(&str, Value)> = vec![
        ("comp_id", json!("")),
        ("comp_id", json!("a/b")),
        ("comp_id", json!("x".repeat(65))),
        ("comp_id", json!("é")),
        ("title", json!("")),
        ("title", json!("   ")),
        ("title", json!("t".repeat(81))),
        ("title", json!(5)),
        ("prompt", json!("p".repeat(201))),
        ("prompt", Value::Null),
        ("ask_email", json!("yes")),
        ("ask_rating", json!(1)),
        ("accent_color", json!("116dff")),
        ("accent_color", json!("#116df")),
        ("accent_color", json!("#116dffa")),
        ("accent_color", json!("#gggggg")),
        ("accent_color", json!("red")),
    ];
    for (field, value) in cases {
        let mut body = good.clone();
        body[field] = value.clone();
        // An empty comp_id means the default widget (like an absent one).
        if field == "comp_id" && value == json!("") {
            assert_eq!(app.save_as(&owner, body).await.status, 200);
            continue;
        }
        let r = app.save_as(&owner, body).await;
        r.assert_error(400, "invalid_input");
        assert!(
            r.body["message"].as_str().unwrap().contains(field),
            "{field}={value}: {}",
            r.body
        );
    }
    for missing in ["title", "prompt", "ask_email", "ask_rating", "accent_color"] {
        let mut body = good.clone();
        body.as_object_mut().unwrap().remove(missing);
        let r = app.save_as(&owner, body).await;
        r.assert_error(400, "invalid_input");
        assert!(r.body["message"].as_str().unwrap().contains(missing));
    }
    // Limits are characters, not bytes.
    let mut body = good.clone();
    body["title"] = json!("é".repeat(80));
    body["prompt"] = json!("é".repeat(200));
    assert_eq!(app.save_as(&owner, body).await.status, 200);
    // Nothing bad was stored.
    assert_eq!(
        app.settings(SITE_A, "comp-1").await["title"],
        "é".repeat(80)
    );

    // comp_id is checked wherever it is taken.
    let visitor = instance(SITE_A, Role::Visitor);
    app.settings_as(&visitor, Some("bad id"))
        .await
        .assert_error(400, "invalid_input");
    app.submit_as(
        &visitor,
        json!({ "message": "m", "comp_id": "x".repeat(65) }),
    )
    .await
    .assert_error(400, "invalid_input");
    app.list(SITE_A, json!({ "comp_id": "a b" }))
        .await
        .assert_error(400, "invalid_input");
}

#[tokio::test]
async fn only_the_owner_saves() {
    let app = spawn().await;
    for role in [Role::Visitor, Role::Member] {
        let r = app
            .save_as(
                &instance(SITE_A, role),
                settings_body("comp-1", "Mine", "#123456"),
            )
            .await;
        r.assert_error(403, "forbidden");
    }
    app.call(
        "/api/widget/save_settings",
        None,
        settings_body("comp-1", "x", "#123456"),
    )
    .await
    .assert_error(401, "missing_authorization");
    app.call("/api/widget/settings", None, json!({}))
        .await
        .assert_error(401, "missing_authorization");
    assert_eq!(app.settings(SITE_A, "comp-1").await, defaults("comp-1"));
    // The widget list is the owner's too.
    app.call(
        "/api/widget/ids",
        Some(&instance(SITE_A, Role::Visitor)),
        json!({}),
    )
    .await
    .assert_error(403, "forbidden");
}

#[tokio::test]
async fn submissions_record_their_widget_and_the_list_filters_by_it() {
    let app = spawn().await;
    let plain = app.submit(SITE_A, Role::Visitor, "no widget id").await;
    let one = app
        .submit_json(
            SITE_A,
            Role::Visitor,
            json!({ "message": "from one", "comp_id": "comp-1" }),
        )
        .await;
    let two = app
        .submit_json(
            SITE_A,
            Role::Member,
            json!({ "message": "from two", "comp_id": "comp-2", "email": "m@example.com" }),
        )
        .await;
    // The same widget id on another site stays that site's.
    app.submit_json(
        SITE_B,
        Role::Visitor,
        json!({ "message": "b", "comp_id": "comp-1" }),
    )
    .await;

    let all = app.list(SITE_A, json!({ "status": "all" })).await;
    assert_eq!(all.ids(), vec![two.clone(), one.clone(), plain.clone()]);
    assert_eq!(all.item(&plain)["comp_id"], "default");
    assert_eq!(all.item(&one)["comp_id"], "comp-1");
    assert_eq!(all.item(&two)["comp_id"], "comp-2");

    let only = app.list(SITE_A, json!({ "comp_id": "comp-1" })).await;
    assert_eq!(only.ids(), vec![one.clone()]);
    let only = app
        .list(SITE_A, json!({ "comp_id": "default", "status": "all" }))
        .await;
    assert_eq!(only.ids(), vec![plain]);
    assert!(app
        .list(SITE_A, json!({ "comp_id": "nowhere" }))
        .await
        .ids()
        .is_empty());
    // The filter pages like the unfiltered list.
    for i in 0..5 {
        app.submit_json(
            SITE_A,
            Role::Visitor,
            json!({ "message": format!("p{i}"), "comp_id": "comp-1" }),
        )
        .await;
    }
    let pages = app
        .list_pages(SITE_A, json!({ "comp_id": "comp-1", "limit": 2 }), 6)
        .await;
    let ids: Vec<String> = pages.iter().flat_map(Reply::ids).collect();
    assert_eq!(ids.len(), 6);
    assert_eq!(ids.last(), Some(&one));

    let widgets = app
        .call(
            "/api/widget/ids",
            Some(&instance(SITE_A, Role::Owner)),
            json!({}),
        )
        .await;
    assert_eq!(widgets.status, 200, "{}", widgets.body);
    assert_eq!(
        widgets.body,
        json!({ "comp_ids": ["comp-1", "comp-2", "default"] })
    );
    let widgets = app
        .call(
            "/api/widget/ids",
            Some(&instance(SITE_B, Role::Owner)),
            json!({}),
        )
        .await;
    assert_eq!(widgets.body, json!({ "comp_ids": ["comp-1"] }));
}

#[tokio::test]
async fn a_duplicated_site_gets_its_origins_settings_once_through_the_webhook() {
    let app = spawn().await;
    app.save(SITE_A, settings_body("comp-1", "Origin one", "#111111"))
        .await;
    app.save(SITE_A, settings_body("comp-2", "Origin two", "#222222"))
        .await;
    app.submit_json(
        SITE_A,
        Role::Visitor,
        json!({ "message": "origin's", "email": "fan@example.com" }),
    )
    .await;

    let t0 = Utc::now() - Duration::seconds(30);
    let delivery = installed_copy(SITE_COPY, SITE_A, t0);
    assert_eq!(app.webhook_ok(delivery.clone()).await, "applied");
    let one = app.settings(SITE_COPY, "comp-1").await;
    assert_eq!(one["title"], "Origin one");
    assert_eq!(one["accent_color"], "#111111");
    assert_eq!(
        app.settings(SITE_COPY, "comp-2").await["title"],
        "Origin two"
    );
    assert_eq!(app.settings(SITE_COPY, "comp-3").await, defaults("comp-3"));
    // Never the origin's feedback or emails.
    assert!(app.stored_items(SITE_COPY, 10).await.is_empty());
    let summary = app.summary(SITE_COPY).await;
    assert_eq!(summary.body["total"], 0, "{}", summary.body);

    // Later changes on either side: the copy was once.
    app.save(SITE_A, settings_body("comp-1", "Origin changed", "#333333"))
        .await;
    app.save(SITE_A, settings_body("comp-3", "Origin three", "#333333"))
        .await;
    app.save(SITE_COPY, settings_body("comp-2", "Copy's own", "#444444"))
        .await;
    app.webhook_ok(delivery).await;
    app.webhook_ok(installed_copy(SITE_COPY, SITE_A, t0 + Duration::seconds(5)))
        .await;
    let first_call = app
        .settings_as(
            &copy_instance(SITE_COPY, SITE_A, Role::Visitor),
            Some("comp-1"),
        )
        .await;
    assert_eq!(first_call.body["title"], "Origin one");
    assert_eq!(
        app.settings(SITE_COPY, "comp-2").await["title"],
        "Copy's own"
    );
    assert_eq!(app.settings(SITE_COPY, "comp-3").await, defaults("comp-3"));
    // The origin keeps its own.
    assert_eq!(
        app.settings(SITE_A, "comp-1").await["title"],
        "Origin changed"
    );
    assert_eq!(app.stored_items(SITE_A, 10).await.len(), 1);
}

#[tokio::test]
async fn a_duplicated_site_gets_its_origins_settings_on_its_first_call() {
    let app = spawn().await;
    app.save(SITE_A, settings_body("comp-1", "Origin one", "#111111"))
        .await;
    app.save(SITE_A, settings_body("comp-2", "Origin two", "#222222"))
        .await;
    app.submit(SITE_A, Role::Visitor, "origin's feedback").await;
    // The copy already has settings of its own for comp-2 (saved before its first call): kept.
    let own = app
        .save(SITE_COPY, settings_body("comp-2", "Copy's own", "#444444"))
        .await;

    let visitor = copy_instance(SITE_COPY, SITE_A, Role::Visitor);
    let r = app.settings_as(&visitor, Some("comp-1")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["title"], "Origin one");
    assert_eq!(app.settings(SITE_COPY, "comp-2").await, own);
    assert!(app.stored_items(SITE_COPY, 10).await.is_empty());

    // Once: a later origin change is not copied by later calls.
    app.save(SITE_A, settings_body("comp-3", "Origin three", "#333333"))
        .await;
    let owner = copy_instance(SITE_COPY, SITE_A, Role::Owner);
    let r = app.settings_as(&owner, Some("comp-3")).await;
    assert_eq!(r.body, defaults("comp-3"));
    // An owner's save on the copy is its own, and the copy never overwrites it.
    let r = app
        .save_as(&owner, settings_body("comp-1", "Copy edited", "#555555"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.webhook_ok(installed_copy(SITE_COPY, SITE_A, Utc::now()))
        .await;
    assert_eq!(
        app.settings(SITE_COPY, "comp-1").await["title"],
        "Copy edited"
    );

    // A save as the very first call of another copy: the origin's other widgets still come.
    let site_d = "site-d-0000-4000-8000-000000000004";
    let r = app
        .save_as(
            &copy_instance(site_d, SITE_A, Role::Owner),
            settings_body("comp-1", "D's own", "#666666"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(app.settings(site_d, "comp-1").await["title"], "D's own");
    assert_eq!(app.settings(site_d, "comp-2").await["title"], "Origin two");
}

#[tokio::test]
async fn an_origin_with_nothing_or_purged_copies_nothing() {
    let app = spawn().await;
    // SITE_B never saved settings.
    app.webhook_ok(installed_copy(SITE_COPY, SITE_B, Utc::now()))
        .await;
    assert_eq!(
        app.settings(SITE_COPY, "default").await,
        defaults("default")
    );
    let r = app
        .settings_as(&copy_instance(SITE_COPY, SITE_B, Role::Visitor), None)
        .await;
    assert_eq!(r.body, defaults("default"));

    // SITE_A saved, then removed the app and its data was purged.
    app.save(SITE_A, settings_body("default", "Gone", "#111111"))
        .await;
    app.webhook_ok(installed(SITE_A, Utc::now() - Duration::seconds(20)))
        .await;
    app.webhook_ok(removed(SITE_A, Utc::now() - Duration::seconds(10)))
        .await;
    purge_due(&app.store, 0, Utc::now()).await.unwrap();
    let site_d = "site-d-0000-4000-8000-000000000004";
    app.webhook_ok(installed_copy(site_d, SITE_A, Utc::now()))
        .await;
    assert_eq!(app.settings(site_d, "default").await, defaults("default"));
    let site_e = "site-e-0000-4000-8000-000000000005";
    let r = app
        .settings_as(&copy_instance(site_e, SITE_A, Role::Visitor), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, defaults("default"));
}
