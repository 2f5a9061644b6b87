//! Several replicas of one deployment on one PostgreSQL database (3 applications in this
//! process, each with its own pool, worker, caches and limiters, like 3 processes behind a load
//! balancer). Each test proves one thing that held on one machine still holds across replicas.
//! Run with `TEST_DATABASE=postgres` (`make test` does); on SQLite there is one process only.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use wix_app::model::Role;
use wix_app::server::webhooks::purge_due;

use crate::common::*;

/// A site of its own per test, so the fake Wix's counters start at zero.
fn site(n: usize) -> String {
    format!("site-r{n:03}-0000-4000-8000-000000000000")
}

/// Waits (at most 1 s, the promise) until `app` answers the site owner with `status`.
async fn owner_sees(app: &TestApp, site: &str, status: u16) {
    eventually(
        Duration::from_secs(1),
        Duration::from_millis(20),
        || async {
            let r = app.list(site, json!({ "status": "all" })).await;
            if r.status == status {
                Ok(())
            } else {
                Err(format!("{} answered {}: {}", app.base, r.status, r.body))
            }
        },
    )
    .await;
}

#[tokio::test]
async fn three_replicas_start_together_on_an_empty_database() {
    let apps = spawn_replicas(3, &[]).await;
    for app in &apps {
        let r = app.get("/healthz").await;
        assert_eq!(r.status(), 200);
    }
    // Every replica sees the same data: one wrote, all read.
    let id = apps[0].submit(SITE_A, Role::Visitor, "hello").await;
    for app in &apps {
        let r = app.list(SITE_A, json!({ "status": "all" })).await;
        assert_eq!(r.ids(), vec![id.clone()], "{}", app.base);
    }
}

#[tokio::test]
async fn a_removal_and_a_reinstall_reach_every_replica_within_a_second() {
    let apps = spawn_replicas(3, &[]).await;
    let site = site(1);
    // Distinct event times: the same event in the same second would be the same delivery.
    let at = |n: i64| Utc::now() - chrono::Duration::minutes(1) + chrono::Duration::seconds(n);
    apps[0].submit(&site, Role::Visitor, "before").await;
    for app in &apps {
        owner_sees(app, &site, 200).await;
    }

    // Removed on replica A: B and C refuse the site too.
    assert_eq!(apps[0].webhook_ok(removed(&site, at(1))).await, "applied");
    for app in &apps {
        owner_sees(app, &site, 403).await;
    }
    let r = apps[2].list(&site, json!({})).await;
    r.assert_error(403, "instance_removed");

    // Reinstalled on replica C: A and B serve it again.
    assert_eq!(apps[2].webhook_ok(installed(&site, at(2))).await, "applied");
    for app in &apps {
        owner_sees(app, &site, 200).await;
    }

    // Every replica's notification connection is dropped; a change made while they reconnect
    // still reaches them (they reload what changed).
    let db = sqlx::PgPool::connect(&apps[0].database_url).await.unwrap();
    let dropped: Vec<i32> = sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity
         WHERE datname = current_database() AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(dropped.len(), 3, "one listening connection per replica");
    for pid in &dropped {
        sqlx::query("SELECT pg_terminate_backend($1)")
            .bind(pid)
            .execute(&db)
            .await
            .unwrap();
    }
    assert_eq!(apps[1].webhook_ok(removed(&site, at(3))).await, "applied");
    for app in &apps {
        owner_sees(app, &site, 403).await;
    }
}

#[tokio::test]
async fn lifecycle_events_apply_once_and_in_event_order_across_replicas() {
    let apps = spawn_replicas(3, &[]).await;
    let t0 = Utc::now() - chrono::Duration::minutes(10);
    // The same delivery to two replicas at once: applied once.
    let body = removed(&site(2), t0);
    let (a, b) = tokio::join!(apps[0].webhook_ok(body.clone()), apps[1].webhook_ok(body));
    let mut outcomes = [a, b];
    outcomes.sort();
    assert_eq!(outcomes, ["applied".to_owned(), "duplicate".to_owned()]);

    // A removal and a later reinstall of each of 20 sites, delivered to different replicas at
    // the same moment: whatever order they commit in, the newer event wins everywhere.
    let sites: Vec<String> = (10..30).map(site).collect();
    let deliveries = sites.iter().enumerate().map(|(i, s)| {
        let remove = removed(s, t0 + chrono::Duration::seconds(1));
        let install = installed(s, t0 + chrono::Duration::seconds(2));
        let (x, y) = (&apps[i % 3], &apps[(i + 1) % 3]);
        async move { tokio::join!(x.webhook(remove), y.webhook(install)) }
    });
    for (r1, r2) in futures::future::join_all(deliveries).await {
        assert_eq!(
            (r1.status, r2.status),
            (200, 200),
            "{} {}",
            r1.body,
            r2.body
        );
    }
    for s in &sites {
        for app in &apps {
            owner_sees(app, s, 200).await;
        }
        let record = apps[0]
            .store
            .instances()
            .get(&tenant(s))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.status.as_str(), "active", "{s}: {record:?}");
    }
}

#[tokio::test]
async fn each_outbox_row_is_synced_by_one_replica() {
    let apps = spawn_replicas(3, &[]).await;
    let sites: Vec<String> = (40..50).map(site).collect();
    // Every submission wakes its replica's worker: three workers race for the rows.
    let submissions = (0..300).map(|i| {
        let app = &apps[i % 3];
        let visitor = instance(&sites[i % sites.len()], Role::Visitor);
        async move {
            let r = app
                .submit_as(
                    &visitor,
                    json!({ "message": format!("m{i}"), "email": format!("p{i}@example.com") }),
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
        }
    });
    futures::future::join_all(submissions).await;
    eventually(
        Duration::from_secs(60),
        Duration::from_millis(200),
        || async {
            let (pending, synced, failed) = apps[0].store.contact_sync().totals().await.unwrap();
            if synced == 300 {
                Ok(())
            } else {
                Err(format!(
                    "pending {pending}, synced {synced}, failed {failed}"
                ))
            }
        },
    )
    .await;
    let contacts: usize = sites.iter().map(|s| apps[0].fake.contacts(s).len()).sum();
    assert_eq!(contacts, 300, "exactly one contact per email");
    assert_eq!(
        apps[0].fake.requests("/contacts/v4/contacts"),
        300,
        "no row was sent to Wix twice"
    );
}

#[tokio::test]
async fn rows_claimed_by_a_replica_that_died_are_synced_by_another_once() {
    let mut apps = spawn_replicas(2, &[]).await;
    let site = site(60);
    apps[0].fake.set_down(true);
    for i in 0..5 {
        let r = apps[0]
            .submit_as(
                &instance(&site, Role::Visitor),
                json!({ "message": "m", "email": format!("d{i}@example.com") }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    // Replica 0 claims all 5 rows and dies holding them (a crash mid-batch). Both workers are
    // retrying meanwhile (Wix is down), so it claims as if 2 s later, past their backoff, until
    // it holds every row (a row the other worker holds comes free when its attempt fails).
    let claimed = std::sync::Mutex::new(HashSet::new());
    eventually(Duration::from_secs(10), Duration::from_millis(50), || {
        let claimed = &claimed;
        let store = apps[0].store.clone();
        async move {
            let later = Utc::now().timestamp_millis() + 2_000;
            let rows = store.contact_sync().due(later, 100).await.unwrap();
            let mut claimed = claimed.lock().unwrap();
            claimed.extend(rows.into_iter().map(|row| row.feedback_id));
            match claimed.len() {
                5 => Ok(()),
                n => Err(format!("replica 0 holds {n} of 5 rows")),
            }
        }
    })
    .await;
    apps[0].shutdown().await;
    // While the claim holds (OUTBOX_LEASE_SECS), the other replica does not take them.
    let now = Utc::now().timestamp_millis();
    assert!(
        apps[1]
            .store
            .contact_sync()
            .due(now + 2_000, 100)
            .await
            .unwrap()
            .is_empty(),
        "a claimed row was handed to a second worker"
    );
    apps[1].fake.set_down(false);
    eventually(
        Duration::from_secs(30),
        Duration::from_millis(200),
        || async {
            let (pending, synced, _) = apps[1].store.contact_sync().totals().await.unwrap();
            if synced == 5 {
                Ok(())
            } else {
                Err(format!("pending {pending}, synced {synced}"))
            }
        },
    )
    .await;
    assert_eq!(apps[1].fake.contacts(&site).len(), 5);
}

#[tokio::test]
async fn cold_replicas_ask_wix_for_one_token_and_replace_a_revoked_one_once() {
    let apps = spawn_replicas(3, &[]).await;
    let site = site(70);
    apps[0].fake.set_site_name(&site, "Bakery");
    let t = tenant(&site);
    let calls = apps.iter().flat_map(|app| {
        let t = &t;
        (0..50).map(move |_| app.app.wix.site_info(t, Duration::from_secs(20)))
    });
    for result in futures::future::join_all(calls).await {
        assert_eq!(result.unwrap().site_name.as_deref(), Some("Bakery"));
    }
    assert_eq!(apps[0].fake.token_requests(&site), 1, "3 × 50 cold calls");

    // Wix revokes it: every replica's next call gets 401, and one new token serves them all.
    apps[0].fake.revoke_app_tokens(&site);
    let calls = apps.iter().flat_map(|app| {
        let t = &t;
        (0..20).map(move |_| app.app.wix.site_info(t, Duration::from_secs(20)))
    });
    for result in futures::future::join_all(calls).await {
        assert_eq!(result.unwrap().site_name.as_deref(), Some("Bakery"));
    }
    assert_eq!(apps[0].fake.token_requests(&site), 2, "replaced once");
}

#[tokio::test]
async fn the_retention_purge_runs_once_per_site_across_replicas() {
    let apps = spawn_replicas(3, &[]).await;
    let site = site(80);
    for i in 0..30 {
        apps[i % 3].submit(&site, Role::Visitor, "old").await;
    }
    let removed_at = Utc::now() - chrono::Duration::seconds(1);
    apps[0].webhook_ok(removed(&site, removed_at)).await;
    let later = removed_at + chrono::Duration::days(31);
    let runs = apps.iter().map(|app| purge_due(&app.store, 30, later));
    let reports: Vec<_> = futures::future::join_all(runs)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let purged: u64 = reports.iter().map(|r| r.instances).sum();
    let rows: u64 = reports.iter().map(|r| r.feedback_rows).sum();
    assert_eq!((purged, rows), (1, 30), "{reports:?}");
    // Later runs find nothing left to do.
    for app in &apps {
        let again = purge_due(&app.store, 30, later).await.unwrap();
        assert_eq!((again.instances, again.feedback_rows), (0, 0));
    }
}

#[tokio::test]
async fn a_visitor_spread_over_replicas_gets_one_burst() {
    let apps = spawn_replicas(3, &[("SUBMIT_RATE_PER_MINUTE", "1"), ("SUBMIT_BURST", "5")]).await;
    let visitor = instance(&site(90), Role::Visitor);
    let mut statuses = HashMap::<u16, usize>::new();
    for i in 0..15 {
        let r = apps[i % 3]
            .submit_as(&visitor, json!({ "message": format!("m{i}") }))
            .await;
        if r.status == 429 {
            r.assert_error(429, "too_many_requests");
        }
        *statuses.entry(r.status).or_default() += 1;
    }
    assert_eq!(statuses.get(&200), Some(&5), "{statuses:?}");
    assert_eq!(statuses.get(&429), Some(&10), "{statuses:?}");
}

#[tokio::test]
async fn concurrent_submissions_on_three_replicas_are_each_stored_once() {
    let apps = spawn_replicas(3, &[]).await;
    let site = site(95);
    let submissions = (0..600).map(|i| {
        let app = &apps[i % 3];
        let visitor = instance(&site, Role::Visitor);
        async move {
            app.submit_as(&visitor, json!({ "message": format!("m{i}") }))
                .await
        }
    });
    let replies = futures::future::join_all(submissions).await;
    let mut acknowledged = HashSet::new();
    for r in &replies {
        assert_eq!(r.status, 200, "no 5xx, nothing refused: {}", r.body);
        assert!(acknowledged.insert(r.body["id"].as_str().unwrap().to_owned()));
    }
    let stored = apps[1].stored_items(&site, 600).await;
    let stored_ids: Vec<String> = stored.into_iter().map(|item| item.id).collect();
    let unique: HashSet<String> = stored_ids.iter().cloned().collect();
    assert_eq!(stored_ids.len(), unique.len(), "a row stored twice");
    assert_eq!(unique, acknowledged);
}
