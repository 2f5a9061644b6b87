//! Privacy requests (export and erase by email) and the CSV export.

use crate::common::*;
use chrono::Utc;
use serde_json::json;
use wix_app::model::Role;

impl TestApp {
    async fn privacy_as(&self, auth: &str, action: &str, email: &str) -> Reply {
        self.call(
            &format!("/api/privacy/{action}"),
            Some(auth),
            json!({ "email": email }),
        )
        .await
    }

    async fn privacy(&self, site: &str, action: &str, email: &str) -> Reply {
        let r = self
            .privacy_as(&instance(site, Role::Owner), action, email)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r
    }

    /// Contact-sync rows of `site` for `email` (ASCII case-insensitive), read from the database.
    async fn sync_rows(&self, site: &str, email: &str) -> i64 {
        let sql = format!(
            "SELECT COUNT(*) FROM contact_sync WHERE instance_id = '{site}' AND lower(email) = '{email}'"
        );
        if on_postgres() {
            let pool = sqlx::PgPool::connect(&self.database_url).await.unwrap();
            let n = sqlx::query_scalar(&sql).fetch_one(&pool).await.unwrap();
            pool.close().await;
            n
        } else {
            let pool = sqlx::SqlitePool::connect(&self.database_url).await.unwrap();
            let n = sqlx::query_scalar(&sql).fetch_one(&pool).await.unwrap();
            pool.close().await;
            n
        }
    }

    async fn submit_from(&self, site: &str, message: &str, email: &str) -> String {
        self.submit_json(
            site,
            Role::Visitor,
            json!({ "message": message, "email": email }),
        )
        .await
    }
}

#[tokio::test]
async fn export_finds_an_email_case_insensitively_on_the_callers_site_only() {
    let app = spawn().await;
    let first = app.submit_from(SITE_A, "first", "Ann@Example.com").await;
    let second = app.submit_from(SITE_A, "second", "ann@example.COM").await;
    app.submit_from(SITE_A, "someone else", "bob@example.com")
        .await;
    app.submit(SITE_A, Role::Visitor, "no email").await;
    app.submit_from(SITE_B, "other site", "ann@example.com")
        .await;

    let r = app.privacy(SITE_A, "export", "  ANN@example.com ").await;
    assert_eq!(r.ids(), vec![second.clone(), first.clone()], "newest first");
    // The same item shape as `list`.
    let listed = app.list(SITE_A, json!({"status": "all"})).await;
    assert_eq!(r.item(&first), listed.item(&first));
    assert!(r.item(&second)["contact"].is_object());

    assert!(app
        .privacy(SITE_B, "export", "nobody@example.com")
        .await
        .items()
        .is_empty());
    assert_eq!(
        app.privacy(SITE_B, "export", "ANN@EXAMPLE.COM")
            .await
            .items()
            .len(),
        1
    );

    // Only ASCII letters are folded, the same on both engines.
    let upper = app
        .submit_from(SITE_A, "accented", "Élan@Example.com")
        .await;
    assert_eq!(
        app.privacy(SITE_A, "export", "Élan@example.COM")
            .await
            .ids(),
        vec![upper]
    );
    assert!(app
        .privacy(SITE_A, "export", "élan@example.com")
        .await
        .items()
        .is_empty());
}

#[tokio::test]
async fn privacy_endpoints_are_for_the_owner_with_an_email() {
    let app = spawn().await;
    for action in ["export", "erase"] {
        for role in [Role::Member, Role::Visitor] {
            app.privacy_as(&instance(SITE_A, role), action, "a@example.com")
                .await
                .assert_error(403, "forbidden");
        }
        app.privacy_as(&instance(SITE_A, Role::Owner), action, "  ")
            .await
            .assert_error(400, "invalid_input");
        app.call(
            &format!("/api/privacy/{action}"),
            Some(&instance(SITE_A, Role::Owner)),
            json!({}),
        )
        .await
        .assert_error(400, "invalid_input");
        app.call(
            &format!("/api/privacy/{action}"),
            None,
            json!({"email": "a@example.com"}),
        )
        .await
        .assert_error(401, "missing_authorization");
    }
}

#[tokio::test]
async fn erase_deletes_one_sites_items_and_their_syncs_only() {
    let app = spawn().await;
    app.submit_from(SITE_A, "erase me", "Zoe@example.com").await;
    app.submit_from(SITE_A, "erase me too", "zoe@EXAMPLE.com")
        .await;
    let keep = app
        .submit_from(SITE_A, "keep me", "other@example.com")
        .await;
    let other_site = app
        .submit_from(SITE_B, "other site", "zoe@example.com")
        .await;

    let r = app.privacy(SITE_A, "erase", "ZOE@example.com").await;
    assert_eq!(r.body, json!({"erased": 2}));
    let left: Vec<String> = app
        .stored_items(SITE_A, 10)
        .await
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(left, vec![keep]);
    let b: Vec<String> = app
        .stored_items(SITE_B, 10)
        .await
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(b, vec![other_site]);
    assert!(app
        .privacy(SITE_A, "export", "zoe@example.com")
        .await
        .items()
        .is_empty());
    // Their contact-sync rows went with them; the other site's stays.
    assert_eq!(app.sync_rows(SITE_A, "zoe@example.com").await, 0);
    assert_eq!(app.sync_rows(SITE_B, "zoe@example.com").await, 1);
    // Again: nothing left to erase.
    assert_eq!(
        app.privacy(SITE_A, "erase", "zoe@example.com").await.body,
        json!({"erased": 0})
    );
}

/// Parses RFC 4180 CSV (quoted cells may hold commas, quotes and line breaks).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    assert!(
        cell.is_empty() && row.is_empty(),
        "the last row ends with CRLF"
    );
    rows
}

#[tokio::test]
async fn csv_export_quotes_defuses_formulas_and_pages_through_everything() {
    let app = spawn().await;
    let premium = instance_with_plan(SITE_A, Role::Owner, Some("pro"), Utc::now());
    let tricky = [
        "=HYPERLINK(\"http://evil\")",
        "  +1 and more",
        "-2",
        "@SUM(A1:A2)",
        "a, \"quoted\" cell\nwith a second line",
        "plain",
    ];
    for message in tricky {
        app.submit(SITE_A, Role::Visitor, message).await;
    }
    app.submit_json(
        SITE_A,
        Role::Member,
        json!({ "message": "rated", "email": "Rater@example.com", "rating": 4 }),
    )
    .await;
    // More than one store page (100 rows): the export pages by cursor.
    for i in 0..100 {
        app.submit(SITE_A, Role::Visitor, &format!("bulk {i}"))
            .await;
    }
    app.submit(SITE_B, Role::Visitor, "never exported from A")
        .await;

    let res = app
        .client
        .post(app.url("/api/feedback/export"))
        .header("authorization", &premium)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let text = res.text().await.unwrap();
    assert!(text.starts_with("id,created_at,status,author_kind,rating,email,comp_id,message\r\n"));
    let rows = parse_csv(&text);
    assert_eq!(rows.len(), 1 + 107);
    assert!(rows.iter().all(|r| r.len() == 8), "{rows:?}");
    let messages: Vec<&str> = rows[1..].iter().map(|r| r[7].as_str()).collect();
    assert!(!messages.contains(&"never exported from A"));
    for (sent, want) in [
        (tricky[0], "'=HYPERLINK(\"http://evil\")"),
        // Messages are stored trimmed; leading blanks are covered by the unit test.
        (tricky[1], "'+1 and more"),
        (tricky[2], "'-2"),
        (tricky[3], "'@SUM(A1:A2)"),
        (tricky[4], tricky[4]),
        (tricky[5], "plain"),
    ] {
        assert!(
            messages.contains(&want),
            "{sent:?} exported as {want:?}: {messages:?}"
        );
    }
    let rated = rows.iter().find(|r| r[7] == "rated").unwrap();
    assert_eq!(rated[2], "open");
    assert_eq!(rated[3], "member");
    assert_eq!(rated[4], "4");
    assert_eq!(rated[5], "Rater@example.com");
    assert_eq!(rated[6], "default", "the widget the item was left in");
    assert!(chrono::DateTime::parse_from_rfc3339(&rated[1]).is_ok());
    let ids: std::collections::HashSet<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids.len(), 107, "every item once");
    assert!(text.contains("\"a, \"\"quoted\"\" cell\nwith a second line\""));

    // The status filter.
    let owner = instance(SITE_A, Role::Owner);
    assert_eq!(
        app.set_status_as(&owner, rated[0].as_str(), "resolved")
            .await
            .status,
        200
    );
    let resolved = app
        .client
        .post(app.url("/api/feedback/export"))
        .header("authorization", &premium)
        .header("content-type", "application/json")
        .body(r#"{"status":"resolved"}"#)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let rows = parse_csv(&resolved);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][7], "rated");
    assert_eq!(rows[1][2], "resolved");

    // Bad input stays JSON.
    let r = app
        .call(
            "/api/feedback/export",
            Some(&premium),
            json!({"status": "nope"}),
        )
        .await;
    r.assert_error(400, "invalid_input");
}
