//! `/widget`: the site widget where visitors and members leave feedback.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;

use super::{hydrated_signal, page_has_instance, Notice, NoticeKind};
use crate::api::feedback::{submit_feedback, SubmitFeedbackRequest};
use crate::api::ApiError;
use crate::model::MESSAGE_MAX_CHARS;

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
    view! {
        <Title text="Leave feedback"/>
        <section class="card widget">
            <h1>"Tell us what you think"</h1>
            {if has_instance {
                view! { <FeedbackForm/> }.into_any()
            } else {
                view! { <Notice kind=NoticeKind::OpenFromWix/> }.into_any()
            }}
        </section>
    }
}

#[component]
fn FeedbackForm() -> impl IntoView {
    let hydrated = hydrated_signal();
    let message = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let rating = RwSignal::new(String::new());
    let state = RwSignal::new(FormState::Editing);

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if state.get_untracked() == FormState::Sending {
            return;
        }
        let req = SubmitFeedbackRequest {
            message: message.get_untracked(),
            email: Some(email.get_untracked()).filter(|e| !e.trim().is_empty()),
            rating: rating.get_untracked().parse().ok(),
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
                    <label for="fb-message">"Your feedback"</label>
                    <textarea id="fb-message" name="message" rows="5" maxlength=MESSAGE_MAX_CHARS.to_string()
                        bind:value=message placeholder="What should we know?"></textarea>
                    <small class="hint">{move || format!("{} characters left", remaining())}</small>
                    <label for="fb-email">"Email (optional)"</label>
                    <input id="fb-email" name="email" type="email" autocomplete="email" bind:value=email
                        placeholder="you@example.com"/>
                    <label for="fb-rating">"Rating (optional)"</label>
                    <select id="fb-rating" name="rating" bind:value=rating>
                        <option value="">"No rating"</option>
                        <option value="5">"★★★★★ 5"</option>
                        <option value="4">"★★★★ 4"</option>
                        <option value="3">"★★★ 3"</option>
                        <option value="2">"★★ 2"</option>
                        <option value="1">"★ 1"</option>
                    </select>
                    {match current {
                        FormState::Failed(err) => Some(view! {
                            <p class="error" role="alert" data-testid="form-error">{err.message.clone()}</p>
                        }),
                        _ => None,
                    }}
                    <button type="submit" data-testid="send" disabled=move || !can_send()>
                        {move || if state.get() == FormState::Sending { "Sending…" } else { "Send feedback" }}
                    </button>
                </form>
            }.into_any(),
        }}
    }
}
