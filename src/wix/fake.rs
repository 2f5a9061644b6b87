//! A faithful in-process fake of the Wix REST API, for tests and dev mode.
//!
//! The machines this app runs on in development and CI cannot reach any Wix host, yet the app
//! must talk to Wix (token info, client_credentials tokens, app instance, contacts). `FakeWix`
//! serves those endpoints over real HTTP with Wix's payloads, status codes, error bodies and
//! `X-Wix-Request-Id`, keeps per-instance data, and lets tests inject what real Wix does on a bad
//! day: failed calls (with `Retry-After`), latency, an outage, revoked tokens. Counters let tests
//! assert how many calls the client really made (single-flight, caching, retries).
//!
//! Endpoints (at the router root): `POST /oauth2/token`, `POST /oauth2/token-info`,
//! `GET /apps/v1/instance`, `POST /contacts/v4/contacts`, `POST /contacts/v4/contacts/query`.
//! Control endpoints for the `/dev` page and browser tests live under `/_fake/` (see
//! [`FakeWix::router`]); faults, latency and outages never apply to them.
//!
//! Tokens are opaque, shaped like Wix's own (`OauthNG.JWS.<…>.<…>`): they contain more than one
//! `.`, so they can never be mistaken for a signed `instance` (`<signature>.<data>`). Neither
//! tokens nor the app secret are ever logged.

mod api;
mod control;
mod error;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::http::HeaderValue;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Serialize;

/// `expires_in` of client_credentials tokens unless [`FakeWix::set_token_ttl`] says otherwise
/// (Wix reports 4 hours).
pub const DEFAULT_TOKEN_TTL_SECS: u64 = 14_400;
/// `instance.appName` in Get App Instance.
pub const APP_NAME: &str = "Feedback inbox";
/// The response header Wix puts on every answer.
pub const REQUEST_ID_HEADER: &str = "x-wix-request-id";

/// Subject types Token Info reports.
pub const SUBJECT_TYPES: [&str; 5] = ["USER", "MEMBER", "VISITOR", "APP", "UNKNOWN"];

/// A contact as the fake stores it (what tests assert on).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FakeContact {
    pub id: String,
    /// The primary (first) email, as given.
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub revision: u64,
}

/// The fake Wix. Cheap to clone; all clones share one state.
#[derive(Clone)]
pub struct FakeWix {
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for FakeWix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("FakeWix")
            .field("app_id", &state.app_id)
            .field("app_secret", &"<redacted>")
            .field("tokens", &state.tokens.len())
            .finish_non_exhaustive()
    }
}

struct State {
    app_id: String,
    app_secret: String,
    token_ttl_secs: u64,
    latency: Duration,
    down: bool,
    faults: VecDeque<Fault>,
    tokens: HashMap<String, Token>,
    sites: HashMap<String, Site>,
    contacts: HashMap<String, Vec<StoredContact>>,
    counters: Counters,
}

#[derive(Default, Serialize)]
struct Counters {
    token_requests: HashMap<String, usize>,
    token_info_requests: usize,
    requests: HashMap<String, usize>,
}

#[derive(Debug, Clone, Copy)]
struct Fault {
    remaining: usize,
    status: u16,
    retry_after_secs: Option<u64>,
}

#[derive(Debug, Clone)]
struct Token {
    instance_id: String,
    subject_type: String,
    subject_id: String,
    client_id: String,
    iat: i64,
    exp: i64,
    revoked: bool,
}

impl Token {
    fn active(&self, now: i64) -> bool {
        !self.revoked && now < self.exp
    }
}

struct Site {
    site_id: String,
    name: String,
    /// `instance.billing.packageName`; `None` = free (`isFree: true`, no `billing`).
    plan: Option<String>,
}

#[derive(Debug, Clone)]
struct StoredContact {
    contact: FakeContact,
    emails: Vec<StoredEmail>,
    created: String,
}

#[derive(Debug, Clone)]
struct StoredEmail {
    id: String,
    tag: String,
    email: String,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// An opaque token in the shape of Wix's (`OauthNG.JWS.…`).
fn new_token() -> String {
    format!(
        "OauthNG.JWS.{}.{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

impl FakeWix {
    pub fn new(app_id: &str, app_secret: &str) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                app_id: app_id.to_owned(),
                app_secret: app_secret.to_owned(),
                token_ttl_secs: DEFAULT_TOKEN_TTL_SECS,
                latency: Duration::ZERO,
                down: false,
                faults: VecDeque::new(),
                tokens: HashMap::new(),
                sites: HashMap::new(),
                contacts: HashMap::new(),
                counters: Counters::default(),
            })),
        }
    }

    /// A poisoned lock only means a panic elsewhere while holding it; the data is still usable
    /// and the fake must keep answering.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// All endpoints at the router root:
    ///
    /// - Wix: `POST /oauth2/token`, `POST /oauth2/token-info`, `GET /apps/v1/instance`,
    ///   `POST /contacts/v4/contacts`, `POST /contacts/v4/contacts/query`.
    /// - Control (JSON in and out): `POST /_fake/access-token {instance_id, subject_type,
    ///   subject_id?, ttl_secs?, client_id?}` → `{access_token}`; `POST /_fake/faults {count, status,
    ///   retry_after_secs?}`; `POST /_fake/down {down}`; `POST /_fake/latency {millis}`;
    ///   `POST /_fake/site-name {instance_id, name}`; `POST /_fake/plan {instance_id, plan}`; `POST /_fake/revoke {instance_id}`;
    ///   `GET /_fake/counters`; `GET /_fake/contacts?instance_id=X` → `{contacts}`.
    ///
    /// Paths are counted by their Wix name, so the router may also be nested under a prefix.
    pub fn router(&self) -> Router {
        Router::new()
            .route(api::TOKEN, post(api::token))
            .route(api::TOKEN_INFO, post(api::token_info))
            .route(api::INSTANCE, get(api::instance))
            .route(api::CONTACTS, post(api::create_contact))
            .route(api::CONTACTS_QUERY, post(api::query_contacts))
            .route("/_fake/access-token", post(control::access_token))
            .route("/_fake/faults", post(control::faults))
            .route("/_fake/down", post(control::down))
            .route("/_fake/latency", post(control::latency))
            .route("/_fake/site-name", post(control::site_name))
            .route("/_fake/plan", post(control::plan))
            .route("/_fake/revoke", post(control::revoke))
            .route("/_fake/counters", get(control::counters))
            .route("/_fake/contacts", get(control::contacts))
            .fallback(api::not_found)
            .method_not_allowed_fallback(api::method_not_allowed)
            .layer(axum::middleware::map_response(with_request_id))
            .with_state(self.clone())
    }

    /// Binds 127.0.0.1:0, serves [`router`](Self::router) in a tokio task and returns the base
    /// URL, like `http://127.0.0.1:PORT`.
    ///
    /// # Panics
    /// If no loopback port can be bound (the environment is broken, not the input).
    pub async fn spawn(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("FakeWix: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("FakeWix: local address");
        let router = self.router();
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::error!(%error, "FakeWix server stopped");
            }
        });
        format!("http://{addr}")
    }

    // ----- fault injection (Wix endpoints only, never /_fake/*) -----

    /// The next `n` Wix API calls answer `status` with a Wix-shaped error body, plus
    /// `Retry-After: <secs>` if given. Calls queue up behind faults already pending. A status
    /// outside 100..=999 is answered as 500.
    pub fn fail_next(&self, n: usize, status: u16, retry_after_secs: Option<u64>) {
        if n == 0 {
            return;
        }
        self.lock().faults.push_back(Fault {
            remaining: n,
            status,
            retry_after_secs,
        });
    }

    /// Every Wix API call sleeps this long before anything else (after being counted).
    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }

    /// While true, every Wix API call answers 503 (pending faults are not consumed meanwhile).
    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }

    /// `expires_in` of client_credentials tokens issued from now on.
    pub fn set_token_ttl(&self, secs: u64) {
        self.lock().token_ttl_secs = secs;
    }

    /// App tokens (subject `APP`, this app's client id) already issued for the instance get 401
    /// from now on, and Token Info reports them inactive. New tokens work.
    pub fn revoke_app_tokens(&self, instance_id: &str) {
        let mut state = self.lock();
        let app_id = state.app_id.clone();
        for token in state.tokens.values_mut() {
            if token.instance_id == instance_id
                && token.subject_type == "APP"
                && token.client_id == app_id
            {
                token.revoked = true;
            }
        }
    }

    // ----- counters -----

    /// `POST /oauth2/token` calls naming this `instance_id`, successful or not (faulted too).
    pub fn token_requests(&self, instance_id: &str) -> usize {
        self.lock()
            .counters
            .token_requests
            .get(instance_id)
            .copied()
            .unwrap_or(0)
    }

    /// `POST /oauth2/token-info` calls, successful or not.
    pub fn token_info_requests(&self) -> usize {
        self.lock().counters.token_info_requests
    }

    /// All calls to this Wix path (e.g. `/contacts/v4/contacts`), whatever their outcome.
    /// Unknown paths are counted too; `/_fake/*` control calls are not.
    pub fn requests(&self, path: &str) -> usize {
        self.lock()
            .counters
            .requests
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    // ----- data -----

    /// A token like a Wix frontend (`fetchWithAuth`) would hold, issued to this app.
    /// `subject_type` is one of USER, MEMBER, VISITOR, APP, UNKNOWN (stored uppercased);
    /// `ttl_secs` may be negative (already expired).
    pub fn mint_access_token(
        &self,
        instance_id: &str,
        subject_type: &str,
        subject_id: &str,
        ttl_secs: i64,
    ) -> String {
        let client_id = self.lock().app_id.clone();
        self.insert_token(instance_id, subject_type, subject_id, &client_id, ttl_secs)
    }

    /// A visitor token issued to another app (`clientId` is `client_id`, not this app's id).
    pub fn mint_foreign_access_token(&self, instance_id: &str, client_id: &str) -> String {
        let subject = uuid::Uuid::new_v4().to_string();
        self.insert_token(instance_id, "VISITOR", &subject, client_id, 3600)
    }

    fn insert_token(
        &self,
        instance_id: &str,
        subject_type: &str,
        subject_id: &str,
        client_id: &str,
        ttl_secs: i64,
    ) -> String {
        let iat = now();
        let token = new_token();
        let mut state = self.lock();
        state.site(instance_id);
        state.tokens.insert(
            token.clone(),
            Token {
                instance_id: instance_id.to_owned(),
                subject_type: subject_type.to_ascii_uppercase(),
                subject_id: subject_id.to_owned(),
                client_id: client_id.to_owned(),
                iat,
                exp: iat.saturating_add(ttl_secs),
                revoked: false,
            },
        );
        token
    }

    /// `site.siteDisplayName` for the instance (default: `Demo site <first 8 chars of id>`).
    pub fn set_site_name(&self, instance_id: &str, name: &str) {
        self.lock().site(instance_id).name = name.to_owned();
    }

    /// The instance's paid plan (`instance.billing.packageName`); `None` = the free plan.
    pub fn set_plan(&self, instance_id: &str, plan: Option<&str>) {
        self.lock().site(instance_id).plan = plan.map(str::to_owned);
    }

    /// The instance's contacts, oldest first.
    pub fn contacts(&self, instance_id: &str) -> Vec<FakeContact> {
        self.lock()
            .contacts
            .get(instance_id)
            .map(|list| list.iter().map(|c| c.contact.clone()).collect())
            .unwrap_or_default()
    }
}

impl State {
    /// The site behind an instance, created on first use (every instance is "installed").
    fn site(&mut self, instance_id: &str) -> &mut Site {
        self.sites
            .entry(instance_id.to_owned())
            .or_insert_with(|| Site {
                site_id: uuid::Uuid::new_v4().to_string(),
                name: format!(
                    "Demo site {}",
                    instance_id.chars().take(8).collect::<String>()
                ),
                plan: None,
            })
    }
}

/// Wix puts a request id on every response, errors included.
async fn with_request_id(mut response: Response) -> Response {
    let id = uuid::Uuid::new_v4().to_string();
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}
