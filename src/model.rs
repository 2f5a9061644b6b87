//! Domain vocabulary shared by the server and the browser: who is calling and what feedback is.

use serde::{Deserialize, Serialize};

/// What a verified caller may be. Decided by the verifier, never by the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
        match self {
            Role::Owner => "owner",
            Role::Member => "member",
            Role::Visitor => "visitor",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "owner" => Some(Role::Owner),
            "member" => Some(Role::Member),
            "visitor" => Some(Role::Visitor),
            _ => None,
        }
    }
}

/// Whether the site owner has dealt with a piece of feedback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackStatus {
    Open,
    Resolved,
}

impl FeedbackStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackStatus::Open => "open",
            FeedbackStatus::Resolved => "resolved",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "open" => Some(FeedbackStatus::Open),
            "resolved" => Some(FeedbackStatus::Resolved),
            _ => None,
        }
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
}

/// Where the feedback's email is on its way to becoming a Wix contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactSync {
    pub state: ContactSyncState,
    pub contact_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
        match self {
            ContactSyncState::Pending => "pending",
            ContactSyncState::Synced => "synced",
            ContactSyncState::Failed => "failed",
            ContactSyncState::Skipped => "skipped",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "pending" => Some(ContactSyncState::Pending),
            "synced" => Some(ContactSyncState::Synced),
            "failed" => Some(ContactSyncState::Failed),
            "skipped" => Some(ContactSyncState::Skipped),
            _ => None,
        }
    }
}

/// Limits of a feedback submission, checked on both sides (the server's check is the one that counts).
pub const MESSAGE_MAX_CHARS: usize = 2000;
pub const EMAIL_MAX_CHARS: usize = 254;
pub const RATING_RANGE: std::ops::RangeInclusive<i64> = 1..=5;
pub const LIST_DEFAULT_LIMIT: u32 = 20;
pub const LIST_MAX_LIMIT: u32 = 100;
