//! The support code of the HTTP tests: a real server on a loopback port with a real SQLite file
//! and its own fake Wix, requests and replies, and bounded paging and polling. The fixtures
//! (ids, the fixed clock, signed instances and webhooks, keys) are the crate's, defined once in
//! `wix_app::testing`, and re-exported here.

use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};

use leptos::config::LeptosOptions;
use serde_json::Value;
use wix_app::model::{FeedbackItem, Role, StatusFilter, LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT};
use wix_app::server::webhooks::WEBHOOK_PATH;
use wix_app::server::{AppState, Application, Config};
use wix_app::store::{ListQuery, PageCursor, Store};
use wix_app::wix::fake::FakeWix;

pub use wix_app::testing::*;

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub db_path: std::path::PathBuf,
    pub database_url: String,
    /// The fake Wix this app talks to (`WIX_API_BASE` points at it).
    pub fake: FakeWix,
    pub app: AppState,
    dir: Option<tempfile::TempDir>,
    /// Starts the application's graceful shutdown (like SIGTERM).
    drain: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    /// The server's own store, to drive the purge job with an injected clock.
    pub store: Store,
}

pub async fn spawn() -> TestApp {
    spawn_with(&[]).await
}

/// Starts the app with `vars` on top of a test configuration, with its own fake Wix.
pub async fn spawn_with(vars: &[(&str, &str)]) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    // A nested folder that does not exist yet: the store must create it.
    let db_path = dir.path().join("nested").join("app.db");
    let fake = FakeWix::new(APP_ID, SECRET);
    let fake_base = fake.spawn().await;
    start(vars, dir, db_path, fake, &fake_base).await
}

/// Starts `n` applications at the same moment on one new PostgreSQL database and one fake Wix:
/// replicas of one deployment behind a load balancer. Needs `TEST_DATABASE=postgres`.
pub async fn spawn_replicas(n: usize, vars: &[(&str, &str)]) -> Vec<TestApp> {
    assert!(
        on_postgres(),
        "replicas share a PostgreSQL database: run with TEST_DATABASE=postgres and \
         TEST_POSTGRES_URL (scripts/with-postgres.sh sets both up)"
    );
    let shared = tempfile::tempdir().unwrap();
    let db_path = shared.path().join("replicas.db");
    let fake = FakeWix::new(APP_ID, SECRET);
    let fake_base = fake.spawn().await;
    // Created once, before the replicas race to migrate it.
    database_url_for(&db_path).await;
    let starts = (0..n).map(|_| {
        start(
            vars,
            tempfile::tempdir().unwrap(),
            db_path.clone(),
            fake.clone(),
            &fake_base,
        )
    });
    futures::future::join_all(starts).await
}

/// Starts the app again on the same database and fake Wix (a restart).
pub async fn restart(mut old: TestApp) -> TestApp {
    old.shutdown().await;
    let dir = old.dir.take().unwrap();
    let fake_base = old.app.wix.base_url().to_owned();
    start(&[], dir, old.db_path.clone(), old.fake.clone(), &fake_base).await
}

async fn start(
    vars: &[(&str, &str)],
    dir: tempfile::TempDir,
    db_path: std::path::PathBuf,
    fake: FakeWix,
    fake_base: &str,
) -> TestApp {
    let mut env: HashMap<String, String> = [
        ("APP_ENV", "dev"),
        ("WIX_APP_ID", APP_ID),
        ("WIX_APP_SECRET", SECRET),
        ("ALLOWED_ORIGINS", "https://shop.example.com"),
        ("OUTBOX_MAX_BACKOFF_SECS", "1"),
        // Rate limits are exercised in tests/hardening.rs; elsewhere they would only get in the way.
        ("SUBMIT_RATE_PER_MINUTE", "100000"),
        ("SUBMIT_BURST", "100000"),
        ("AUTH_FAILURES_PER_MINUTE", "100000"),
        ("SUBMIT_RATE_PER_ADDRESS_PER_MINUTE", "100000"),
        ("SUBMIT_BURST_PER_ADDRESS", "100000"),
        ("TOKEN_INFO_PER_MINUTE", "100000"),
        // The free plan's monthly limit is exercised in tests/it/plans.rs.
        ("FREE_MONTHLY_SUBMISSIONS", "1000000"),
        ("WIX_WEBHOOK_PUBLIC_KEY", WEBHOOK_PUBLIC_KEY),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let database_url = database_url_for(&db_path).await;
    env.insert("DATABASE_URL".into(), database_url.clone());
    env.insert("DATABASE_POOL_SIZE".into(), "4".into());
    // A restart here is a crash (the server task is aborted): on PostgreSQL the rows its worker
    // had claimed wait for their lease to expire before another worker takes them.
    env.insert("OUTBOX_LEASE_SECS".into(), "3".into());
    env.insert("WIX_API_BASE".into(), fake_base.to_owned());
    for (k, v) in vars {
        env.insert(k.to_string(), v.to_string());
    }
    let config = Config::from_lookup(|k| env.get(k).cloned()).expect("test config");
    let options = LeptosOptions::builder()
        .output_name("wix-app")
        .site_root("target/site")
        .site_addr(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .build();
    // The production wiring: store, state, router, serving path, worker and purge loop.
    let application = Application::build(config, options)
        .await
        .expect("application starts");
    let addr = application.addr();
    let state = application.state().clone();
    let (drain, drained) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until_stopped(async {
        // A dropped TestApp is not a shutdown signal.
        if drained.await.is_err() {
            std::future::pending::<()>().await;
        }
    }));
    TestApp {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        db_path,
        database_url,
        fake,
        store: state.store.clone(),
        app: state,
        dir: Some(dir),
        drain: Some(drain),
        server: Some(server),
    }
}

/// Which engine the tests run on: `TEST_DATABASE=postgres` selects PostgreSQL at
/// `TEST_POSTGRES_URL` (a server the tests may create databases on; `scripts/with-postgres.sh`
/// starts a throwaway one), anything else the SQLite file at `db_path`.
pub fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE").is_ok_and(|v| v == "postgres")
}

/// The `DATABASE_URL` of a test's database: the SQLite file at `db_path`, or on PostgreSQL a
/// new empty database named after that path (the same `db_path` gives the same database, so a
/// restart finds its data).
pub async fn database_url_for(db_path: &std::path::Path) -> String {
    if !on_postgres() {
        return format!("sqlite://{}", db_path.display());
    }
    use sqlx::{Connection as _, Executor as _};
    let admin = std::env::var("TEST_POSTGRES_URL")
        .expect("TEST_DATABASE=postgres needs TEST_POSTGRES_URL (see scripts/with-postgres.sh)");
    let mut url = reqwest::Url::parse(&admin).expect("TEST_POSTGRES_URL is a URL");
    let name = format!("t{:016x}", {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        db_path.hash(&mut h);
        h.finish()
    });
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("TEST_POSTGRES_URL answers");
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut conn)
            .await
            .unwrap();
    if !exists {
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("CREATE DATABASE");
    }
    url.set_path(&name);
    url.to_string()
}

/// An HTTP answer: status, headers and the body as JSON (a JSON string if it was not JSON).
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// Reads a whole response; a body that is not JSON becomes a JSON string.
    pub async fn read(res: reqwest::Response) -> Reply {
        let (status, headers, text) = Self::parts(res).await;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Reads a whole response whose body must be JSON (every answer of the fake Wix).
    pub async fn read_json(res: reqwest::Response) -> Reply {
        let (status, headers, text) = Self::parts(res).await;
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("not JSON ({e}), status {status}: {text:?}"));
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn parts(res: reqwest::Response) -> (u16, reqwest::header::HeaderMap, String) {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        (status, headers, res.text().await.unwrap())
    }

    pub fn code(&self) -> &str {
        self.body["error"].as_str().unwrap_or("<none>")
    }

    /// Asserts the standard error shape and returns the code.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "status; body {}", self.body);
        assert_eq!(self.code(), code, "code; body {}", self.body);
        assert!(
            self.body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "message missing: {}",
            self.body
        );
        let ct = self
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(ct.starts_with("application/json"), "content-type {ct}");
    }

    /// The `items` of a list page.
    pub fn items(&self) -> &[Value] {
        self.body["items"]
            .as_array()
            .unwrap_or_else(|| panic!("no items: {}", self.body))
    }

    /// The ids of a list page's items, in order.
    pub fn ids(&self) -> Vec<String> {
        self.items()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect()
    }

    /// The item with this id on a list page.
    pub fn item(&self, id: &str) -> &Value {
        self.items()
            .iter()
            .find(|i| i["id"] == id)
            .unwrap_or_else(|| panic!("{id} not listed: {}", self.body))
    }
}

impl TestApp {
    /// Stops the worker and the server (like a crash: no drain) and closes the store.
    pub async fn shutdown(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
            let _ = server.await;
        }
        self.app.store.close().await;
    }

    /// Starts a graceful shutdown like SIGTERM (stop accepting, drain for at most
    /// `SHUTDOWN_GRACE_SECS`) and stops the worker; the handle ends when the server has returned.
    pub fn begin_shutdown(&mut self) -> Option<tokio::task::JoinHandle<()>> {
        if let Some(drain) = self.drain.take() {
            let _ = drain.send(());
        }
        self.server.take()
    }

    /// `host:port` of the server, for raw sockets.
    pub fn addr(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// `POST path` with a JSON body and an optional `Authorization`.
    pub async fn call(&self, path: &str, auth: Option<&str>, body: Value) -> Reply {
        self.call_raw(path, auth, "application/json", body.to_string())
            .await
    }

    pub async fn call_raw(
        &self,
        path: &str,
        auth: Option<&str>,
        content_type: &str,
        body: String,
    ) -> Reply {
        let mut req = self
            .client
            .post(self.url(path))
            .header("content-type", content_type)
            .header("accept", "application/json")
            .body(body);
        if let Some(auth) = auth {
            req = req.header("authorization", auth);
        }
        Reply::read(req.send().await.unwrap()).await
    }

    /// `POST /api/feedback/submit` with the credential `auth`.
    pub async fn submit_as(&self, auth: &str, body: Value) -> Reply {
        self.call("/api/feedback/submit", Some(auth), body).await
    }

    /// `POST /api/site/summary` with the credential `auth`.
    pub async fn summary_as(&self, auth: &str) -> Reply {
        self.call("/api/site/summary", Some(auth), serde_json::json!({}))
            .await
    }

    /// `site`'s summary, as its owner.
    pub async fn summary(&self, site: &str) -> Reply {
        self.summary_as(&instance(site, Role::Owner)).await
    }

    /// `POST /api/feedback/set_status` with the credential `auth`.
    pub async fn set_status_as(&self, auth: &str, id: &str, status: &str) -> Reply {
        let body = serde_json::json!({ "id": id, "status": status });
        self.call("/api/feedback/set_status", Some(auth), body)
            .await
    }

    /// `POST /api/feedback/delete` with the credential `auth`.
    pub async fn delete_as(&self, auth: &str, id: &str) -> Reply {
        let body = serde_json::json!({ "id": id });
        self.call("/api/feedback/delete", Some(auth), body).await
    }

    /// Submits `body` as `role` of `site`; asserts it was stored and returns its id.
    pub async fn submit_json(&self, site: &str, role: Role, body: Value) -> String {
        let r = self.submit_as(&instance(site, role), body).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["id"].as_str().unwrap().to_owned()
    }

    pub async fn submit(&self, site: &str, role: Role, message: &str) -> String {
        self.submit_json(site, role, serde_json::json!({ "message": message }))
            .await
    }

    /// One page of `site`'s list, as its owner.
    pub async fn list(&self, site: &str, body: Value) -> Reply {
        self.call(
            "/api/feedback/list",
            Some(&instance(site, Role::Owner)),
            body,
        )
        .await
    }

    /// Every page of `site`'s list for `body`, each `next_cursor` sent back as `cursor`, for a
    /// list of at most `max_items` (see [`all_pages`]). Asserts every page is a 200.
    pub async fn list_pages(&self, site: &str, body: Value, max_items: usize) -> Vec<Reply> {
        let limit = body["limit"]
            .as_u64()
            .map_or(LIST_DEFAULT_LIMIT as usize, |l| l as usize);
        all_pages(max_items, limit, |cursor: Option<Value>| {
            let mut body = body.clone();
            if let Some(cursor) = cursor {
                body["cursor"] = cursor;
            }
            async move {
                let page = self.list(site, body).await;
                assert_eq!(page.status, 200, "{}", page.body);
                let next = Some(page.body["next_cursor"].clone()).filter(|c| !c.is_null());
                (page, next)
            }
        })
        .await
    }

    /// Every feedback item of `site`, newest first, read from the store (the owner's list
    /// answers 403 while the site has removed the app), for a site of at most `max_items`.
    pub async fn stored_items(&self, site: &str, max_items: usize) -> Vec<FeedbackItem> {
        let tenant = tenant(site);
        let pages = all_pages(max_items, LIST_MAX_LIMIT as usize, |cursor| {
            let query = ListQuery {
                filter: StatusFilter::All,
                limit: LIST_MAX_LIMIT,
                cursor,
                comp_id: None,
            };
            let tenant = &tenant;
            async move {
                let page = self.store.feedback().list(tenant, &query).await.unwrap();
                let next = page
                    .next_cursor
                    .map(|c| PageCursor::decode(&c).expect("the store's own cursor"));
                (page.items, next)
            }
        })
        .await;
        pages.into_iter().flatten().collect()
    }

    /// Submits the `/dev` page's webhook form: `event` for demo site `site` (`a` or `b`), signed
    /// with the development key; follows the redirect back to `/dev`.
    pub async fn dev_webhook(&self, site: &str, event: &str) -> reqwest::Response {
        self.client
            .post(self.url("/dev/webhook"))
            .form(&[("site", site), ("event", event)])
            .send()
            .await
            .unwrap()
    }

    /// Delivers a webhook body to `POST /webhooks/wix`.
    pub async fn webhook(&self, body: String) -> Reply {
        self.call_raw(WEBHOOK_PATH, None, "text/plain", body).await
    }

    /// Delivers a webhook body; asserts it was acknowledged and returns its outcome.
    pub async fn webhook_ok(&self, body: String) -> String {
        let r = self.webhook(body).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["status"], "ok", "{}", r.body);
        r.body["outcome"].as_str().unwrap().to_owned()
    }
}

/// Pages through a cursor-paged list: `fetch(cursor)` answers a page and the cursor of the next
/// page (`None` after the last), starting from `None`.
///
/// Bounded: a list of at most `max_items` with `limit` a page ends within
/// `max_items / limit + 1` pages, and one that has not ended by then fails the test, instead of
/// paging on without end (with its tenant filter removed, a list query once paged a test to
/// 15 GB of memory).
pub async fn all_pages<C, P, F, Fut>(max_items: usize, limit: usize, mut fetch: F) -> Vec<P>
where
    F: FnMut(Option<C>) -> Fut,
    Fut: Future<Output = (P, Option<C>)>,
{
    let max_pages = max_items / limit.max(1) + 1;
    let mut pages = Vec::new();
    let mut cursor = None;
    loop {
        let (page, next) = fetch(cursor).await;
        pages.push(page);
        if next.is_none() {
            return pages;
        }
        assert!(
            pages.len() < max_pages,
            "the list did not end within {max_pages} pages of {limit}, though it holds at most \
             {max_items} items: its cursor does not run out"
        );
        cursor = next;
    }
}

/// Calls `check` every `every` until it answers `Ok`, for at most `within` (a check that is
/// still running then is cut off); then fails with the last `Err`, which says what was awaited
/// and what was seen.
pub async fn eventually<T, F, Fut>(within: Duration, every: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let not_yet = match tokio::time::timeout(left, check()).await {
            Ok(Ok(done)) => return done,
            Ok(Err(not_yet)) => not_yet,
            Err(_) => "a check still running at the deadline".to_owned(),
        };
        assert!(
            Instant::now() < deadline,
            "not within {within:?}: {not_yet}"
        );
        tokio::time::sleep(every).await;
    }
}
