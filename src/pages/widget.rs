//! `/widget`: the site widget where visitors and members leave feedback.
//!
//! On a slow connection the server-rendered form is on screen before the wasm is, and visitors
//! type into it. Nothing they type is lost: the field signals start from what the fields hold
//! when the form hydrates, and until then the send button says it is loading.
//!
//! Each copy of the widget on a site has its own `compId` (a query parameter Wix adds) and its
//! own settings (title, placeholder, which fields show, accent colour). The server renders the
//! defaults; the saved settings are read once the page is interactive and applied then.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;

use super::{
    hydrated_signal, page_comp_id, page_has_instance, server_rendered_field_value, Notice,
    NoticeKind,
};
use crate::api::feedback::{submit_feedback, SubmitFeedbackRequest};
use crate::api::widget::{get_widget_settings, WidgetSettingsRequest};
use crate::api::{ApiError, ErrorCode};
use crate::model::{WidgetSettings, MESSAGE_MAX_CHARS};

const MESSAGE_FIELD: &str = "fb-message";
const EMAIL_FIELD: &str = "fb-email";
const RATING_FIELD: &str = "fb-rating";
const LIMIT_REACHED: &str =
    "Thanks for wanting to share! This site isn't taking new feedback right now. Please try again later.";

#[derive(Debug, Clone, PartialEq)]
enum FormState {
    Editing,
    Sending,
    Sent,
    Failed(ApiError),
}

#[component]
pub fn WidgetPage() -> impl IntoView {
    let has_instance = page_has_instance();
    let comp_id = page_comp_id();
    let d = WidgetSettings::defaults(comp_id.clone());
    let settings = StoredValue::new(d.clone());
    // In the browser only (effects do not run during SSR); on failure the defaults stay. Applied
    // by a few DOM calls rather than reactive attributes: every reactive node costs wasm.
    Effect::new(move |_| {
        if has_instance {
            let comp_id = Some(comp_id.clone());
            spawn_local(async move {
                if let Ok(saved) = get_widget_settings(WidgetSettingsRequest { comp_id }).await {
                    apply(&saved);
                    settings.set_value(saved);
                }
            });
        }
    });
    view! {
        <Title text="Leave feedback"/>
        <section id="fb-widget" class="card widget" data-testid="widget"
            style=format!("--accent:{}", d.accent_color)>
            <h1 id="fb-title" data-testid="widget-title">{d.title}</h1>
            {if has_instance {
                view! { <FeedbackForm settings/> }.into_any()
            } else {
                view! { <Notice kind=NoticeKind::OpenFromWix/> }.into_any()
            }}
        </section>
    }
}

/// Shows saved settings in the server-rendered widget.
#[cfg(feature = "hydrate")]
fn apply(s: &WidgetSettings) {
    let set = |id: &str, name: &str, value: Option<&str>| {
        if let Some(e) = document().get_element_by_id(id) {
            let _ = match value {
                Some(v) => e.set_attribute(name, v),
                None => e.remove_attribute(name),
            };
        }
    };
    if let Some(title) = document().get_element_by_id("fb-title") {
        title.set_text_content(Some(&s.title));
    }
    set(
        "fb-widget",
        "style",
        Some(&format!("--accent:{}", s.accent_color)),
    );
    set(MESSAGE_FIELD, "placeholder", Some(&s.prompt));
    set("fb-email-field", "hidden", (!s.ask_email).then_some(""));
    set("fb-rating-field", "hidden", (!s.ask_rating).then_some(""));
}

#[cfg(not(feature = "hydrate"))]
fn apply(_: &WidgetSettings) {}

#[component]
fn FeedbackForm(settings: StoredValue<WidgetSettings>) -> impl IntoView {
    let hydrated = hydrated_signal();
    // What was typed before hydration (empty on the server and in a form built in the browser).
    let typed = |id| RwSignal::new(server_rendered_field_value(id).unwrap_or_default());
    let message = typed(MESSAGE_FIELD);
    let email = typed(EMAIL_FIELD);
    let rating = typed(RATING_FIELD);
    let state = RwSignal::new(FormState::Editing);

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if state.get_untracked() == FormState::Sending {
            return;
        }
        let (ask_email, ask_rating, comp_id) =
            settings.with_value(|s| (s.ask_email, s.ask_rating, s.comp_id.clone()));
        let req = SubmitFeedbackRequest {
            message: message.get_untracked(),
            email: Some(email.get_untracked()).filter(|e| ask_email && !e.trim().is_empty()),
            rating: rating.get_untracked().parse().ok().filter(|_| ask_rating),
            comp_id: Some(comp_id),
        };
        state.set(FormState::Sending);
        spawn_local(async move {
            match submit_feedback(req).await {
                Ok(_) => {
                    message.set(String::new());
                    email.set(String::new());
                    rating.set(String::new());
                    state.set(FormState::Sent);
                }
                Err(err) => state.set(FormState::Failed(err)),
            }
        });
    };

    let remaining =
        move || MESSAGE_MAX_CHARS as i64 - message.with(|m| m.trim().chars().count()) as i64;
    // Hydration keeps server-rendered text as it is, so the hint shows the server's count (of an
    // empty message) until the page is interactive, then the count of what was typed.
    let chars_left = move || {
        if hydrated.get() {
            remaining()
        } else {
            MESSAGE_MAX_CHARS as i64
        }
    };
    let can_send = move || {
        hydrated.get()
            && state.get() != FormState::Sending
            && !message.with(|m| m.trim().is_empty())
            && remaining() >= 0
    };

    view! {
        {move || match state.get() {
            FormState::Sent => view! {
                <div class="confirmation" role="status" data-testid="confirmation">
                    <h2>"Thank you!"</h2>
                    <p>"Your feedback was sent to the site owner."</p>
                    <button type="button" on:click=move |_| state.set(FormState::Editing)>"Send more feedback"</button>
                </div>
            }.into_any(),
            FormState::Failed(err) if NoticeKind::is_page_level(&err) => {
                view! { <Notice kind=NoticeKind::for_error(&err)/> }.into_any()
            }
            current => view! {
                <form class="feedback-form" on:submit=on_submit novalidate>
                    <label for=MESSAGE_FIELD>"Your feedback"</label>
                    <textarea id=MESSAGE_FIELD name="message" rows="5" maxlength=MESSAGE_MAX_CHARS.to_string()
                        bind:value=message placeholder=settings.with_value(|s| s.prompt.clone())></textarea>
                    <small class="hint">{move || format!("{} characters left", chars_left())}</small>
                    <div id="fb-email-field" class="field" hidden=!settings.with_value(|s| s.ask_email)>
                    <label for=EMAIL_FIELD>"Email (optional)"</label>
                    <input id=EMAIL_FIELD name="email" type="email" autocomplete="email" bind:value=email
                        placeholder="you@example.com"/>
                    </div>
                    <div id="fb-rating-field" class="field" hidden=!settings.with_value(|s| s.ask_rating)>
                    <label for=RATING_FIELD>"Rating (optional)"</label>
                    <select id=RATING_FIELD name="rating" bind:value=rating>
                        <option value="">"No rating"</option>
                        <option value="5">"★★★★★ 5"</option>
                        <option value="4">"★★★★ 4"</option>
                        <option value="3">"★★★ 3"</option>
                        <option value="2">"★★ 2"</option>
                        <option value="1">"★ 1"</option>
                    </select>
                    </div>
                    {match current {
                        // The free plan's monthly limit: a kind line for the visitor, no prices.
                        // The free plan's monthly limit: a kind line for the visitor, no prices.
                        FormState::Failed(err) if err.error == ErrorCode::PlanLimitReached => Some(view! {
                            <p class="notice" role="status" data-testid="limit-reached">{LIMIT_REACHED}</p>
                        }.into_any()),
                        FormState::Failed(err) => Some(view! {
                            <p class="error" role="alert" data-testid="form-error">{err.message.clone()}</p>
                        }.into_any()),
                        _ => None,
                    }}
                    <button type="submit" data-testid="send" disabled=move || !can_send()
                        aria-busy=move || (!hydrated.get()).to_string()>
                        {move || match (hydrated.get(), state.get()) {
                            (false, _) => "Loading…",
                            (true, FormState::Sending) => "Sending…",
                            (true, _) => "Send feedback",
                        }}
                    </button>
                </form>
            }.into_any(),
        }}
    }
}
