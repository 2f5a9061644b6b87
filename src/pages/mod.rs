//! The pages Wix frames: the owner's dashboard, the visitors' widget and the widget's settings
//! panel, plus the plain pages.

mod dashboard;
mod markup;
mod notice;
mod routes;
mod settings;
mod widget;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

pub use dashboard::{early_requests_script, DashboardPage};
pub use notice::{Notice, NoticeKind};
pub use routes::{DashboardRoute, SettingsRoute, WidgetRoute};
pub use settings::SettingsPage;
pub use widget::WidgetPage;

/// Whether the page URL carries a credential (same answer on the server and in the browser, so
/// hydration matches). Whether it is *valid* only the server can say, on the first API call.
pub(crate) fn page_has_instance() -> bool {
    use_query_map().with_untracked(|q| {
        crate::api::CREDENTIAL_PARAMS
            .iter()
            .any(|name| q.get_str(name).is_some_and(|v| !v.is_empty()))
    })
}

/// The widget this page is about: Wix's `compId` query parameter, `default` when absent (or not
/// a valid one, which the server would refuse).
pub(crate) fn page_comp_id() -> String {
    use_query_map().with_untracked(|q| {
        q.get_str("compId")
            .filter(|c| crate::model::is_valid_comp_id(c))
            .unwrap_or(crate::model::DEFAULT_COMP_ID)
            .to_owned()
    })
}

/// True once the wasm has taken over the page; buttons stay disabled until then.
pub(crate) fn hydrated_signal() -> ReadSignal<bool> {
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    hydrated
}

/// The value the server-rendered `<textarea>`, `<input>` or `<select>` with this id holds right
/// now: what a visitor typed or picked before the wasm arrived. `None` on the server and when
/// there is no such field (a page rendered in the browser).
///
/// Read it before the field hydrates: `bind:value` writes its signal into the field when it
/// hydrates, so a signal that starts empty wipes what was typed.
pub(crate) fn server_rendered_field_value(id: &str) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};

        let field = document().get_element_by_id(id)?;
        field
            .dyn_ref::<HtmlTextAreaElement>()
            .map(HtmlTextAreaElement::value)
            .or_else(|| {
                field
                    .dyn_ref::<HtmlInputElement>()
                    .map(HtmlInputElement::value)
            })
            .or_else(|| {
                field
                    .dyn_ref::<HtmlSelectElement>()
                    .map(HtmlSelectElement::value)
            })
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = id;
        None
    }
}

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <section class="card">
            <h1>"Feedback inbox"</h1>
            <p>"A Wix app: site visitors leave feedback in the site widget, the site owner reads it in the dashboard."</p>
            <Notice kind=NoticeKind::OpenFromWix/>
        </section>
    }
}

#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <section class="card">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address."</p>
        </section>
    }
}
