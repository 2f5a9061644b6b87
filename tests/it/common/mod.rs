//! A real server on a loopback port with a real SQLite file, for the HTTP tests.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use leptos::config::LeptosOptions;
use serde_json::Value;
use wix_app::auth::{sign_instance, InstanceClaims, InstanceVerifier, TenantId};
use wix_app::model::Role;
use wix_app::server::{AppState, Application, Config};
use wix_app::store::Store;
use wix_app::wix::fake::FakeWix;

pub const SECRET: &str = "integration-test-secret";
pub const APP_ID: &str = "4f6c2d1e-0000-4000-8000-0000000000aa";
pub const SITE_A: &str = "site-a-0000-4000-8000-000000000001";
pub const SITE_B: &str = "site-b-0000-4000-8000-000000000002";
/// Test-only RSA key pair (tests/fixtures); the server trusts the public half for webhooks.
pub const WEBHOOK_PRIVATE_KEY: &str = include_str!("../../fixtures/webhook-test-private.pem");
pub const WEBHOOK_PUBLIC_KEY: &str = include_str!("../../fixtures/webhook-test-public.pem");
/// A second test key pair the server does not trust.
pub const OTHER_PRIVATE_KEY: &str = include_str!("../../fixtures/webhook-other-private.pem");

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

pub fn instance(site: &str, role: Role) -> String {
    instance_signed_at(site, role, Utc::now())
}

pub fn instance_signed_at(site: &str, role: Role, at: chrono::DateTime<Utc>) -> String {
    let subject = format!("{}-{}", role.as_str(), site);
    InstanceClaims::for_role(site, APP_ID, role, &subject, at).sign(SECRET.as_bytes())
}

/// A tenant id, obtained the only way tests may: through the instance verifier.
pub fn tenant(site: &str) -> TenantId {
    InstanceVerifier::new(SECRET.as_bytes(), 0)
        .verify_at(&instance(site, Role::Owner), Utc::now())
        .unwrap()
        .tenant()
        .clone()
}

/// A lifecycle webhook body (`AppInstalled`, `AppRemoved`, …) for `site` issued `at`, signed
/// like Wix's testkit with the key the test server trusts.
pub fn webhook_event(event: &str, site: &str, at: chrono::DateTime<Utc>) -> String {
    wix_app::auth::sign_webhook(
        WEBHOOK_PRIVATE_KEY,
        event,
        site,
        &serde_json::json!({ "appId": APP_ID }),
        at,
    )
    .unwrap()
}

pub fn raw_instance(json: &str) -> String {
    sign_instance(SECRET.as_bytes(), json)
}

pub fn expired_instance(site: &str) -> String {
    instance_signed_at(site, Role::Owner, Utc::now() - Duration::days(2))
}

pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
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
        Self::reply(req.send().await.unwrap()).await
    }

    pub async fn reply(res: reqwest::Response) -> Reply {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn submit(&self, site: &str, role: Role, message: &str) -> String {
        let r = self
            .call(
                "/api/feedback/submit",
                Some(&instance(site, role)),
                serde_json::json!({ "message": message }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["id"].as_str().unwrap().to_owned()
    }

    pub async fn list(&self, site: &str, body: Value) -> Reply {
        self.call(
            "/api/feedback/list",
            Some(&instance(site, Role::Owner)),
            body,
        )
        .await
    }
}
