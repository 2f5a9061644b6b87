//! `/settings`: the widget's settings panel, which Wix frames (about 300 px wide) when the site
//! owner edits one copy of the widget (`compId`) in the editor. A live preview follows every
//! keystroke; Save stores the settings (owner only) and the widget shows them on its next load.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;

use super::{hydrated_signal, page_comp_id, page_has_instance, Notice, NoticeKind};
use crate::api::widget::{
    get_widget_settings, save_widget_settings, SaveWidgetSettingsRequest, WidgetSettingsRequest,
};
use crate::model::{WidgetSettings, PROMPT_MAX_CHARS, TITLE_MAX_CHARS};

#[component]
pub fn SettingsPage() -> impl IntoView {
    let has_instance = page_has_instance();
    view! {
        <Title text="Widget settings"/>
        <section class="card settings">
            <h1>"Widget settings"</h1>
            {if has_instance {
                view! { <SettingsForm/> }.into_any()
            } else {
                view! { <Notice kind=NoticeKind::OpenFromWix/> }.into_any()
            }}
        </section>
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Save {
    Loading,
    Editing,
    Saving,
    Saved,
    /// The field that is wrong (`None`: not one field) and what to do about it.
    Invalid(Option<&'static str>, String),
}

#[component]
fn SettingsForm() -> impl IntoView {
    let hydrated = hydrated_signal();
    let comp_id = page_comp_id();
    let defaults = WidgetSettings::defaults(comp_id.clone());
    let title = RwSignal::new(defaults.title);
    let prompt = RwSignal::new(defaults.prompt);
    let ask_email = RwSignal::new(defaults.ask_email);
    let ask_rating = RwSignal::new(defaults.ask_rating);
    let accent = RwSignal::new(defaults.accent_color);
    let state = RwSignal::new(Save::Loading);
    let fatal = RwSignal::new(None::<crate::api::ApiError>);

    let show = move |s: WidgetSettings| {
        title.set(s.title);
        prompt.set(s.prompt);
        ask_email.set(s.ask_email);
        ask_rating.set(s.ask_rating);
        accent.set(s.accent_color);
    };
    let load_id = comp_id.clone();
    Effect::new(move |_| {
        let comp_id = Some(load_id.clone());
        spawn_local(async move {
            match get_widget_settings(WidgetSettingsRequest { comp_id }).await {
                Ok(saved) => {
                    show(saved);
                    state.set(Save::Editing);
                }
                Err(err) => fatal.set(Some(err)),
            }
        });
    });

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if matches!(state.get_untracked(), Save::Saving | Save::Loading) {
            return;
        }
        let edited = WidgetSettings {
            comp_id: comp_id.clone(),
            title: title.get_untracked(),
            prompt: prompt.get_untracked(),
            ask_email: ask_email.get_untracked(),
            ask_rating: ask_rating.get_untracked(),
            accent_color: accent.get_untracked(),
        };
        // The server checks again; this names the field before a round trip.
        let edited = match edited.normalized() {
            Ok(s) => s,
            Err(e) => return state.set(Save::Invalid(Some(e.field), e.message)),
        };
        state.set(Save::Saving);
        let req = SaveWidgetSettingsRequest {
            comp_id: Some(edited.comp_id),
            title: edited.title,
            prompt: edited.prompt,
            ask_email: edited.ask_email,
            ask_rating: edited.ask_rating,
            accent_color: edited.accent_color,
        };
        spawn_local(async move {
            match save_widget_settings(req).await {
                Ok(saved) => {
                    show(saved);
                    state.set(Save::Saved);
                }
                Err(err) if NoticeKind::is_page_level(&err) => fatal.set(Some(err)),
                Err(err) => state.set(Save::Invalid(None, err.message)),
            }
        });
    };
    // Editing again clears "Saved".
    let edited = move || {
        if state.get_untracked() == Save::Saved {
            state.set(Save::Editing);
        }
    };
    let field_error = move |field: &'static str| {
        move || match state.get() {
            Save::Invalid(Some(f), message) if f == field => Some(view! {
                <small class="error" role="alert" data-testid=format!("error-{field}")>{message}</small>
            }),
            _ => None,
        }
    };
    let shown_accent = move || {
        accent.with(|a| {
            let ok =
                a.len() == 7 && a.starts_with('#') && a[1..].bytes().all(|b| b.is_ascii_hexdigit());
            if ok {
                a.clone()
            } else {
                "#116dff".into()
            }
        })
    };

    view! {
        {move || match fatal.get() {
            Some(err) => view! { <Notice kind=NoticeKind::for_error(&err)/> }.into_any(),
            None => view! {
                <form on:submit=on_submit.clone() novalidate>
                // Disabled until the saved settings are in: what is typed before would be lost.
                <fieldset class="feedback-form" disabled=move || state.get() == Save::Loading
                    aria-busy=move || (state.get() == Save::Loading).to_string()>
                    <label for="ws-title">"Title"</label>
                    <input id="ws-title" data-testid="settings-title" maxlength=TITLE_MAX_CHARS.to_string()
                        bind:value=title on:input=move |_| edited()/>
                    {field_error("title")}
                    <label for="ws-prompt">"Placeholder"</label>
                    <input id="ws-prompt" data-testid="settings-prompt" maxlength=PROMPT_MAX_CHARS.to_string()
                        bind:value=prompt on:input=move |_| edited()/>
                    {field_error("prompt")}
                    <label class="check">
                        <input type="checkbox" data-testid="settings-ask-email" bind:checked=ask_email
                            on:change=move |_| edited()/>
                        " Ask for an email"
                    </label>
                    <label class="check">
                        <input type="checkbox" data-testid="settings-ask-rating" bind:checked=ask_rating
                            on:change=move |_| edited()/>
                        " Ask for a rating"
                    </label>
                    <label for="ws-accent">"Accent colour"</label>
                    <input id="ws-accent" data-testid="settings-accent" bind:value=accent
                        on:input=move |_| edited() placeholder="#116dff"/>
                    {field_error("accent_color")}
                    {move || match state.get() {
                        Save::Invalid(None, message) => Some(view! {
                            <p class="error" role="alert" data-testid="settings-error">{message}</p>
                        }),
                        _ => None,
                    }}
                    <button type="submit" data-testid="settings-save"
                        disabled=move || !hydrated.get() || matches!(state.get(), Save::Loading | Save::Saving)>
                        {move || match state.get() {
                            Save::Saving => "Saving…",
                            Save::Saved => "Saved",
                            _ => "Save",
                        }}
                    </button>
                    <span role="status" data-testid="settings-saved">
                        {move || (state.get() == Save::Saved).then_some("Saved. The widget shows it on its next load.")}
                    </span>
                </fieldset>
                </form>
                <h2>"Preview"</h2>
                <div class="preview widget" data-testid="preview" style=move || format!("--accent:{}", shown_accent())>
                    <strong data-testid="preview-title">{move || title.get()}</strong>
                    <div class="feedback-form">
                        <textarea rows="2" readonly data-testid="preview-prompt" placeholder=move || prompt.get()></textarea>
                        <input type="email" readonly placeholder="you@example.com" data-testid="preview-email"
                            hidden=move || !ask_email.get()/>
                        <select disabled data-testid="preview-rating" hidden=move || !ask_rating.get()>
                            <option>"No rating"</option>
                        </select>
                        <button type="button" class="primary" tabindex="-1">"Send feedback"</button>
                    </div>
                </div>
            }.into_any(),
        }}
    }
}
