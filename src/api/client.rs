//! The browser side of every server-function call: adds `Authorization: <instance>`.
//!
//! Wix sandboxes our iframes (no cookies, no storage), so the signed `instance` from the page URL
//! is the only credential we have. It is read once and sent raw, as Wix's own samples do.

use std::future::Future;
use std::sync::OnceLock;

use leptos::server_fn::client::browser::BrowserClient;
use leptos::server_fn::client::Client;
use leptos::server_fn::error::FromServerFnError;
use leptos::server_fn::request::browser::BrowserRequest;
use leptos::server_fn::response::browser::BrowserResponse;
use leptos::server_fn::Bytes;

/// The page's credential, read once: the signed `instance` Wix appends, or else an
/// `accessToken` (a Wix access token handed to a self-hosted widget by its host).
fn page_instance() -> Option<&'static str> {
    static CREDENTIAL: OnceLock<Option<String>> = OnceLock::new();
    CREDENTIAL
        .get_or_init(|| {
            let search = leptos::prelude::window().location().search().ok()?;
            let params = web_sys::UrlSearchParams::new_with_str(&search).ok()?;
            crate::api::CREDENTIAL_PARAMS
                .iter()
                .find_map(|name| params.get(name).filter(|value| !value.is_empty()))
        })
        .as_deref()
}

/// `POST path` with a JSON `body` and the page's credential, outside server_fn: one small code
/// path for the calls whose answer the page only shows or downloads (the dashboard's wasm has a
/// size budget). A non-2xx answer becomes its JSON [`ApiError`](crate::api::ApiError).
pub async fn post_text(path: &str, body: String) -> Result<String, crate::api::ApiError> {
    use crate::api::{ApiError, ErrorCode};
    let network = |e: gloo_net::Error| ApiError::new(ErrorCode::Network, e.to_string());
    let mut req = gloo_net::http::Request::post(path).header("content-type", "application/json");
    if let Some(instance) = page_instance() {
        req = req.header("Authorization", instance);
    }
    let res = req
        .body(body)
        .map_err(network)?
        .send()
        .await
        .map_err(network)?;
    let text = res.text().await.map_err(network)?;
    answer(res.ok(), text)
}

/// A response's text, or for a non-2xx answer its JSON [`ApiError`](crate::api::ApiError).
fn answer(ok: bool, text: String) -> Result<String, crate::api::ApiError> {
    use crate::api::{ApiError, ErrorCode};
    if !ok {
        return Err(serde_json::from_slice(text.as_bytes())
            .unwrap_or_else(|_| ApiError::new(ErrorCode::Network, text)));
    }
    Ok(text)
}

/// Where the page's early requests wait for the wasm: `window[EARLY_REQUESTS]` maps a path to
/// `{body, answer}`, `answer` a promise of `[ok, text]` (`[false, null]` when the network
/// failed). Written by the dashboard's inline script (`pages/dashboard.rs`).
pub const EARLY_REQUESTS: &str = "__wixAppEarly";

/// `POST path` with a JSON `body`, read as JSON: answered by the page's early request for the
/// same path and body when there is one (taken once), else by a request made now. The early
/// request left while the wasm was still downloading, so its answer is usually there already.
pub async fn post_json<T: serde::de::DeserializeOwned>(
    path: &str,
    body: String,
) -> Result<T, crate::api::ApiError> {
    use crate::api::{ApiError, ErrorCode};
    let text = early_or_post(path, body).await?;
    serde_json::from_str(&text)
        .map_err(|_| ApiError::new(ErrorCode::Network, "The server's answer could not be read."))
}

/// [`post_json`]'s text; not generic, so the wasm has one copy of it.
async fn early_or_post(path: &str, body: String) -> Result<String, crate::api::ApiError> {
    use crate::api::{ApiError, ErrorCode};
    let Some(early) = take_early_request(path, &body) else {
        return post_text(path, body).await;
    };
    let pair = wasm_bindgen_futures::JsFuture::from(early).await.ok();
    let field = |i: u32| {
        pair.as_ref()
            .and_then(|p| web_sys::js_sys::Reflect::get_u32(p, i).ok())
    };
    match (
        field(0).and_then(|v| v.as_bool()),
        field(1).and_then(|v| v.as_string()),
    ) {
        (Some(ok), Some(text)) => answer(ok, text),
        _ => Err(ApiError::new(
            ErrorCode::Network,
            "The server could not be reached.",
        )),
    }
}

/// The pending answer of the page's early `POST path` with exactly `body`, removed so that it
/// answers once; `None` when there is none.
fn take_early_request(path: &str, body: &str) -> Option<web_sys::js_sys::Promise> {
    use wasm_bindgen::JsCast;
    use web_sys::js_sys::{Object, Reflect};
    let early = Reflect::get(&leptos::prelude::window(), &EARLY_REQUESTS.into()).ok()?;
    let early = early.dyn_into::<Object>().ok()?;
    let entry = Reflect::get(&early, &path.into()).ok()?;
    let _ = Reflect::delete_property(&early, &path.into());
    let sent = Reflect::get(&entry, &"body".into()).ok()?.as_string()?;
    if sent != body {
        return None;
    }
    Reflect::get(&entry, &"answer".into()).ok()?.dyn_into().ok()
}

/// `POST /api/feedback/export` (CSV, not JSON, so not a server function): fetches the site's
/// feedback as CSV and hands it to the browser as the download `feedback.csv`.
pub async fn download_csv() -> Result<(), crate::api::ApiError> {
    use crate::api::{ApiError, ErrorCode};
    use wasm_bindgen::JsCast;
    let csv = post_text("/api/feedback/export", "{}".into()).await?;
    let js = |_| ApiError::new(ErrorCode::Network, "The download could not be started.");
    // A Blob, not a data: URL: browsers cap data: URLs at a few MB, exports may be larger.
    let parts = web_sys::js_sys::Array::of1(&csv.into());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("text/csv;charset=utf-8");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).map_err(js)?;
    let href = web_sys::Url::create_object_url_with_blob(&blob).map_err(js)?;
    let link = leptos::prelude::document()
        .create_element("a")
        .map_err(js)?;
    link.set_attribute("href", &href).map_err(js)?;
    link.set_attribute("download", "feedback.csv").map_err(js)?;
    if let Ok(link) = link.dyn_into::<web_sys::HtmlElement>() {
        link.click();
    }
    let _ = web_sys::Url::revoke_object_url(&href);
    Ok(())
}

/// server_fn's browser client plus the `Authorization` header.
pub struct AuthClient;

impl<E, IS, OS> Client<E, IS, OS> for AuthClient
where
    E: FromServerFnError,
    IS: FromServerFnError,
    OS: FromServerFnError,
{
    type Request = BrowserRequest;
    type Response = BrowserResponse;

    fn send(req: Self::Request) -> impl Future<Output = Result<Self::Response, E>> + Send {
        if let Some(instance) = page_instance() {
            req.headers().set("Authorization", instance);
        }
        <BrowserClient as Client<E, IS, OS>>::send(req)
    }

    #[allow(clippy::type_complexity)]
    fn open_websocket(
        path: &str,
    ) -> impl Future<
        Output = Result<
            (
                impl futures::Stream<Item = Result<Bytes, Bytes>> + Send + 'static,
                impl futures::Sink<Bytes> + Send + 'static,
            ),
            E,
        >,
    > + Send {
        <BrowserClient as Client<E, IS, OS>>::open_websocket(path)
    }

    fn spawn(future: impl Future<Output = ()> + Send + 'static) {
        <BrowserClient as Client<E, IS, OS>>::spawn(future)
    }
}
