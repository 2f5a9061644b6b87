//! `/dashboard`: the site owner's inbox. Lists, filters, resolves and deletes feedback.
//!
//! The filters are server-rendered, so they are disabled (and their group `aria-busy`) until the
//! page is interactive: a click before that waits visibly instead of doing nothing. The rows and
//! "Load more" come from requests the browser makes after hydration, so they work whenever shown.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;

use super::markup::{escape, push};
use super::{hydrated_signal, page_has_instance, Notice, NoticeKind};
use crate::api::client::post_json;
use crate::api::feedback::{
    delete_feedback, set_feedback_status, DeleteFeedbackRequest, FeedbackPage, ListFeedbackRequest,
    SetStatusRequest,
};
use crate::api::site::Summary;
use crate::api::ApiError;
use crate::model::{FeedbackItem, FeedbackStatus, StatusFilter, LIST_DEFAULT_LIMIT};

#[component]
pub fn DashboardPage() -> impl IntoView {
    let has_instance = page_has_instance();
    view! {
        <Title text="Feedback · Dashboard"/>
        <section class="card dashboard">
            <h1>"Feedback"</h1>
            {if has_instance {
                view! { <Inbox/> }.into_any()
            } else {
                view! { <Notice kind=NoticeKind::OpenFromWix/> }.into_any()
            }}
        </section>
    }
}

/// The inbox's first two requests, started by the HTML while the wasm is still downloading:
/// on a slow link they would otherwise wait for the wasm (≈ 300 ms at 10 Mbit/s) and then take
/// their own round trip. The wasm takes their answers (`api::client::post_json`) when it asks
/// the same thing; any other request goes out as usual. Same credential as the wasm's own
/// calls (`api::client`), same bodies (a test compares them).
const EARLY_REQUESTS_JS: &str = r#"(()=>{const q=new URLSearchParams(location.search),c=["instance","accessToken"].map(n=>q.get(n)).find(v=>v);if(!c)return;const e=window.__wixAppEarly={};for(const[p,b]of[["/api/site/summary","{}"],["/api/feedback/list",'{"status":"open","limit":20,"cursor":null,"comp_id":null}']])e[p]={body:b,answer:fetch(p,{method:"POST",headers:{"content-type":"application/json",Authorization:c},body:b}).then(r=>r.text().then(t=>[r.ok,t])).catch(()=>[false,null])}})()"#;

/// The `<script>` with [`EARLY_REQUESTS_JS`] when the page being rendered is the dashboard, for
/// the shell's `<head>` (`app.rs`), ahead of the stylesheet: a script after a stylesheet waits
/// for it to load, one before runs as soon as it is parsed. The request's URL is known on the
/// server only, and the shell is not hydrated: the wasm carries none of it.
pub fn early_requests_script() -> impl IntoView {
    let on_dashboard = use_context::<leptos_router::location::RequestUrl>()
        .and_then(|url| url.parse().ok())
        .is_some_and(|url| url.path() == "/dashboard");
    on_dashboard.then(|| view! { <script inner_html=EARLY_REQUESTS_JS></script> })
}

const SUMMARY_PATH: &str = "/api/site/summary";
const LIST_PATH: &str = "/api/feedback/list";

/// The list's request body, as the early request and the wasm both send it.
fn list_body(req: &ListFeedbackRequest) -> String {
    serde_json::to_string(req).unwrap_or_default()
}

#[derive(Debug, Clone, PartialEq)]
enum Load {
    Loading,
    Ready,
    Failed(ApiError),
}

#[component]
fn Inbox() -> impl IntoView {
    let hydrated = hydrated_signal();
    let filter = RwSignal::new(StatusFilter::Open);
    // One widget's feedback (`compId`), or every widget's.
    let widget = RwSignal::new(None::<String>);
    // Bumped after every change: reloads the first page and the counts.
    let version = RwSignal::new(0u64);
    let items = RwSignal::new(Vec::<FeedbackItem>::new());
    let next_cursor = RwSignal::new(None::<String>);
    let load = RwSignal::new(Load::Loading);
    let summary = RwSignal::new(None::<Summary>);
    // An auth or role failure replaces the whole inbox with a notice.
    let fatal = RwSignal::new(None::<ApiError>);
    // Responses to superseded list requests are dropped.
    let generation = StoredValue::new(0u64);

    let fail = move |err: ApiError| {
        if NoticeKind::is_page_level(&err) {
            fatal.set(Some(err));
        } else {
            load.set(Load::Failed(err));
        }
    };

    let fetch_page = move |cursor: Option<String>| {
        let append = cursor.is_some();
        let this = generation.get_value() + u64::from(!append);
        generation.set_value(this);
        let req = ListFeedbackRequest {
            status: Some(filter.get_untracked()),
            limit: Some(i64::from(LIST_DEFAULT_LIMIT)),
            cursor,
            comp_id: widget.get_untracked(),
        };
        load.set(Load::Loading);
        spawn_local(async move {
            let result = post_json::<FeedbackPage>(LIST_PATH, list_body(&req)).await;
            if generation.get_value() != this {
                return;
            }
            match result {
                Ok(page) => {
                    if append {
                        items.update(|list| list.extend(page.items));
                    } else {
                        items.set(page.items);
                    }
                    next_cursor.set(page.next_cursor);
                    load.set(Load::Ready);
                }
                Err(err) => fail(err),
            }
        });
    };

    // Runs in the browser only (effects do not run during SSR).
    Effect::new(move |_| {
        filter.track();
        widget.track();
        version.track();
        fetch_page(None);
        spawn_local(async move {
            match post_json::<Summary>(SUMMARY_PATH, "{}".to_owned()).await {
                Ok(s) => summary.set(Some(s)),
                Err(err) => fail(err),
            }
        });
    });

    let change_status = move |id: String, status: FeedbackStatus| {
        spawn_local(async move {
            match set_feedback_status(SetStatusRequest { id, status }).await {
                Ok(_) => version.update(|v| *v += 1),
                Err(err) => fail(err),
            }
        });
    };
    let remove = move |id: String| {
        spawn_local(async move {
            match delete_feedback(DeleteFeedbackRequest { id }).await {
                Ok(_) => version.update(|v| *v += 1),
                Err(err) => fail(err),
            }
        });
    };
    // One handler for every row's buttons (the rows are markup: `row_html`).
    let on_row_click = move |ev: leptos::ev::MouseEvent| {
        let Some((action, row)) = clicked(&ev, "li") else {
            return;
        };
        let id = row.get_attribute("data-id").unwrap_or_default();
        match action.as_str() {
            "resolve" => change_status(id, FeedbackStatus::Resolved),
            "reopen" => change_status(id, FeedbackStatus::Open),
            "delete" => remove(id),
            _ => {}
        }
    };

    let filter_button = move |value: StatusFilter, label: &'static str, testid: &'static str| {
        view! {
            <button type="button" data-testid=testid
                class=move || if filter.get() == value { "filter active" } else { "filter" }
                aria-pressed=move || (filter.get() == value).to_string()
                disabled=move || !hydrated.get()
                on:click=move |_| filter.set(value)>
                {label}
            </button>
        }
    };

    // An auth or role failure replaces the inbox with its notice.
    view! {
        {move || match fatal.get() {
            Some(err) => view! { <Notice kind=NoticeKind::for_error(&err)/> }.into_any(),
            None => view! {
                <div class="counts" data-testid="counts"
                    inner_html=move || summary.with(|s| s.as_ref().map(counts_html).unwrap_or_default())></div>
                <PlanBar summary=summary on_error=fail/>
                <Privacy on_erased=move || version.update(|v| *v += 1)/>
                <div class="filters" role="group" aria-label="Show"
                    aria-busy=move || (!hydrated.get()).to_string()>
                    {filter_button(StatusFilter::Open, "Open", "filter-open")}
                    {filter_button(StatusFilter::Resolved, "Resolved", "filter-resolved")}
                    {filter_button(StatusFilter::All, "All", "filter-all")}
                    // A widget's compId (shown on each item); empty for every widget.
                    <input type="search" class="widget-filter" data-testid="filter-widget"
                        aria-label="Widget (compId)" placeholder="Widget (compId)"
                        disabled=move || !hydrated.get()
                        on:change=move |ev| {
                            let v = event_target_value(&ev).trim().to_owned();
                            widget.set(Some(v).filter(|v| !v.is_empty()));
                        }/>
                </div>
                <ul class="feedback-list" data-testid="feedback-list" on:click=on_row_click
                    inner_html=move || items.with(|items| items.iter().fold(String::new(), |mut html, item| {
                        row_html(&mut html, item);
                        html
                    }))></ul>
                <div class="list-status"
                    inner_html=move || load.with(|load| items.with(|items| status_html(load, items.is_empty())))></div>
                // Hidden rather than removed when there is no more: the same button (and its
                // keyboard focus) stays while one page after another loads.
                <button type="button" data-testid="load-more"
                    hidden=move || next_cursor.with(Option::is_none)
                    on:click=move |_| fetch_page(next_cursor.get_untracked())>
                    "Load more"
                </button>
            }.into_any(),
        }}
    }
}

/// The `data-testid` of the button a click landed on, and the nearest `container` element
/// around it (the row, for the list's buttons).
fn clicked(ev: &leptos::ev::MouseEvent, container: &str) -> Option<(String, web_sys::Element)> {
    use wasm_bindgen::JsCast;
    let target = ev.target()?.dyn_into::<web_sys::Element>().ok()?;
    let button = target.closest("button").ok()??;
    let action = button.get_attribute("data-testid")?;
    Some((action, button.closest(container).ok()??))
}

/// The site's name and its counts.
fn counts_html(summary: &Summary) -> String {
    let mut html = String::new();
    if let Some(name) = &summary.site_name {
        push(
            &mut html,
            format_args!(
                r#"<span class="site-name" data-testid="site-name">{}</span>"#,
                escape(name)
            ),
        );
    }
    push(
        &mut html,
        format_args!(
            r#"<span>Open <strong data-testid="count-open">{}</strong></span><span>Resolved <strong data-testid="count-resolved">{}</strong></span><span>Total <strong data-testid="count-total">{}</strong></span>"#,
            summary.open, summary.resolved, summary.total
        ),
    );
    html
}

/// Under the list: loading, the error, or "nothing here".
fn status_html(load: &Load, empty: bool) -> String {
    match load {
        Load::Loading => r#"<p class="muted" data-testid="loading">Loading…</p>"#.to_owned(),
        Load::Failed(err) => format!(
            r#"<p class="error" role="alert" data-testid="list-error">{}</p>"#,
            escape(&err.message)
        ),
        Load::Ready if empty => {
            r#"<p class="muted" data-testid="empty">No feedback here yet.</p>"#.to_owned()
        }
        Load::Ready => String::new(),
    }
}

/// `email` for a `mailto:` link, percent-encoded but for letters, digits, `-._~` and `@`: a
/// valid address may hold `?`, `&` or `=`, which in the link would add fields (a Cc, a body)
/// to the owner's new message. The result needs no HTML escaping.
fn mailto_address(email: &str) -> String {
    crate::api::percent_encode(email, b"@")
}

/// One feedback row: the message, who left it and how, and its two actions. Everything from
/// the item goes through [`escape`].
fn row_html(html: &mut String, item: &FeedbackItem) {
    let (toggle_label, toggle_testid) = match item.status {
        FeedbackStatus::Open => ("Mark resolved", "resolve"),
        FeedbackStatus::Resolved => ("Reopen", "reopen"),
    };
    let status = item.status.as_str();
    push(
        html,
        format_args!(
            r#"<li class="feedback-item" data-testid="feedback-item" data-id="{}" data-status="{status}"><p class="message" data-testid="feedback-message">{}</p><p class="meta"><span class="badge">{}</span>"#,
            escape(&item.id),
            escape(&item.message),
            item.author_kind.as_str(),
        ),
    );
    if item.comp_id != crate::model::DEFAULT_COMP_ID {
        push(
            html,
            format_args!(
                r#"<span class="badge" data-testid="comp-id" title="Widget (compId)">{}</span>"#,
                escape(&item.comp_id)
            ),
        );
    }
    if let Some(rating) = item.rating.map(usize::from).filter(|r| *r <= 5) {
        push(
            html,
            format_args!(
                r#"<span class="stars" aria-label="rating">{}{}</span>"#,
                "★".repeat(rating),
                "☆".repeat(5 - rating)
            ),
        );
    }
    if let Some(email) = &item.email {
        push(
            html,
            format_args!(
                r#"<a href="mailto:{}">{}</a>"#,
                mailto_address(email),
                escape(email)
            ),
        );
    }
    // "2026-11-27T03:19:40.123456Z" → "2026-11-27 03:19 UTC"
    let when = item.created_at.get(..16).unwrap_or(&item.created_at);
    push(
        html,
        format_args!(
            r#"<time datetime="{}">{} UTC</time>"#,
            escape(&item.created_at),
            escape(&when.replace('T', " "))
        ),
    );
    if let Some(contact) = &item.contact {
        let state = contact.state.as_str();
        push(
            html,
            format_args!(
                r#"<span class="contact {state}" data-testid="contact-state" title="Wix contact made from the email">contact {state}</span>"#
            ),
        );
    }
    push(
        html,
        format_args!(
            r#"<span class="status {status}">{status}</span></p><div class="actions"><button type="button" data-testid="{toggle_testid}">{toggle_label}</button><button type="button" class="danger" data-testid="delete">Delete</button></div></li>"#
        ),
    );
}

/// The plan bar's markup for `summary`: the plan, this month's usage, and on the free plan the
/// Upgrade link (a new top-level tab: Wix's upgrade page never loads inside the iframe), on
/// premium the CSV export. Markup rather than a reactive view: the dashboard's wasm has a size
/// budget. The only text from outside is the server's upgrade URL, attribute-escaped.
fn plan_html(summary: &Summary) -> String {
    let plan = &summary.plan;
    let limit = plan
        .monthly_limit
        .map(|l| format!(" of {l}"))
        .unwrap_or_default();
    let action = if plan.premium {
        r#"<button type="button" data-testid="export-csv">Export CSV</button>"#.to_owned()
    } else {
        format!(
            r#"<a class="button" data-testid="upgrade" href="{}" target="_blank" rel="noopener">Upgrade</a>"#,
            escape(&summary.upgrade_url)
        )
    };
    format!(
        r#"Plan <strong data-testid="plan-name">{}</strong> <span data-testid="plan-usage">{}{limit} this month</span> {action}"#,
        if plan.premium { "Premium" } else { "Free" },
        plan.month_submissions,
    )
}

#[component]
fn PlanBar(
    summary: RwSignal<Option<Summary>>,
    on_error: impl Fn(ApiError) + Copy + 'static,
) -> impl IntoView {
    use wasm_bindgen::JsCast;
    let on_click = move |ev: leptos::ev::MouseEvent| {
        let export = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|t| t.get_attribute("data-testid").as_deref() == Some("export-csv"));
        if export {
            spawn_local(async move {
                if let Err(err) = crate::api::client::download_csv().await {
                    on_error(err);
                }
            });
        }
    };
    view! {
        <div class="plan" data-testid="plan" on:click=on_click
            inner_html=move || summary.with(|s| s.as_ref().map(plan_html).unwrap_or_default())></div>
    }
}

/// The privacy-request panel's markup: static (no user data), so the wasm carries one element
/// and one delegated click handler instead of a reactive view per control (the dashboard's wasm
/// has a size budget). Results go in with `textContent`, never as markup.
const PRIVACY_HTML: &str = r#"<button type="button" class="link" data-act="open" data-testid="privacy-open">Privacy request</button><div class="privacy" role="dialog" aria-label="Privacy request" data-testid="privacy" hidden><label for="privacy-email">Customer's email</label><input id="privacy-email" type="email"><button type="button" data-act="export" data-testid="privacy-export">Export</button><button type="button" class="danger" data-act="ask" data-testid="privacy-erase">Erase…</button><button type="button" data-act="close">Close</button><p data-testid="privacy-confirm" hidden>Erase all feedback from this email for good? The Wix contact made from it stays in your contacts. <button type="button" class="danger" data-act="erase" data-testid="privacy-confirm-erase">Erase</button> <button type="button" data-act="cancel">Cancel</button></p><pre data-testid="privacy-result"></pre></div>"#;

/// `{"email": …}` as JSON, escaped by hand (serde_json's `Value` would cost the wasm more).
fn email_body(email: &str) -> String {
    let mut body = String::from(r#"{"email":""#);
    for c in email.chars() {
        match c {
            '"' | '\\' => {
                body.push('\\');
                body.push(c);
            }
            c if u32::from(c) < 0x20 => body.push(' '),
            c => body.push(c),
        }
    }
    body.push_str("\"}");
    body
}

/// A customer's privacy request: export or erase their feedback by email. Erasing asks for
/// confirmation first, in the page (no `confirm()`). The export shows the API's JSON answer.
#[component]
fn Privacy(on_erased: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    use wasm_bindgen::JsCast;
    let on_click = move |ev: leptos::ev::MouseEvent| {
        let target = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok());
        let box_ = ev
            .current_target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok());
        let (Some(target), Some(box_)) = (target, box_) else {
            return;
        };
        let find = |sel: &str| box_.query_selector(sel).ok().flatten();
        let show = |sel: &str, on: bool| {
            if let Some(el) = find(sel) {
                let _ = if on {
                    el.remove_attribute("hidden")
                } else {
                    el.set_attribute("hidden", "")
                };
            }
        };
        let act = target.get_attribute("data-act").unwrap_or_default();
        show(".privacy", act != "close");
        show("p", act == "ask");
        let path = match act.as_str() {
            "export" => "/api/privacy/export",
            "erase" => "/api/privacy/erase",
            _ => return,
        };
        let email = find("input")
            .and_then(|i| i.dyn_into::<web_sys::HtmlInputElement>().ok())
            .map(|i| i.value())
            .unwrap_or_default();
        let result = find("pre");
        let body = email_body(&email);
        spawn_local(async move {
            let mut text = crate::api::client::post_text(path, body).await;
            if let (true, Ok(answer)) = (path.ends_with("erase"), &mut text) {
                // `{"erased":n}` → "Erased n item(s)."
                let n = answer
                    .trim_start_matches(r#"{"erased":"#)
                    .trim_end_matches('}');
                *answer = format!("Erased {n} item(s).");
                on_erased();
            }
            if let Some(result) = result {
                result.set_text_content(Some(&text.unwrap_or_else(|e| e.message)));
            }
        });
    };
    view! { <div class="privacy-box" inner_html=PRIVACY_HTML on:click=on_click></div> }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ContactSync, ContactSyncState, Role};

    fn item() -> FeedbackItem {
        FeedbackItem {
            id: "f-1".into(),
            message: r#"<script>alert("x")</script> & 'more'"#.into(),
            email: Some(r#"a"b@example.com"#.into()),
            rating: Some(4),
            status: FeedbackStatus::Open,
            created_at: "2026-11-27T03:19:40.123456Z".into(),
            author_kind: Role::Visitor,
            contact: Some(ContactSync {
                state: ContactSyncState::Synced,
                contact_id: None,
            }),
            comp_id: "comp-<1>".into(),
        }
    }

    #[test]
    fn a_row_shows_the_item_with_its_text_escaped() {
        let mut html = String::new();
        row_html(&mut html, &item());
        for expected in [
            r#"<li class="feedback-item" data-testid="feedback-item" data-id="f-1" data-status="open">"#,
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;more&#39;",
            r#"<a href="mailto:a%22b@example.com">a&quot;b@example.com</a>"#,
            r#"data-testid="comp-id" title="Widget (compId)">comp-&lt;1&gt;</span>"#,
            r#"<span class="stars" aria-label="rating">★★★★☆</span>"#,
            r#"<time datetime="2026-11-27T03:19:40.123456Z">2026-11-27 03:19 UTC</time>"#,
            r#"data-testid="contact-state" title="Wix contact made from the email">contact synced</span>"#,
            r#"<button type="button" data-testid="resolve">Mark resolved</button>"#,
            r#"<button type="button" class="danger" data-testid="delete">Delete</button></div></li>"#,
        ] {
            assert!(html.contains(expected), "{expected}\nnot in\n{html}");
        }
        assert!(!html.contains("<script"), "{html}");
    }

    #[test]
    fn a_resolved_row_offers_reopen_and_a_plain_row_shows_less() {
        let mut plain = item();
        plain.status = FeedbackStatus::Resolved;
        plain.email = None;
        plain.rating = None;
        plain.contact = None;
        plain.comp_id = crate::model::DEFAULT_COMP_ID.into();
        let mut html = String::new();
        row_html(&mut html, &plain);
        assert!(
            html.contains(r#"data-testid="reopen">Reopen</button>"#),
            "{html}"
        );
        for absent in ["mailto:", "stars", "comp-id", "contact-state", "resolve\""] {
            assert!(!html.contains(absent), "{absent} in {html}");
        }
    }

    /// The early requests ask exactly what the wasm asks first, with the same credential.
    #[test]
    fn early_requests_match_the_first_requests() {
        let first = ListFeedbackRequest {
            status: Some(StatusFilter::Open),
            limit: Some(i64::from(LIST_DEFAULT_LIMIT)),
            cursor: None,
            comp_id: None,
        };
        for expected in [
            format!(r#"["{LIST_PATH}",'{}']"#, list_body(&first)),
            format!(r#"["{SUMMARY_PATH}","{{}}"]"#),
            format!("window.{}=", crate::api::client::EARLY_REQUESTS),
            format!("{:?}", crate::api::CREDENTIAL_PARAMS).replace(", ", ","),
        ] {
            assert!(
                EARLY_REQUESTS_JS.contains(&expected),
                "{expected}\nnot in\n{EARLY_REQUESTS_JS}"
            );
        }
    }

    #[test]
    fn the_status_line_says_what_the_list_is_doing() {
        assert!(status_html(&Load::Loading, true).contains(r#"data-testid="loading""#));
        assert!(status_html(&Load::Ready, true).contains(r#"data-testid="empty""#));
        assert_eq!(status_html(&Load::Ready, false), "");
        let failed = Load::Failed(ApiError::new(crate::api::ErrorCode::Network, "<b>down</b>"));
        assert!(status_html(&failed, true).contains("&lt;b&gt;down&lt;/b&gt;"));
    }

    /// A valid address can carry `?cc=…&body=…`; in the link it stays part of the address.
    #[test]
    fn a_mailto_link_adds_no_fields() {
        assert_eq!(
            mailto_address("x?cc=evil%40y.z&body=hi@ex.com"),
            "x%3Fcc%3Devil%2540y.z%26body%3Dhi@ex.com"
        );
        assert_eq!(
            mailto_address("jo.doe-1_~@example.com"),
            "jo.doe-1_~@example.com"
        );
        assert_eq!(mailto_address("ü@ex.com"), "%C3%BC@ex.com");
    }
}
