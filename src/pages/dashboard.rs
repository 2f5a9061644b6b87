//! `/dashboard`: the site owner's inbox. Lists, filters, resolves and deletes feedback.
//!
//! The filters are server-rendered, so they are disabled (and their group `aria-busy`) until the
//! page is interactive: a click before that waits visibly instead of doing nothing. The rows and
//! "Load more" come from requests the browser makes after hydration, so they work whenever shown.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;

use super::{hydrated_signal, page_has_instance, Notice, NoticeKind};
use crate::api::feedback::{
    delete_feedback, list_feedback, set_feedback_status, DeleteFeedbackRequest,
    ListFeedbackRequest, SetStatusRequest,
};
use crate::api::site::{site_summary, Summary};
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
            let result = list_feedback(req).await;
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
            match site_summary().await {
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

    view! {
        {move || match fatal.get() {
            Some(err) => view! { <Notice kind=NoticeKind::for_error(&err)/> }.into_any(),
            None => view! {
                <div class="counts" data-testid="counts">
                    {move || summary.get().and_then(|s| s.site_name).map(|name| view! {
                        <span class="site-name" data-testid="site-name">{name}</span>
                    })}
                    {move || summary.get().map(|s| view! {
                        <span>"Open " <strong data-testid="count-open">{s.open}</strong></span>
                        <span>"Resolved " <strong data-testid="count-resolved">{s.resolved}</strong></span>
                        <span>"Total " <strong data-testid="count-total">{s.total}</strong></span>
                    })}
                </div>
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
                <ul class="feedback-list" data-testid="feedback-list">
                    <For each=move || items.get() key=|item| (item.id.clone(), item.status) let:item>
                        <FeedbackRow item=item on_status=change_status on_delete=remove/>
                    </For>
                </ul>
                {move || match load.get() {
                    Load::Loading => view! { <p class="muted" data-testid="loading">"Loading…"</p> }.into_any(),
                    Load::Failed(err) => view! {
                        <p class="error" role="alert" data-testid="list-error">{err.message}</p>
                    }.into_any(),
                    Load::Ready if items.with(Vec::is_empty) => view! {
                        <p class="muted" data-testid="empty">"No feedback here yet."</p>
                    }.into_any(),
                    Load::Ready => view! { <span></span> }.into_any(),
                }}
                <Show when=move || next_cursor.with(Option::is_some)>
                    <button type="button" data-testid="load-more"
                        on:click=move |_| fetch_page(next_cursor.get_untracked())>
                        "Load more"
                    </button>
                </Show>
            }.into_any(),
        }}
    }
}

#[component]
fn FeedbackRow(
    item: FeedbackItem,
    on_status: impl Fn(String, FeedbackStatus) + Copy + Send + Sync + 'static,
    on_delete: impl Fn(String) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let (toggle_label, toggle_to, toggle_testid) = match item.status {
        FeedbackStatus::Open => ("Mark resolved", FeedbackStatus::Resolved, "resolve"),
        FeedbackStatus::Resolved => ("Reopen", FeedbackStatus::Open, "reopen"),
    };
    let id_toggle = item.id.clone();
    let id_delete = item.id.clone();
    let stars = item
        .rating
        .map(|r| format!("{}{}", "★".repeat(r.into()), "☆".repeat(5 - usize::from(r))));
    // "2026-11-27T03:19:40.123456Z" → "2026-11-27 03:19 UTC"
    let when = format!(
        "{} UTC",
        item.created_at
            .get(..16)
            .unwrap_or(&item.created_at)
            .replace('T', " ")
    );
    view! {
        <li class="feedback-item" data-testid="feedback-item" data-id=item.id.clone() data-status=item.status.as_str()>
            <p class="message" data-testid="feedback-message">{item.message.clone()}</p>
            <p class="meta">
                <span class="badge">{item.author_kind.as_str()}</span>
                {(item.comp_id != crate::model::DEFAULT_COMP_ID).then(|| view! {
                    <span class="badge" data-testid="comp-id" title="Widget (compId)">{item.comp_id.clone()}</span>
                })}
                {stars.map(|s| view! { <span class="stars" aria-label="rating">{s}</span> })}
                {item.email.clone().map(|e| view! { <a href=format!("mailto:{e}")>{e.clone()}</a> })}
                <time datetime=item.created_at.clone()>{when}</time>
                {item.contact.clone().map(|c| view! {
                    <span class=format!("contact {}", c.state.as_str()) data-testid="contact-state"
                        title="Wix contact made from the email">
                        {format!("contact {}", c.state.as_str())}
                    </span>
                })}
                <span class=format!("status {}", item.status.as_str())>{item.status.as_str()}</span>
            </p>
            <div class="actions">
                <button type="button" data-testid=toggle_testid on:click=move |_| on_status(id_toggle.clone(), toggle_to)>
                    {toggle_label}
                </button>
                <button type="button" class="danger" data-testid="delete" on:click=move |_| on_delete(id_delete.clone())>
                    "Delete"
                </button>
            </div>
        </li>
    }
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
        let url = summary
            .upgrade_url
            .replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;");
        format!(
            r#"<a class="button" data-testid="upgrade" href="{url}" target="_blank" rel="noopener">Upgrade</a>"#
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
