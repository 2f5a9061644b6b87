//! The HTML shell and the router: which page answers which path. `FlatRoutes`: no page
//! nests another, and the flat router is lighter in the wasm than the nested one.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{FlatRoutes, Route, Router};
use leptos_router::{Lazy, StaticSegment};

use crate::pages::{DashboardRoute, HomePage, NotFoundPage, SettingsRoute, WidgetRoute};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                // Before the stylesheet, which would hold an inline script back until it loads.
                {crate::pages::early_requests_script()}
                <AutoReload options=options.clone()/>
                // `wix-app.<hash>.css` when the build hashed file names (server/static_assets.rs).
                <HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // `<body data-hydrated="true">` once the wasm has taken the page over (effects run after
    // hydration, and never on the server): what the browser tests wait for instead of racing it.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Title text="Feedback inbox"/>
        <Router>
            <main>
                <FlatRoutes fallback=NotFoundPage>
                    <Route path=StaticSegment("") view=HomePage/>
                    <Route path=StaticSegment("dashboard") view={Lazy::<DashboardRoute>::new()}/>
                    <Route path=StaticSegment("widget") view={Lazy::<WidgetRoute>::new()}/>
                    <Route path=StaticSegment("settings") view={Lazy::<SettingsRoute>::new()}/>
                </FlatRoutes>
            </main>
        </Router>
    }
}
