//! A self-hosted Wix app in one Leptos crate.
//!
//! The crate builds twice: with `ssr` it is the axum server (auth, store, HTTP edges), with
//! `hydrate` it is the wasm frontend. Modules that only make sense on the server are gated at
//! the module boundary, so the browser bundle never contains the verifier, the store or secrets.

pub mod api;
pub mod app;
pub mod model;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod auth;
#[cfg(feature = "ssr")]
pub mod jobs;
#[cfg(feature = "ssr")]
pub mod limiter;
#[cfg(feature = "ssr")]
pub mod secret;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod store;
/// Shared test fixtures (ids, the fixed clock, signing): for tests and `dev-tools` builds only.
#[cfg(all(feature = "ssr", any(test, feature = "dev-tools")))]
pub mod testing;
#[cfg(feature = "ssr")]
pub mod wix;

/// Entry point of the wasm bundle: hydrates the server-rendered page. `hydrate_lazy` waits for a
/// lazy route's chunk (see `pages/routes.rs`) before hydrating that route.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // The production wasm aborts on a panic without running any hook (`-Cpanic=immediate-abort`,
    // Makefile): the hook would only be dead weight there.
    #[cfg(not(panic = "immediate-abort"))]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(app::App);
}
