//! Human messages for the states a framed page can end up in instead of working.

use leptos::prelude::*;

use crate::api::{ApiError, ErrorCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// No instance, or one the server could not verify.
    OpenFromWix,
    /// The instance is older than the server accepts.
    Expired,
    /// A visitor or member opened an owner-only page.
    OwnerOnly,
    /// The site uninstalled the app (a webhook said so); reinstalling brings it back.
    Removed,
    /// Anything else: server or network trouble.
    Failure,
}

impl NoticeKind {
    pub fn for_error(error: &ApiError) -> Self {
        match error.error {
            ErrorCode::InstanceExpired => NoticeKind::Expired,
            ErrorCode::Forbidden => NoticeKind::OwnerOnly,
            ErrorCode::InstanceRemoved => NoticeKind::Removed,
            code if code.is_auth() => NoticeKind::OpenFromWix,
            _ => NoticeKind::Failure,
        }
    }

    /// Whether this error replaces the whole page (as opposed to an inline message).
    pub fn is_page_level(error: &ApiError) -> bool {
        error.error.is_auth()
            || matches!(
                error.error,
                ErrorCode::Forbidden | ErrorCode::InstanceRemoved
            )
    }

    fn text(self) -> (&'static str, &'static str) {
        match self {
            NoticeKind::OpenFromWix => (
                "Open this app from your Wix dashboard",
                "This page only works inside Wix, which signs every visit. The link you used is missing that signature or it could not be verified.",
            ),
            NoticeKind::Expired => (
                "This page has expired",
                "It has been open for a long time. Reload the page to continue.",
            ),
            NoticeKind::OwnerOnly => (
                "Only the site owner can see this",
                "Feedback is visible to the site owner in the Wix dashboard.",
            ),
            NoticeKind::Removed => (
                "This app was removed from the site",
                "Reinstall it from the Wix App Market to use it again.",
            ),
            NoticeKind::Failure => (
                "Something went wrong",
                "We could not reach the app. Check your connection and try again.",
            ),
        }
    }
}

#[component]
pub fn Notice(kind: NoticeKind) -> impl IntoView {
    let (title, detail) = kind.text();
    view! {
        <div class="notice" role="alert" data-testid="notice" data-kind=format!("{kind:?}")>
            <h2>{title}</h2>
            <p>{detail}</p>
        </div>
    }
}
