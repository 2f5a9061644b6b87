//! The framed pages as lazy routes: each is split into its own wasm chunk when the bundle is
//! built with `cargo leptos build --split` (every `make` target does). The dashboard's iframe
//! then downloads the shared core and the dashboard's chunk, not the widget's or the settings
//! panel's code; the server renders a `<link rel="preload">` for the route's chunk, so it loads
//! alongside the core instead of after it. Without `--split` (e.g. `cargo test`) they are
//! ordinary routes.
//!
//! No route loads data in `data()`: each page starts its own requests once hydrated, since
//! they carry the credential from the page's URL.

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

use super::{DashboardPage, SettingsPage, WidgetPage};

/// `/dashboard`: the site owner's inbox.
pub struct DashboardRoute;

#[lazy_route]
impl LazyRoute for DashboardRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <DashboardPage/> }.into_any()
    }
}

/// `/widget`: the visitors' feedback form.
pub struct WidgetRoute;

#[lazy_route]
impl LazyRoute for WidgetRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <WidgetPage/> }.into_any()
    }
}

/// `/settings`: the widget's settings panel.
pub struct SettingsRoute;

#[lazy_route]
impl LazyRoute for SettingsRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <SettingsPage/> }.into_any()
    }
}
