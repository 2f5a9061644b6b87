//! Paid plans: where a caller's plan comes from (signed instance, Get App Instance, billing
//! webhooks) and what it decides (402 `plan_required`, the free plan's monthly limit).

use crate::common::*;
use chrono::{Duration, Utc};
use serde_json::json;
use wix_app::model::Role;

const PRO: &str = "pro-monthly";

impl TestApp {
    /// `site`'s summary `plan` object, as its owner holding `instance`.
    async fn plan_of(&self, owner_instance: &str) -> serde_json::Value {
        let r = self.summary_as(owner_instance).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["plan"].clone()
    }

    async fn export_as(&self, auth: &str, body: serde_json::Value) -> Reply {
        self.call("/api/feedback/export", Some(auth), body).await
    }
}

#[tokio::test]
async fn the_plan_comes_from_the_instance_and_shows_in_the_summary() {
    let app = spawn_with(&[("FREE_MONTHLY_SUBMISSIONS", "50")]).await;
    let now = Utc::now();
    let free = app
        .plan_of(&instance_with_plan(SITE_A, Role::Owner, None, now))
        .await;
    assert_eq!(
        free,
        json!({"id": null, "premium": false, "month_submissions": 0, "monthly_limit": 50})
    );
    // An empty vendorProductId is the free plan too.
    let empty = app
        .plan_of(&instance_with_plan(SITE_A, Role::Owner, Some(""), now))
        .await;
    assert_eq!(empty["premium"], false);
    let paid = app
        .plan_of(&instance_with_plan(SITE_A, Role::Owner, Some(PRO), now))
        .await;
    assert_eq!(
        paid,
        json!({"id": PRO, "premium": true, "month_submissions": 0, "monthly_limit": null})
    );
    let summary = app.summary(SITE_A).await;
    assert_eq!(
        summary.body["upgrade_url"],
        format!("https://www.wix.com/apps/upgrade/{APP_ID}?appInstanceId={SITE_A}")
    );
}

#[tokio::test]
async fn premium_plan_ids_decide_which_plans_count() {
    let app = spawn_with(&[("PREMIUM_PLAN_IDS", "gold, platinum")]).await;
    let now = Utc::now();
    let basic = app
        .plan_of(&instance_with_plan(SITE_A, Role::Owner, Some("basic"), now))
        .await;
    assert_eq!(basic["id"], "basic");
    assert_eq!(basic["premium"], false);
    let gold = app
        .plan_of(&instance_with_plan(SITE_A, Role::Owner, Some("gold"), now))
        .await;
    assert_eq!(gold["premium"], true);
}

#[tokio::test]
async fn a_stored_plan_wins_only_when_newer_than_the_instance() {
    let app = spawn().await;
    let now = Utc::now();
    // Bought 5 minutes ago.
    let bought = now - Duration::minutes(5);
    let event = plan_event("PaidPlanPurchased", SITE_A, Some(PRO), bought, bought);
    assert_eq!(app.webhook_ok(event).await, "applied");
    // An instance signed before the purchase still says free: the webhook is newer and wins.
    let older = instance_with_plan(SITE_A, Role::Owner, None, now - Duration::minutes(10));
    assert_eq!(app.plan_of(&older).await["id"], PRO);
    // An instance signed after it is newer and wins (e.g. the plan was cancelled since).
    let newer = instance_with_plan(SITE_A, Role::Owner, None, now);
    assert_eq!(app.plan_of(&newer).await["premium"], false);
    let newer_paid = instance_with_plan(SITE_A, Role::Owner, Some("gold"), now);
    assert_eq!(app.plan_of(&newer_paid).await["id"], "gold");
    // Another site is untouched.
    assert_eq!(
        app.plan_of(&instance_with_plan(
            SITE_B,
            Role::Owner,
            None,
            now - Duration::minutes(10)
        ))
        .await["premium"],
        false
    );
}

#[tokio::test]
async fn billing_events_are_idempotent_and_ordered_by_their_own_time() {
    let app = spawn().await;
    let old_instance =
        || instance_with_plan(SITE_A, Role::Owner, None, Utc::now() - Duration::hours(1));
    let t = Utc::now() - Duration::minutes(30);
    let bought = plan_event("PaidPlanPurchased", SITE_A, Some(PRO), t, t);
    assert_eq!(app.webhook_ok(bought.clone()).await, "applied");
    assert_eq!(app.webhook_ok(bought).await, "duplicate");
    // Changed later, then an older change arrives late: it is stale and changes nothing.
    let t2 = t + Duration::minutes(10);
    let changed = plan_event("PaidPlanChanged", SITE_A, Some("gold"), t2, t2);
    assert_eq!(app.webhook_ok(changed).await, "applied");
    let late = t + Duration::minutes(5);
    let late = plan_event("PaidPlanChanged", SITE_A, Some("silver"), late, late);
    assert_eq!(app.webhook_ok(late).await, "stale");
    assert_eq!(app.plan_of(&old_instance()).await["id"], "gold");
    // A cancelled auto-renewal keeps the plan until it expires.
    let t3 = t + Duration::minutes(15);
    let cancelled = plan_event("PaidPlanAutoRenewalCancelled", SITE_A, Some("gold"), t3, t3);
    assert_eq!(app.webhook_ok(cancelled).await, "applied");
    assert_eq!(app.plan_of(&old_instance()).await["premium"], true);
    // The event's operationTimeStamp orders it, not when it was signed.
    let t4 = t + Duration::minutes(1);
    let reordered = plan_event("PaidPlanChanged", SITE_A, None, t4, Utc::now());
    assert_eq!(app.webhook_ok(reordered).await, "stale");
    // Unknown billing events are recorded and acknowledged, not refused.
    let transferred = plan_event("PlanTransferred", SITE_A, Some("x"), t3, t3);
    assert_eq!(app.webhook_ok(transferred).await, "ignored");
    assert_eq!(app.plan_of(&old_instance()).await["id"], "gold");
    // Back to free.
    let t5 = t + Duration::minutes(20);
    let to_free = plan_event("PaidPlanChanged", SITE_A, None, t5, t5);
    assert_eq!(app.webhook_ok(to_free).await, "applied");
    assert_eq!(app.plan_of(&old_instance()).await["premium"], false);
}

#[tokio::test]
async fn a_plan_event_never_makes_a_lifecycle_event_stale() {
    let app = spawn().await;
    let t0 = Utc::now() - Duration::minutes(30);
    assert_eq!(app.webhook_ok(installed(SITE_A, t0)).await, "applied");
    // A plan event newer than the removal that follows it.
    let t2 = t0 + Duration::minutes(20);
    let plan = plan_event("PaidPlanPurchased", SITE_A, Some(PRO), t2, t2);
    assert_eq!(app.webhook_ok(plan).await, "applied");
    let t1 = t0 + Duration::minutes(10);
    assert_eq!(app.webhook_ok(removed(SITE_A, t1)).await, "applied");
    app.submit_as(&instance(SITE_A, Role::Visitor), json!({"message": "hi"}))
        .await
        .assert_error(403, "instance_removed");
    // And a lifecycle event never makes a plan event stale.
    let t3 = t0 + Duration::minutes(15);
    let later_plan = plan_event("PaidPlanChanged", SITE_A, Some("gold"), t3, t3);
    assert_eq!(
        app.webhook_ok(later_plan).await,
        "stale",
        "older than the purchase"
    );
    let t4 = t0 + Duration::minutes(25);
    assert_eq!(app.webhook_ok(installed(SITE_A, t4)).await, "applied");
    let plan = app
        .plan_of(&instance_with_plan(SITE_A, Role::Owner, None, t0))
        .await;
    assert_eq!(plan["id"], PRO);
}

#[tokio::test]
async fn premium_endpoints_answer_402_on_the_free_plan() {
    let app = spawn().await;
    let now = Utc::now();
    let free_owner = instance_with_plan(SITE_A, Role::Owner, None, now);
    let r = app.export_as(&free_owner, json!({})).await;
    r.assert_error(402, "plan_required");
    // Roles are checked before plans.
    let member = instance_with_plan(SITE_A, Role::Member, Some(PRO), now);
    app.export_as(&member, json!({}))
        .await
        .assert_error(403, "forbidden");
    app.export_as("garbage.x", json!({}))
        .await
        .assert_error(401, "malformed_instance");
    app.call("/api/feedback/export", None, json!({}))
        .await
        .assert_error(401, "missing_authorization");
    let paid_owner = instance_with_plan(SITE_A, Role::Owner, Some(PRO), now);
    let r = app.export_as(&paid_owner, json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // After a billing webhook moves the site to premium, the free instance (older) passes.
    let older_free = instance_with_plan(SITE_B, Role::Owner, None, now - Duration::minutes(2));
    app.export_as(&older_free, json!({}))
        .await
        .assert_error(402, "plan_required");
    let t = now - Duration::minutes(1);
    assert_eq!(
        app.webhook_ok(plan_event("PaidPlanPurchased", SITE_B, Some(PRO), t, t))
            .await,
        "applied"
    );
    assert_eq!(app.export_as(&older_free, json!({})).await.status, 200);
}

/// Submits `n` items to `site` as visitors, one after another; all must be stored.
async fn fill(app: &TestApp, site: &str, n: usize) {
    for i in 0..n {
        app.submit(site, Role::Visitor, &format!("filler {i}"))
            .await;
    }
}

#[tokio::test]
async fn the_free_limit_is_exact_under_concurrency_and_deletes_do_not_free_it() {
    let app = spawn_with(&[("FREE_MONTHLY_SUBMISSIONS", "50")]).await;
    fill(&app, SITE_A, 45).await;
    let sends = (0..60).map(|i| {
        let app = &app;
        async move {
            app.submit_as(
                &instance(SITE_A, Role::Visitor),
                json!({ "message": format!("race {i}") }),
            )
            .await
        }
    });
    let replies = futures::future::join_all(sends).await;
    let stored = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(stored, 5, "exactly the 5 left of 50");
    for r in replies.iter().filter(|r| r.status != 200) {
        r.assert_error(402, "plan_limit_reached");
    }
    let items = app.stored_items(SITE_A, 200).await;
    assert_eq!(items.len(), 50);
    let plan = app.summary(SITE_A).await.body["plan"].clone();
    assert_eq!(plan["month_submissions"], 50);
    assert_eq!(plan["monthly_limit"], 50);

    // Deleting does not give quota back.
    let owner = instance(SITE_A, Role::Owner);
    assert_eq!(app.delete_as(&owner, &items[0].id).await.status, 200);
    app.submit_as(
        &instance(SITE_A, Role::Member),
        json!({"message": "one more"}),
    )
    .await
    .assert_error(402, "plan_limit_reached");
    assert_eq!(app.stored_items(SITE_A, 200).await.len(), 49);
    assert_eq!(
        app.summary(SITE_A).await.body["plan"]["month_submissions"],
        50
    );

    // Another site has its own allowance; a premium site has none.
    app.submit(SITE_B, Role::Visitor, "site B is fine").await;
    let paid = instance_with_plan(SITE_A, Role::Visitor, Some(PRO), Utc::now());
    for i in 0..3 {
        let r = app
            .submit_as(&paid, json!({ "message": format!("premium {i}") }))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let paid_owner = instance_with_plan(SITE_A, Role::Owner, Some(PRO), Utc::now());
    let plan = app.plan_of(&paid_owner).await;
    assert_eq!(plan["month_submissions"], 53);
    assert_eq!(plan["monthly_limit"], serde_json::Value::Null);
}

#[tokio::test]
async fn an_access_tokens_plan_comes_from_get_app_instance() {
    let app = spawn_with(&[("FREE_MONTHLY_SUBMISSIONS", "2")]).await;
    app.fake.set_plan(SITE_B, Some(PRO));
    for site in [SITE_A, SITE_B] {
        let token = app.fake.mint_access_token(site, "VISITOR", "v-1", 600);
        for i in 0..2 {
            let r = app
                .submit_as(&token, json!({ "message": format!("token {i}") }))
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
        }
        let third = app.submit_as(&token, json!({ "message": "third" })).await;
        if site == SITE_A {
            third.assert_error(402, "plan_limit_reached");
        } else {
            assert_eq!(
                third.status, 200,
                "premium per Get App Instance: {}",
                third.body
            );
        }
    }
    // The owner's access token sees the plan too.
    let owner = app.fake.mint_access_token(SITE_B, "USER", "o-1", 600);
    let plan = app.plan_of(&owner).await;
    assert_eq!(plan["id"], PRO);
    assert_eq!(plan["premium"], true);
}

#[tokio::test]
async fn the_dev_page_switches_a_demo_site_between_free_and_premium() {
    let app = spawn_with(&[(
        "WIX_WEBHOOK_PUBLIC_KEY",
        wix_app::auth::DEV_WEBHOOK_PUBLIC_KEY,
    )])
    .await;
    const DEMO_A: &str = "6f0e2a52-0d6c-4c7b-9a51-00000000000a";
    let before = Utc::now() - Duration::seconds(5);
    let owner = || instance_with_plan(DEMO_A, Role::Owner, None, before);
    assert_eq!(app.plan_of(&owner()).await["premium"], false);
    let r = app.dev_webhook("a", "PaidPlanPurchased").await;
    assert!(r.url().as_str().contains("webhook=applied"), "{}", r.url());
    let page = r.text().await.unwrap();
    assert!(
        page.contains(r#"id="site-a-plan">plan <code>premium</code>"#),
        "{page}"
    );
    assert_eq!(app.plan_of(&owner()).await["premium"], true);
    let r = app.dev_webhook("a", "PaidPlanChanged").await;
    assert!(r.url().as_str().contains("webhook=applied"), "{}", r.url());
    assert_eq!(app.plan_of(&owner()).await["premium"], false);
}
