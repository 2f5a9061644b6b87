//! Domain vocabulary shared by the server and the browser: who is calling and what feedback is.
//!
//! Each enum's names are written once: serde's `rename_all` and strum's `serialize_all` apply the
//! same `snake_case` rule, strum derives both directions (`as_str` through [`IntoStaticStr`],
//! `str::parse` through [`EnumString`]) for the database and logs, and the tests below pin every
//! spelling and prove serde and strum agree. The strings are stored in SQLite and sent to the
//! browser: renaming a variant is a migration and a contract change.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr};

/// What a verified caller may be. Decided by the verifier, never by the client.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, IntoStaticStr, EnumString,
)]
#[cfg_attr(test, derive(strum::VariantArray))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Role {
    /// The site owner (or a collaborator with owner rights) in the Wix dashboard.
    Owner,
    /// A logged-in site member.
    Member,
    /// An anonymous site visitor.
    Visitor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Whether the site owner has dealt with a piece of feedback.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, IntoStaticStr, EnumString,
)]
#[cfg_attr(test, derive(strum::VariantArray))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum FeedbackStatus {
    Open,
    Resolved,
}

impl FeedbackStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The dashboard's list filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusFilter {
    #[default]
    Open,
    Resolved,
    All,
}

impl StatusFilter {
    /// The single status this filter selects, or `None` for all of them.
    pub fn status(self) -> Option<FeedbackStatus> {
        match self {
            StatusFilter::Open => Some(FeedbackStatus::Open),
            StatusFilter::Resolved => Some(FeedbackStatus::Resolved),
            StatusFilter::All => None,
        }
    }
}

/// One piece of feedback as the dashboard sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackItem {
    pub id: String,
    pub message: String,
    pub email: Option<String>,
    pub rating: Option<u8>,
    pub status: FeedbackStatus,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub author_kind: Role,
    /// The Wix contact made from `email`; `None` when there is no email.
    pub contact: Option<ContactSync>,
    /// The widget (Wix `compId`) it was left in; `default` when the widget sent none.
    #[serde(default = "default_comp_id")]
    pub comp_id: String,
}

fn default_comp_id() -> String {
    DEFAULT_COMP_ID.to_owned()
}

/// Where the feedback's email is on its way to becoming a Wix contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactSync {
    pub state: ContactSyncState,
    pub contact_id: Option<String>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, IntoStaticStr, EnumString,
)]
#[cfg_attr(test, derive(strum::VariantArray))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ContactSyncState {
    /// Waiting for the worker (also while Wix is unreachable).
    Pending,
    Synced,
    /// Wix refused it for good (e.g. the app lacks the permission), or it was still not done
    /// after `OUTBOX_MAX_AGE_HOURS`.
    Failed,
    /// Not attempted: the site already had `OUTBOX_MAX_PENDING_PER_SITE` syncs waiting.
    Skipped,
}

impl ContactSyncState {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What a server function may require of the site's plan
/// (`caller.require_plan(Plan::Premium)?`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    Free,
    Premium,
}

/// The site's plan and this month's usage, as `POST /api/site/summary` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanInfo {
    /// The Wix vendor product id; `None` on the free plan.
    pub id: Option<String>,
    pub premium: bool,
    /// New feedback this calendar month (UTC), deleted items included.
    pub month_submissions: i64,
    /// `None` when unlimited (premium).
    pub monthly_limit: Option<i64>,
}

/// Limits of a feedback submission, checked on both sides (the server's check is the one that counts).
pub const MESSAGE_MAX_CHARS: usize = 2000;
pub const EMAIL_MAX_CHARS: usize = 254;
pub const RATING_RANGE: std::ops::RangeInclusive<i64> = 1..=5;
pub const LIST_DEFAULT_LIMIT: u32 = 20;
pub const LIST_MAX_LIMIT: u32 = 100;

/// The widget a page or request names when Wix gave it no `compId`.
pub const DEFAULT_COMP_ID: &str = "default";
pub const COMP_ID_MAX_CHARS: usize = 64;
pub const TITLE_MAX_CHARS: usize = 80;
pub const PROMPT_MAX_CHARS: usize = 200;

/// Whether `comp_id` is 1 to 64 characters of `[A-Za-z0-9_-]`.
pub fn is_valid_comp_id(comp_id: &str) -> bool {
    (1..=COMP_ID_MAX_CHARS).contains(&comp_id.len())
        && comp_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The settings of one copy of the site widget (one Wix `compId` of one site).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetSettings {
    pub comp_id: String,
    /// The widget's heading, 1 to 80 characters.
    pub title: String,
    /// The message field's placeholder, 0 to 200 characters.
    pub prompt: String,
    pub ask_email: bool,
    pub ask_rating: bool,
    /// `#rrggbb`, lower case.
    pub accent_color: String,
}

impl WidgetSettings {
    /// What a widget shows before its owner saved anything.
    pub fn defaults(comp_id: String) -> Self {
        Self {
            comp_id,
            title: "Tell us what you think".into(),
            prompt: "What should we know?".into(),
            ask_email: true,
            ask_rating: true,
            accent_color: "#116dff".into(),
        }
    }

    /// The settings as they are stored: trimmed title and prompt, lower-case colour, or the
    /// first field that is wrong and why (checked by the server; the settings page shows it).
    pub fn normalized(mut self) -> Result<Self, WidgetSettingsError> {
        let fail = |field, message: String| Err(WidgetSettingsError { field, message });
        if !is_valid_comp_id(&self.comp_id) {
            return fail(
                "comp_id",
                format!("comp_id must be 1 to {COMP_ID_MAX_CHARS} characters of A-Z, a-z, 0-9, _ and -."),
            );
        }
        self.title = self.title.trim().to_owned();
        if self.title.is_empty() || self.title.chars().count() > TITLE_MAX_CHARS {
            return fail(
                "title",
                format!("title must be 1 to {TITLE_MAX_CHARS} characters."),
            );
        }
        self.prompt = self.prompt.trim().to_owned();
        if self.prompt.chars().count() > PROMPT_MAX_CHARS {
            return fail(
                "prompt",
                format!("prompt must be at most {PROMPT_MAX_CHARS} characters."),
            );
        }
        match accent_color(&self.accent_color) {
            Some(color) => self.accent_color = color,
            None => {
                return fail(
                    "accent_color",
                    "accent_color must be a colour like #116dff.".into(),
                )
            }
        }
        Ok(self)
    }
}

/// `#rrggbb` (any case, surrounding blanks ignored) in lower case, or `None`.
pub fn accent_color(raw: &str) -> Option<String> {
    let color = raw.trim();
    let hex = color.strip_prefix('#')?;
    (hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| color.to_ascii_lowercase())
}

/// Which field of [`WidgetSettings`] is wrong, and a sentence saying why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WidgetSettingsError {
    pub field: &'static str,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeOwned;
    use std::fmt::Debug;
    use std::str::FromStr;
    use strum::VariantArray;

    /// `expected` names every variant exactly once with its spelling; each one must come out of
    /// `as_str` (strum), `parse` (strum) and serde the same way, and nothing else may parse.
    fn assert_names<T>(expected: &[(T, &str)], as_str: fn(T) -> &'static str)
    where
        T: VariantArray + Copy + PartialEq + Debug + Serialize + DeserializeOwned + FromStr,
    {
        assert_eq!(expected.len(), T::VARIANTS.len(), "every variant is listed");
        for variant in T::VARIANTS {
            assert!(expected.iter().any(|(v, _)| v == variant), "{variant:?}");
        }
        for &(variant, name) in expected {
            assert_eq!(as_str(variant), name);
            assert_eq!(name.parse::<T>().ok(), Some(variant), "{name}");
            assert_eq!(serde_json::to_value(variant).unwrap(), name);
            assert_eq!(serde_json::from_value::<T>(name.into()).unwrap(), variant);
            assert!(
                name.to_uppercase().parse::<T>().is_err(),
                "{name} is case-sensitive"
            );
        }
        assert!("".parse::<T>().is_err());
    }

    #[test]
    fn role_names() {
        assert_names(
            &[
                (Role::Owner, "owner"),
                (Role::Member, "member"),
                (Role::Visitor, "visitor"),
            ],
            Role::as_str,
        );
    }

    #[test]
    fn feedback_status_names() {
        assert_names(
            &[
                (FeedbackStatus::Open, "open"),
                (FeedbackStatus::Resolved, "resolved"),
            ],
            FeedbackStatus::as_str,
        );
    }

    #[test]
    fn contact_sync_state_names() {
        assert_names(
            &[
                (ContactSyncState::Pending, "pending"),
                (ContactSyncState::Synced, "synced"),
                (ContactSyncState::Failed, "failed"),
                (ContactSyncState::Skipped, "skipped"),
            ],
            ContactSyncState::as_str,
        );
    }
}
