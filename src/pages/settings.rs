//! `/settings`: the widget's settings panel, which Wix frames (about 300 px wide) when the site
//! owner edits one copy of the widget (`compId`) in the editor. A live preview follows every
//! keystroke; Save stores the settings (owner only) and the widget shows them on its next load.
//!
//! The form is server-rendered once and kept static: the saved settings are written into it, the
//! preview follows it and errors are shown by a few DOM calls (`dom` below) rather than by a
//! reactive attribute per field. Every reactive node costs wasm, and this page ships in the same
//! bundle as the dashboard and the widget.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;

use super::{page_comp_id, page_has_instance, Notice, NoticeKind};
use crate::api::widget::{
    get_widget_settings, save_widget_settings, SaveWidgetSettingsRequest, WidgetSettingsRequest,
};
use crate::api::ApiError;

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

/// The form, static HTML holding the defaults (a unit test checks them against
/// [`crate::model::WidgetSettings::defaults`]): markup rendered as one string costs no wasm per
/// element, and hydration keeps what the server rendered. Disabled until the saved settings are in, so
/// nothing typed before is overwritten.
const FORM_HTML: &str = r##"<fieldset id="ws-fields" class="feedback-form" disabled aria-busy="true">
<label for="ws-title">Title</label>
<input id="ws-title" data-testid="settings-title" maxlength="80" value="Tell us what you think">
<label for="ws-prompt">Placeholder</label>
<input id="ws-prompt" data-testid="settings-prompt" maxlength="200" value="What should we know?">
<label class="check"><input id="ws-ask_email" type="checkbox" data-testid="settings-ask-email" checked> Ask for an email</label>
<label class="check"><input id="ws-ask_rating" type="checkbox" data-testid="settings-ask-rating" checked> Ask for a rating</label>
<label for="ws-accent_color">Accent colour</label>
<input id="ws-accent_color" data-testid="settings-accent" value="#116dff" placeholder="#116dff">
<p id="ws-status" role="status" data-testid="settings-status"></p>
<button type="submit" data-testid="settings-save">Save</button>
</fieldset>"##;

/// The preview's content, in step with the form through `dom::preview`.
const PREVIEW_HTML: &str = r##"<strong id="ws-preview-title" data-testid="preview-title">Tell us what you think</strong>
<div class="feedback-form">
<textarea id="ws-preview-prompt" rows="2" readonly data-testid="preview-prompt" placeholder="What should we know?"></textarea>
<input id="ws-preview-email" type="email" readonly placeholder="you@example.com" data-testid="preview-email">
<select id="ws-preview-rating" disabled data-testid="preview-rating"><option>No rating</option></select>
<button type="button" class="primary" tabindex="-1">Send feedback</button>
</div>"##;

#[component]
fn SettingsForm() -> impl IntoView {
    let comp_id = page_comp_id();
    // An auth or role failure replaces the form with a notice.
    let fatal = RwSignal::new(None::<ApiError>);
    let saving = StoredValue::new(false);

    let load_id = comp_id.clone();
    Effect::new(move |_| {
        let comp_id = Some(load_id.clone());
        spawn_local(async move {
            match get_widget_settings(WidgetSettingsRequest { comp_id }).await {
                Ok(saved) => dom::loaded(&saved),
                Err(err) => fatal.set(Some(err)),
            }
        });
    });

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if saving.get_value() {
            return;
        }
        // The server checks again; this names the field before a round trip.
        let edited = match dom::read(comp_id.clone()).normalized() {
            Ok(s) => s,
            Err(e) => return dom::status(Some(e.field), &e.message, true),
        };
        saving.set_value(true);
        dom::status(None, "Saving…", false);
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
                    dom::write(&saved);
                    dom::status(None, "Saved. The widget shows it on its next load.", false);
                }
                Err(err) if NoticeKind::is_page_level(&err) => fatal.set(Some(err)),
                Err(err) => dom::status(None, &err.message, true),
            }
            saving.set_value(false);
        });
    };

    move || match fatal.get() {
        Some(err) => view! { <Notice kind=NoticeKind::for_error(&err)/> }.into_any(),
        None => view! {
            <form on:submit=on_submit.clone() on:input=move |_| dom::preview() novalidate
                inner_html=FORM_HTML></form>
            <h2>"Preview"</h2>
            <div id="ws-preview" class="preview widget" data-testid="preview"
                style="--accent:#116dff" inner_html=PREVIEW_HTML></div>
        }
        .into_any(),
    }
}

/// The form's fields and the preview, read and written in place.
#[cfg(feature = "hydrate")]
mod dom {
    use leptos::prelude::document;
    use wasm_bindgen::JsCast;
    use web_sys::{Element, HtmlInputElement};

    use crate::model::WidgetSettings;

    const FIELDS: [&str; 3] = ["title", "prompt", "accent_color"];

    fn element(id: &str) -> Option<Element> {
        document().get_element_by_id(id)
    }

    fn input(field: &str) -> Option<HtmlInputElement> {
        element(&format!("ws-{field}"))?.dyn_into().ok()
    }

    fn text(field: &str) -> String {
        input(field).map(|i| i.value()).unwrap_or_default()
    }

    fn checked(field: &str) -> bool {
        input(field).is_some_and(|i| i.checked())
    }

    fn set_attr(id: &str, name: &str, value: Option<&str>) {
        if let Some(e) = element(id) {
            let _ = match value {
                Some(v) => e.set_attribute(name, v),
                None => e.remove_attribute(name),
            };
        }
    }

    /// What the form holds now.
    pub fn read(comp_id: String) -> WidgetSettings {
        WidgetSettings {
            comp_id,
            title: text("title"),
            prompt: text("prompt"),
            ask_email: checked("ask_email"),
            ask_rating: checked("ask_rating"),
            accent_color: text("accent_color"),
        }
    }

    /// Puts `s` into the form and the preview.
    pub fn write(s: &WidgetSettings) {
        for (field, value) in [
            ("title", &s.title),
            ("prompt", &s.prompt),
            ("accent_color", &s.accent_color),
        ] {
            if let Some(i) = input(field) {
                i.set_value(value);
            }
        }
        for (field, on) in [("ask_email", s.ask_email), ("ask_rating", s.ask_rating)] {
            if let Some(i) = input(field) {
                i.set_checked(on);
            }
        }
        preview();
    }

    /// The saved settings arrived: shown, and the form is enabled.
    pub fn loaded(s: &WidgetSettings) {
        write(s);
        set_attr("ws-fields", "disabled", None);
        set_attr("ws-fields", "aria-busy", Some("false"));
    }

    /// The preview follows the form (an invalid colour previews as the default one).
    pub fn preview() {
        let s = read(String::new());
        if let Some(e) = element("ws-preview-title") {
            e.set_text_content(Some(&s.title));
        }
        set_attr("ws-preview-prompt", "placeholder", Some(&s.prompt));
        set_attr("ws-preview-email", "hidden", (!s.ask_email).then_some(""));
        set_attr("ws-preview-rating", "hidden", (!s.ask_rating).then_some(""));
        let color = crate::model::accent_color(&s.accent_color)
            .unwrap_or_else(|| WidgetSettings::defaults(String::new()).accent_color);
        set_attr("ws-preview", "style", Some(&format!("--accent:{color}")));
    }

    /// Shows `message` under the form; `field` is marked invalid (and every other one valid).
    pub fn status(field: Option<&str>, message: &str, error: bool) {
        for f in FIELDS {
            let invalid = (field == Some(f)).then_some("true");
            set_attr(&format!("ws-{f}"), "aria-invalid", invalid);
        }
        if let Some(e) = element("ws-status") {
            e.set_text_content(Some(message));
        }
        set_attr("ws-status", "class", error.then_some("error"));
    }
}

/// On the server nothing runs in place: the handlers only run in the browser.
#[cfg(not(feature = "hydrate"))]
mod dom {
    use crate::model::WidgetSettings;

    pub fn read(comp_id: String) -> WidgetSettings {
        WidgetSettings::defaults(comp_id)
    }
    pub fn write(_: &WidgetSettings) {}
    pub fn loaded(_: &WidgetSettings) {}
    pub fn preview() {}
    pub fn status(_: Option<&str>, _: &str, _: bool) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{WidgetSettings, PROMPT_MAX_CHARS, TITLE_MAX_CHARS};

    /// The static markup shows the defaults and the limits the server applies.
    #[test]
    fn static_markup_holds_the_defaults() {
        let d = WidgetSettings::defaults("x".into());
        for html in [FORM_HTML, PREVIEW_HTML] {
            assert!(
                html.contains(&d.title) && html.contains(&d.prompt),
                "{html}"
            );
        }
        assert!(FORM_HTML.contains(&format!(r#"value="{}""#, d.accent_color)));
        assert!(FORM_HTML.contains(&format!(r#"maxlength="{TITLE_MAX_CHARS}""#)));
        assert!(FORM_HTML.contains(&format!(r#"maxlength="{PROMPT_MAX_CHARS}""#)));
        assert!(d.ask_email && d.ask_rating && FORM_HTML.matches(" checked>").count() == 2);
    }
}
