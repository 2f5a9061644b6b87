//! The axum server: state, router, HTTP edges, webhooks and the command line.

mod application;
pub mod cli;
pub mod client_addr;
pub mod config;
#[cfg(feature = "dev-tools")]
mod dev_host;
pub(crate) mod http;
pub mod rate_limits;
pub mod serve;
mod static_assets;
pub mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use axum::routing::{get, post};
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};

use crate::app::{shell, App};
use tower_http::limit::RequestBodyLimitLayer;

use crate::auth::{
    AccessTokenOptions, AccessTokenVerifier, Authenticator, InstanceVerifier, WebhookVerifier,
};
use crate::jobs::contact_sync::ContactSyncWorker;
use crate::store::Store;
#[cfg(feature = "dev-tools")]
use crate::wix::fake::FakeWix;
use crate::wix::{WixClient, WixClientOptions, DEFAULT_API_BASE};
pub use application::Application;
pub use client_addr::{ClientAddr, ClientAddrResolver};
pub use config::{AppEnv, Config, ConfigError, LogFormat};
pub use rate_limits::{RateLimitSettings, RateLimits};
pub use serve::{serve_on, ServeLimits};

/// Where the in-process fake Wix is mounted in dev when `WIX_API_BASE` is unset.
pub const FAKE_WIX_PATH: &str = "/_wix";

/// What every request handler and server function can reach. One reference count to clone:
/// axum clones the router state for every request (and Leptos once more for its context), so a
/// struct of a dozen handles cost a measurable share of a cheap request's CPU time.
#[derive(Clone)]
pub struct AppState(Arc<AppParts>);

impl std::ops::Deref for AppState {
    type Target = AppParts;

    fn deref(&self) -> &AppParts {
        &self.0
    }
}

/// The parts of [`AppState`].
pub struct AppParts {
    pub config: Arc<Config>,
    pub store: Store,
    pub auth: Authenticator,
    pub wix: WixClient,
    pub contact_sync: ContactSyncWorker,
    /// Dev only, when `WIX_API_BASE` is unset: the fake Wix this process serves and calls.
    #[cfg(feature = "dev-tools")]
    pub fake_wix: Option<FakeWix>,
    pub webhook_verifier: Arc<WebhookVerifier>,
    pub rate_limits: RateLimits,
    pub health: Arc<http::HealthProbe>,
}

impl AppState {
    /// `public_addr` is where this server listens; the in-process fake Wix is reached there.
    pub fn new(config: Config, store: Store, public_addr: SocketAddr) -> Self {
        #[cfg(feature = "dev-tools")]
        let fake_wix = config.serves_fake_wix().then(|| {
            let secret = std::str::from_utf8(config.wix.app_secret.expose()).unwrap_or_default();
            FakeWix::new(&config.wix.app_id, secret)
        });
        #[cfg(feature = "dev-tools")]
        let api_base = match &fake_wix {
            Some(_) => format!("http://{public_addr}{FAKE_WIX_PATH}"),
            None => config
                .wix
                .api_base
                .clone()
                .unwrap_or_else(|| DEFAULT_API_BASE.to_owned()),
        };
        #[cfg(not(feature = "dev-tools"))]
        let api_base = {
            let _ = public_addr;
            config
                .wix
                .api_base
                .clone()
                .unwrap_or_else(|| DEFAULT_API_BASE.to_owned())
        };
        let instances = InstanceVerifier::new(
            config.wix.app_secret.expose(),
            config.wix.instance_max_age_secs,
        );
        let access_tokens = AccessTokenVerifier::new(
            &api_base,
            &config.wix.app_id,
            AccessTokenOptions {
                max_ttl: Duration::from_secs(config.wix.token_info_cache_secs),
                // One replica's share of the budget (see `REPLICAS`).
                calls_per_minute: (config.wix.token_info_per_minute / config.store.replicas).max(1),
                ..Default::default()
            },
        );
        let wix = WixClient::new(
            &api_base,
            &config.wix.app_id,
            config.wix.app_secret.clone(),
            store.clone(),
            WixClientOptions::default().shared_by(config.store.replicas),
        );
        let contact_sync = ContactSyncWorker::new(
            store.clone(),
            wix.clone(),
            Duration::from_secs(config.outbox.max_backoff_secs),
            Duration::from_secs(u64::from(config.outbox.max_age_hours) * 3600),
        )
        .with_idle_poll(Duration::from_secs(config.outbox.poll_secs));
        let rate_limits = RateLimits::new(RateLimitSettings {
            submit_per_minute: config.rate_limits.submit_rate_per_minute,
            submit_burst: config.rate_limits.submit_burst,
            submit_per_address_per_minute: config.rate_limits.submit_rate_per_address_per_minute,
            submit_burst_per_address: config.rate_limits.submit_burst_per_address,
            auth_failures_per_minute: config.rate_limits.auth_failures_per_minute,
        });
        let webhook_verifier =
            WebhookVerifier::new(config.webhooks.public_key.clone(), &config.wix.app_id);
        Self(Arc::new(AppParts {
            config: Arc::new(config),
            store,
            auth: Authenticator::new(instances, access_tokens),
            wix,
            contact_sync,
            #[cfg(feature = "dev-tools")]
            fake_wix,
            webhook_verifier: Arc::new(webhook_verifier),
            rate_limits,
            health: Arc::default(),
        }))
    }
}

/// Axum router state: Leptos' options plus ours; two reference counts to clone (per request).
#[derive(Clone)]
pub struct RouterState {
    pub leptos_options: Arc<LeptosOptions>,
    pub app: AppState,
}

impl FromRef<RouterState> for LeptosOptions {
    fn from_ref(state: &RouterState) -> Self {
        (*state.leptos_options).clone()
    }
}

impl FromRef<RouterState> for AppState {
    fn from_ref(state: &RouterState) -> Self {
        state.app.clone()
    }
}

/// The whole application: pages, `/api` server functions, `/healthz`, `/webhooks/wix`,
/// `/dev` (dev only), static files, wrapped in the HTTP edge layers.
pub fn router(app: AppState, leptos_options: LeptosOptions) -> Router {
    let routes = generate_route_list(App);
    let state = RouterState {
        leptos_options: Arc::new(leptos_options),
        app: app.clone(),
    };
    let context = {
        let app = app.clone();
        move || provide_context(app.clone())
    };

    let pkg_dir = std::path::Path::new(&*state.leptos_options.site_root)
        .join(&*state.leptos_options.site_pkg_dir);
    let pkg_path = format!("/{}", state.leptos_options.site_pkg_dir);
    let router = Router::new().route("/healthz", get(http::healthz)).route(
        crate::api::feedback::export::EXPORT_PATH,
        post(crate::api::feedback::export::export_csv),
    );
    let router =
        dev_tools(router, &app).nest_service(&pkg_path, static_assets::pkg_service(pkg_dir));
    let router = router
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = (*state.leptos_options).clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            RouterState,
            _,
        >(context, shell))
        .with_state(state)
        .layer(RequestBodyLimitLayer::new(http::MAX_BODY_BYTES));
    // The webhook route reads its body with its own, larger limit (and answers 413 in JSON).
    let webhooks = Router::new()
        .route(
            webhooks::WEBHOOK_PATH,
            post(webhooks::receive).fallback(webhooks::method_not_allowed),
        )
        .with_state(app.clone());
    http::edges(router.merge(webhooks), &app.config)
}

/// In dev, `/dev` and `/dev/webhook`; with the development app, the fake Wix under
/// [`FAKE_WIX_PATH`]. Builds without the `dev-tools` feature have neither.
#[cfg(feature = "dev-tools")]
fn dev_tools(mut router: Router<RouterState>, app: &AppState) -> Router<RouterState> {
    if app.config.is_dev() {
        router = router
            .route("/dev", get(dev_host::page))
            .route("/dev/webhook", post(dev_host::send_webhook));
    }
    if let Some(fake) = &app.fake_wix {
        router = router.nest_service(FAKE_WIX_PATH, fake.router());
    }
    router
}

#[cfg(not(feature = "dev-tools"))]
fn dev_tools(router: Router<RouterState>, _app: &AppState) -> Router<RouterState> {
    router
}

/// Logs to stderr, as text or JSON lines; `RUST_LOG` filters (default `info`).
pub fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a terminal: escape codes in a log file or collector are noise (and
    // formatting them is per-request work).
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

/// Builds the [`Application`] from `config` and serves until Ctrl-C / SIGTERM, then drains for
/// at most `SHUTDOWN_GRACE_SECS`.
pub async fn serve(config: Config) -> Result<(), String> {
    let mut leptos_options = leptos::config::get_configuration(None)
        .map_err(|e| format!("leptos configuration: {e}"))?
        .leptos_options;
    static_assets::adopt_hashed_names(&mut leptos_options);
    Application::build(config, leptos_options)
        .await?
        .run_until_stopped(shutdown_signal())
        .await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
