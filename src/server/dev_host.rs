//! `/dev` (APP_ENV=dev only): a page that plays the Wix host.
//!
//! It embeds the dashboard and the widget in iframes with freshly signed instances, the way Wix
//! would, for two demo sites, so a developer can use and test the app without a Wix account.

use axum::extract::State;
use axum::response::Html;
use chrono::Utc;

use super::{AppState, FAKE_WIX_PATH};
use crate::auth::InstanceClaims;
use crate::model::Role;

pub const DEMO_SITE_A: &str = "6f0e2a52-0d6c-4c7b-9a51-00000000000a";
pub const DEMO_SITE_B: &str = "6f0e2a52-0d6c-4c7b-9a51-00000000000b";

struct Frame {
    id: &'static str,
    title: &'static str,
    path: &'static str,
    /// `instance` (signed instance) or `accessToken` (Wix access token).
    param: &'static str,
    instance: String,
    height: u32,
}

pub async fn page(State(app): State<AppState>) -> Html<String> {
    let config = &app.config;
    let sign = |site: &str, role: Role, subject: &str| {
        InstanceClaims::for_role(site, &config.app_id, role, subject, Utc::now())
            .sign(config.app_secret.expose())
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
        },
        Frame {
            id: "site-a-widget-member",
            title: "Site A · widget · site member",
            path: "/widget",
            param: "instance",
            instance: sign(DEMO_SITE_A, Role::Member, "member-a"),
            height: 420,
        },
        Frame {
            id: "site-a-dashboard-owner",
            title: "Site A · dashboard · owner",
            path: "/dashboard",
            param: "instance",
            instance: owner_a,
            height: 560,
        },
        Frame {
            id: "site-b-widget-visitor",
            title: "Site B · widget · anonymous visitor",
            path: "/widget",
            param: "instance",
            instance: sign(DEMO_SITE_B, Role::Visitor, &visitor_id),
            height: 420,
        },
        Frame {
            id: "site-b-dashboard-owner",
            title: "Site B · dashboard · owner",
            path: "/dashboard",
            param: "instance",
            instance: sign(DEMO_SITE_B, Role::Owner, "owner-b"),
            height: 560,
        },
        Frame {
            id: "site-a-dashboard-visitor",
            title: "Site A · dashboard opened by a visitor (must show no data)",
            path: "/dashboard",
            param: "instance",
            instance: sign(DEMO_SITE_A, Role::Visitor, &visitor_id),
            height: 200,
        },
        Frame {
            id: "site-a-dashboard-tampered",
            title: "Site A · dashboard with a tampered instance",
            path: "/dashboard",
            param: "instance",
            instance: tampered,
            height: 200,
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
            },
        );
    }

    let mut body = String::new();
    for frame in &frames {
        // Instances are base64url plus '.', safe inside an attribute; ids and titles are ours.
        let src = format!(
            "{}?{}={}&locale=en&viewMode=site",
            frame.path, frame.param, frame.instance
        );
        body.push_str(&format!(
            r#"<section class="dev-frame"><h2>{title}</h2><p><a href="{src}" target="_blank" rel="noopener">open alone</a></p><iframe id="{id}" title="{title}" src="{src}" height="{height}"></iframe></section>"#,
            title = frame.title,
            id = frame.id,
            height = frame.height,
        ));
    }
    Html(format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dev host · Wix app</title><link rel="stylesheet" href="/pkg/wix-app.css"></head>
<body class="dev-host"><header><h1>Dev host</h1>
<p>This page plays the Wix host (APP_ENV=dev only). Each frame gets a freshly signed instance for app <code>{app_id}</code>.
Site A and site B are separate Wix sites: what one submits, the other never sees. Reload for new instances.</p>{fake_note}</header>
<main class="dev-grid">{body}</main></body></html>"#,
        app_id = config.app_id,
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
