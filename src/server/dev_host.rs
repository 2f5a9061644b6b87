//! `/dev` (APP_ENV=dev only): a page that plays the Wix host.
//!
//! It embeds the dashboard and the widget in iframes with freshly signed instances, the way Wix
//! would, for two demo sites, so a developer can use and test the app without a Wix account.
//! Its lifecycle panel sends install/uninstall webhooks for the demo sites, signed with the
//! development key and taken through the real verifier (`POST /dev/webhook`), and its plan
//! panel switches a demo site between free and premium with billing webhooks the same way.

use axum::extract::{Query, State};
use axum::response::{Html, Redirect};
use axum::Form;
use chrono::Utc;
use serde::Deserialize;

use super::webhooks::handle_event;
use super::{AppState, FAKE_WIX_PATH};
use crate::api::ApiError;
use crate::auth::{
    sign_webhook, InstanceClaims, APP_INSTALLED, APP_REMOVED, DEV_WEBHOOK_PRIVATE_KEY,
};
use crate::model::Role;
use crate::store::InstanceStatus;

pub const DEMO_SITE_A: &str = "6f0e2a52-0d6c-4c7b-9a51-00000000000a";
pub const DEMO_SITE_B: &str = "6f0e2a52-0d6c-4c7b-9a51-00000000000b";
/// The vendor product id the plan panel buys for a demo site.
pub const DEMO_PREMIUM_PLAN: &str = "premium";
/// The billing events the plan panel sends: to premium, back to free.
const PLAN_PURCHASED: &str = "PaidPlanPurchased";
const PLAN_CHANGED: &str = "PaidPlanChanged";

struct Frame {
    id: &'static str,
    title: &'static str,
    path: &'static str,
    /// `instance` (signed instance) or `accessToken` (Wix access token).
    param: &'static str,
    instance: String,
    height: u32,
    /// The Wix `compId` of a widget or settings-panel frame: which copy of the widget it is.
    comp_id: Option<&'static str>,
}

/// The result of the last `/dev/webhook`, passed back in the redirect's query.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    webhook: Option<String>,
}

/// Results `/dev/webhook` can report; anything else in the query is not echoed.
const WEBHOOK_RESULTS: &[&str] = &[
    "applied",
    "duplicate",
    "stale",
    "ignored",
    "invalid_webhook",
    "invalid_webhook_signature",
    "invalid_input",
    "internal",
];

#[derive(Debug, Deserialize)]
pub struct WebhookForm {
    site: String,
    event: String,
}

/// The body of a billing event that moves `site` to `plan` (`None` = free), as Wix shapes it.
fn plan_body(plan: Option<&str>, now: chrono::DateTime<Utc>) -> serde_json::Value {
    serde_json::json!({
        "operationTimeStamp": now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "vendorProductId": plan,
        "cycle": if plan.is_some() { "MONTHLY" } else { "NO_CYCLE" },
        "previousVendorProductId": if plan.is_some() { None } else { Some(DEMO_PREMIUM_PLAN) },
    })
}

/// `POST /dev/webhook` (dev only): signs an install/uninstall event for a demo site with the
/// development key, verifies and applies it like `/webhooks/wix` would, and returns to `/dev`.
pub async fn send_webhook(State(app): State<AppState>, Form(form): Form<WebhookForm>) -> Redirect {
    let back = |result: &str| Redirect::to(&format!("/dev?webhook={result}#lifecycle"));
    let site = match form.site.as_str() {
        "a" => DEMO_SITE_A,
        "b" => DEMO_SITE_B,
        _ => return back("invalid_input"),
    };
    let now = Utc::now();
    let (event, body) = match form.event.as_str() {
        APP_INSTALLED => (
            APP_INSTALLED,
            serde_json::json!({ "appId": app.config.wix.app_id }),
        ),
        APP_REMOVED => (
            APP_REMOVED,
            serde_json::json!({ "appId": app.config.wix.app_id }),
        ),
        PLAN_PURCHASED => (PLAN_PURCHASED, plan_body(Some(DEMO_PREMIUM_PLAN), now)),
        PLAN_CHANGED => (PLAN_CHANGED, plan_body(None, now)),
        _ => return back("invalid_input"),
    };
    if let Some(fake) = &app.fake_wix {
        // Get App Instance agrees with the billing event, as Wix's would.
        match event {
            PLAN_PURCHASED => fake.set_plan(site, Some(DEMO_PREMIUM_PLAN)),
            PLAN_CHANGED => fake.set_plan(site, None),
            _ => {}
        }
    }
    let Ok(token) = sign_webhook(DEV_WEBHOOK_PRIVATE_KEY, event, site, &body, now) else {
        return back("internal");
    };
    // With a configured (non-dev) key this fails verification, exactly as it should.
    let event = match app.webhook_verifier.verify_at(token.as_bytes(), now) {
        Ok(event) => event,
        Err(err) => return back(ApiError::from(err).error.as_str()),
    };
    match handle_event(&app, &event, now).await {
        Ok(outcome) => back(outcome.as_str()),
        Err(err) => {
            tracing::error!(error = %err, "dev webhook failed");
            back("internal")
        }
    }
}

/// A demo site's tenant, through a freshly signed and verified owner instance (the only way to
/// hold a tenant id).
fn demo_tenant(app: &AppState, site: &str) -> Option<crate::auth::TenantId> {
    let instance = InstanceClaims::for_role(
        site,
        &app.config.wix.app_id,
        Role::Owner,
        "owner",
        Utc::now(),
    )
    .sign(app.config.wix.app_secret.expose());
    let identity = app.auth.instances().verify_at(&instance, Utc::now()).ok()?;
    Some(identity.tenant().clone())
}

/// The plan billing webhooks set for a demo site (`None` = free); Wix signs it into the site's
/// instances as `vendorProductId`, so the frames' instances carry it too.
async fn demo_plan(app: &AppState, site: &str) -> Option<String> {
    let tenant = demo_tenant(app, site)?;
    app.store.instances().plan(&tenant).await.ok()??.plan_id
}

/// The lifecycle status of a demo site.
async fn demo_status(app: &AppState, site: &str) -> &'static str {
    let Some(tenant) = demo_tenant(app, site) else {
        return "unknown";
    };
    match app.store.instances().get(&tenant).await {
        Ok(None) => "active (no webhook yet)",
        Ok(Some(rec)) => match (rec.status, rec.purged_at) {
            (InstanceStatus::Active, _) => "active",
            (InstanceStatus::Removed, None) => "removed (data kept until the retention runs out)",
            (InstanceStatus::Removed, Some(_)) => "removed (data purged)",
        },
        Err(_) => "unknown",
    }
}

pub async fn page(State(app): State<AppState>, Query(query): Query<PageQuery>) -> Html<String> {
    let config = &app.config;
    let plan_a = demo_plan(&app, DEMO_SITE_A).await;
    let plan_b = demo_plan(&app, DEMO_SITE_B).await;
    let sign = |site: &str, role: Role, subject: &str| {
        let mut claims =
            InstanceClaims::for_role(site, &config.wix.app_id, role, subject, Utc::now());
        claims.vendor_product_id = if site == DEMO_SITE_A {
            plan_a.clone()
        } else {
            plan_b.clone()
        };
        claims.sign(config.wix.app_secret.expose())
    };
    let visitor_id = uuid::Uuid::new_v4().to_string();
    let owner_a = sign(DEMO_SITE_A, Role::Owner, "owner-a");
    // A real instance with one character of its signature changed.
    let tampered = {
        let mut chars: Vec<char> = owner_a.chars().collect();
        chars[3] = if chars[3] == 'A' { 'B' } else { 'A' };
        chars.into_iter().collect::<String>()
    };
    let mut frames = vec![
        Frame {
            id: "site-a-widget-visitor",
            title: "Site A · widget · anonymous visitor",
            path: "/widget",
            param: "instance",
            instance: sign(DEMO_SITE_A, Role::Visitor, &visitor_id),
            height: 420,
            comp_id: Some("comp-main"),
        },
        Frame {
            id: "site-a-widget-member",
            title: "Site A · widget · site member",
            path: "/widget",
            param: "instance",
            instance: sign(DEMO_SITE_A, Role::Member, "member-a"),
            height: 420,
            comp_id: Some("comp-main"),
        },
        Frame {
            id: "site-a-dashboard-owner",
            title: "Site A · dashboard · owner",
            path: "/dashboard",
            param: "instance",
            instance: owner_a,
            height: 560,
            comp_id: None,
        },
        Frame {
            id: "site-a-widget-second",
            title: "Site A · second widget (compId comp-second) · anonymous visitor",
            path: "/widget",
            param: "instance",
            instance: sign(DEMO_SITE_A, Role::Visitor, &visitor_id),
            height: 420,
            comp_id: Some("comp-second"),
        },
        Frame {
            id: "site-a-settings-owner",
            title: "Site A · settings panel of the second widget · owner",
            path: "/settings",
            param: "instance",
            instance: sign(DEMO_SITE_A, Role::Owner, "owner-a"),
            height: 720,
            comp_id: Some("comp-second"),
        },
        Frame {
            id: "site-b-widget-visitor",
            title: "Site B · widget · anonymous visitor",
            path: "/widget",
            param: "instance",
            instance: sign(DEMO_SITE_B, Role::Visitor, &visitor_id),
            height: 420,
            comp_id: Some("comp-main"),
        },
        Frame {
            id: "site-b-dashboard-owner",
            title: "Site B · dashboard · owner",
            path: "/dashboard",
            param: "instance",
            instance: sign(DEMO_SITE_B, Role::Owner, "owner-b"),
            height: 560,
            comp_id: None,
        },
        Frame {
            id: "site-a-dashboard-visitor",
            title: "Site A · dashboard opened by a visitor (must show no data)",
            path: "/dashboard",
            param: "instance",
            instance: sign(DEMO_SITE_A, Role::Visitor, &visitor_id),
            height: 200,
            comp_id: None,
        },
        Frame {
            id: "site-a-dashboard-tampered",
            title: "Site A · dashboard with a tampered instance",
            path: "/dashboard",
            param: "instance",
            instance: tampered,
            height: 200,
            comp_id: None,
        },
    ];

    if let Some(fake) = &app.fake_wix {
        // What a self-hosted widget built on @wix/sdk holds: an access token, checked with Token Info.
        frames.insert(
            1,
            Frame {
                id: "site-a-widget-token",
                title: "Site A · widget · visitor with a Wix access token",
                path: "/widget",
                param: "accessToken",
                instance: fake.mint_access_token(DEMO_SITE_A, "VISITOR", &visitor_id, 3600),
                height: 420,
                comp_id: Some("comp-main"),
            },
        );
    }

    let mut body = String::new();
    for frame in &frames {
        // Instances are base64url plus '.', safe inside an attribute; ids and titles are ours.
        let comp = frame
            .comp_id
            .map(|c| format!("&compId={c}"))
            .unwrap_or_default();
        let src = format!(
            "{}?{}={}{comp}&locale=en&viewMode=site",
            frame.path, frame.param, frame.instance
        );
        body.push_str(&format!(
            r#"<section class="dev-frame"><h2>{title}</h2><p><a href="{src}" target="_blank" rel="noopener">open alone</a></p><iframe id="{id}" title="{title}" src="{src}" height="{height}"></iframe></section>"#,
            title = frame.title,
            id = frame.id,
            height = frame.height,
        ));
    }
    let last = query
        .webhook
        .as_deref()
        .and_then(|r| WEBHOOK_RESULTS.iter().find(|known| **known == r))
        .map(|r| format!(r#"<p data-testid="webhook-result">Last webhook: <code>{r}</code></p>"#))
        .unwrap_or_default();
    let mut lifecycle = String::new();
    for (key, label, site) in [("a", "Site A", DEMO_SITE_A), ("b", "Site B", DEMO_SITE_B)] {
        let status = demo_status(&app, site).await;
        let plan = match if site == DEMO_SITE_A {
            &plan_a
        } else {
            &plan_b
        } {
            Some(id) => format!("plan <code>{id}</code>"),
            None => "free plan".to_owned(),
        };
        lifecycle.push_str(&format!(
            r#"<li>{label}: <span id="site-{key}-status">{status}</span>
<form method="post" action="/dev/webhook" style="display:inline"><input type="hidden" name="site" value="{key}"><input type="hidden" name="event" value="{APP_INSTALLED}"><button id="site-{key}-install">Install</button></form>
<form method="post" action="/dev/webhook" style="display:inline"><input type="hidden" name="site" value="{key}"><input type="hidden" name="event" value="{APP_REMOVED}"><button id="site-{key}-uninstall">Uninstall</button></form>
· <span id="site-{key}-plan">{plan}</span>
<form method="post" action="/dev/webhook" style="display:inline"><input type="hidden" name="site" value="{key}"><input type="hidden" name="event" value="{PLAN_PURCHASED}"><button id="site-{key}-premium">Buy premium</button></form>
<form method="post" action="/dev/webhook" style="display:inline"><input type="hidden" name="site" value="{key}"><input type="hidden" name="event" value="{PLAN_CHANGED}"><button id="site-{key}-free">Back to free</button></form></li>"#
        ));
    }
    Html(format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dev host · Wix app</title><link rel="stylesheet" href="{css}"></head>
<body class="dev-host"><header><h1>Dev host</h1>
<p>This page plays the Wix host (APP_ENV=dev only). Each frame gets a freshly signed instance for app <code>{app_id}</code>.
Site A and site B are separate Wix sites: what one submits, the other never sees. Reload for new instances.</p>{fake_note}
<section id="lifecycle"><h2>Lifecycle and billing webhooks</h2><p>Sends <code>AppInstalled</code> / <code>AppRemoved</code> and the billing events <code>PaidPlanPurchased</code> / <code>PaidPlanChanged</code> to the app, signed with the development key. Data of a removed site is purged after DATA_RETENTION_DAYS={retention}.</p>{last}<ul>{lifecycle}</ul></section></header>
<main class="dev-grid">{body}</main></body></html>"#,
        css = super::static_assets::stylesheet_href(),
        app_id = config.wix.app_id,
        retention = config.store.data_retention_days,
        fake_note = match &app.fake_wix {
            Some(_) => format!(
                r#"<p>Wix API calls go to the in-process fake Wix at <code>{FAKE_WIX_PATH}</code>: see the contacts it holds for <a href="{FAKE_WIX_PATH}/_fake/contacts?instance_id={DEMO_SITE_A}">site A</a> and <a href="{FAKE_WIX_PATH}/_fake/contacts?instance_id={DEMO_SITE_B}">site B</a>.</p>"#
            ),
            None => format!(
                "<p>Wix API calls go to <code>{}</code>.</p>",
                app.wix.base_url()
            ),
        },
    ))
}
