//! The whole application, wired once: used by `main` and by every integration test.
//!
//! [`Application::build`] opens the store, binds the listener and builds the state and router;
//! [`Application::run_until_stopped`] serves until a shutdown signal while the background work
//! runs beside it (the contact-sync worker, the retention purge), then drains and closes the
//! store. Tests start as many independent applications in one process as they like (each binds
//! its own port, port 0 = any free one), and run exactly what production runs.

use std::future::Future;
use std::net::SocketAddr;

use leptos::config::LeptosOptions;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use super::serve::{bind, serve_on, ServeLimits};
use super::{router, webhooks, AppEnv, AppState, Config};
use crate::store::Store;

pub struct Application {
    state: AppState,
    listener: TcpListener,
    addr: SocketAddr,
    limits: ServeLimits,
    leptos_options: LeptosOptions,
}

impl Application {
    /// Opens (and migrates) the database and listens on `leptos_options.site_addr`. Errors are
    /// one line for the operator.
    pub async fn build(config: Config, leptos_options: LeptosOptions) -> Result<Self, String> {
        if config.wix.uses_dev_credentials {
            tracing::warn!(app_id = %config.wix.app_id, "APP_ENV=dev: using the built-in development app id/secret; set WIX_APP_ID and WIX_APP_SECRET to use your app's");
        }
        if config.webhooks.uses_dev_key {
            tracing::warn!("APP_ENV=dev: webhooks are verified with the committed development key (dev/webhook-dev-public.pem); set WIX_WEBHOOK_PUBLIC_KEY to use your app's");
        }
        let store = Store::open_with(&config.store.database_url, config.store_options())
            .await
            .map_err(|e| format!("database {}: {e}", config.store.database_url))?;
        let wanted = leptos_options.site_addr;
        let listener = bind(wanted).map_err(|e| format!("cannot listen on {wanted}: {e}"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("cannot listen on {wanted}: {e}"))?;
        let limits = ServeLimits::from_config(&config);
        let state = AppState::new(config, store, addr);
        #[cfg(feature = "dev-tools")]
        if state.fake_wix.is_some() {
            tracing::info!(base = %state.wix.base_url(), "APP_ENV=dev: Wix API calls go to the in-process fake Wix; set WIX_API_BASE to change");
        }
        Ok(Self {
            state,
            listener,
            addr,
            limits,
            leptos_options,
        })
    }

    /// Where it listens (the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The state every handler sees (store, verifiers, Wix client, …).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then drains for at most `SHUTDOWN_GRACE_SECS`, lets
    /// the contact-sync worker finish its batch and closes the store. Dropping the future (a
    /// test's simulated crash) stops the background tasks with it.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        let Self {
            state,
            listener,
            addr,
            limits,
            leptos_options,
        } = self;
        let store = state.store.clone();
        let config = state.config.clone();
        // Aborted when dropped: background work never outlives its application.
        let mut background = JoinSet::new();
        let (stop_worker, worker_stopped) = tokio::sync::oneshot::channel::<()>();
        background.spawn(state.contact_sync.clone().run(async {
            let _ = worker_stopped.await;
        }));
        let purge = background.spawn(webhooks::purge_loop(
            store.clone(),
            config.store.data_retention_days,
        ));
        match config.env {
            AppEnv::Dev => tracing::info!(
                "listening on http://{addr} — open http://{addr}/dev to play the Wix host"
            ),
            AppEnv::Prod => tracing::info!("listening on http://{addr}"),
        }
        serve_on(listener, router(state, leptos_options), limits, shutdown).await;
        purge.abort();
        let _ = stop_worker.send(());
        while background.join_next().await.is_some() {}
        store.close().await;
        tracing::info!("stopped");
    }
}
