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
