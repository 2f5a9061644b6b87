//! What a signed instance says: the payload JSON (borrowed, read once) and the role it grants.
//!
//! Separate from the verifier because this is Wix's vocabulary (`permissions`, `uid`, `aid`),
//! which changes for different reasons than the cryptography around it.

use std::borrow::Cow;

use serde::Deserialize;

use crate::auth::AuthError;
use crate::model::Role;

mod flat;

/// The payload fields this app reads. Unknown fields are ignored; all of these may be absent.
/// Fields borrow from the decoded JSON (see [`JsonStr`]): only the instance id and the subject
/// are copied out, into the [`VerifiedIdentity`](crate::auth::VerifiedIdentity).
#[derive(Debug, Default, PartialEq, Deserialize)]
pub(super) struct Payload<'a> {
    #[serde(rename = "instanceId", default, borrow)]
    pub(super) instance_id: Option<JsonStr<'a>>,
    #[serde(rename = "signDate", default, borrow)]
    pub(super) sign_date: Option<JsonStr<'a>>,
    #[serde(default, borrow)]
    pub(super) uid: Option<JsonStr<'a>>,
    #[serde(default, borrow)]
    pub(super) permissions: Option<JsonStr<'a>>,
    #[serde(default, borrow)]
    pub(super) aid: Option<JsonStr<'a>>,
    /// The paid plan; absent, `null` or empty on the free plan.
    #[serde(rename = "vendorProductId", default, borrow)]
    pub(super) vendor_product_id: Option<JsonStr<'a>>,
    /// Set on a duplicated site: the instance of the site it was copied from.
    #[serde(rename = "originInstanceId", default, borrow)]
    pub(super) origin_instance_id: Option<JsonStr<'a>>,
}

/// A JSON string borrowed from the payload, copied only when it has escapes. Its own type
/// because serde borrows a `Cow<str>` field only when the field's type is the `Cow` itself: in an
/// `Option<Cow<str>>` every string was allocated and copied (most of a verification's
/// allocations, measured with `perf`). The `#[serde(borrow)]` here is on the `Cow` itself.
#[derive(Debug, PartialEq, Deserialize)]
#[serde(transparent)]
pub(super) struct JsonStr<'a>(#[serde(borrow)] Cow<'a, str>);

impl JsonStr<'_> {
    pub(super) fn into_owned(self) -> String {
        self.0.into_owned()
    }
}

impl std::ops::Deref for JsonStr<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

/// Roles as Wix encodes them: `aid` marks an anonymous visitor whatever else the payload says;
/// `permissions == "OWNER"` marks the owner; any other `uid` is a member. A payload with neither
/// gets the least privilege.
#[inline]
pub(super) fn role_of<'a>(
    permissions: Option<&str>,
    uid: Option<&'a str>,
    aid: Option<&'a str>,
) -> (Role, Option<&'a str>) {
    let uid = uid.filter(|s| !s.is_empty());
    if let Some(aid) = aid.filter(|s| !s.is_empty()) {
        return (Role::Visitor, Some(aid));
    }
    if permissions == Some("OWNER") {
        return (Role::Owner, uid);
    }
    match uid {
        Some(uid) => (Role::Member, Some(uid)),
        None => (Role::Visitor, None),
    }
}

/// The decoded data read as a [`Payload`]; it must be a JSON object.
#[inline]
pub(super) fn parse_payload(json: &[u8]) -> Result<Payload<'_>, AuthError> {
    // serde would also read a struct from a JSON array; the payload must be an object.
    let starts_as_object = json
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{');
    if !starts_as_object {
        return Err(AuthError::Malformed("the data is not a JSON object"));
    }
    const BAD_SHAPE: AuthError =
        AuthError::Malformed("the data is not a JSON object of the expected shape");
    // One UTF-8 check of the whole payload: cheaper than `from_slice` checking each string.
    let json = std::str::from_utf8(json).map_err(|_| BAD_SHAPE)?;
    // Wix's flat payload is read without serde's machinery; any other shape goes to serde_json.
    match flat::read_flat(json) {
        Some(payload) => Ok(payload),
        None => serde_json::from_str(json).map_err(|_| BAD_SHAPE),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::auth::AuthError;
    use crate::model::Role;

    #[test]
    fn roles_follow_wix_fields() {
        for role in [Role::Owner, Role::Member, Role::Visitor] {
            let id = verifier().verify_at(&signed(role), now()).unwrap();
            assert_eq!(id.role(), role);
            assert_eq!(id.tenant().as_str(), "inst-1");
            assert_eq!(id.subject(), Some("subject-1"));
        }
        let date = "2026-01-02T03:04:05Z";
        let with_aid = sign_raw(&format!(
            r#"{{"instanceId":"i","signDate":"{date}","permissions":"OWNER","uid":"u","aid":"a"}}"#
        ));
        assert_eq!(
            verifier().verify_at(&with_aid, now()).unwrap().role(),
            Role::Visitor
        );
        let bare = sign_raw(&format!(r#"{{"instanceId":"i","signDate":"{date}"}}"#));
        assert_eq!(
            verifier().verify_at(&bare, now()).unwrap().role(),
            Role::Visitor
        );
        let other_perm = sign_raw(&format!(
            r#"{{"instanceId":"i","signDate":"{date}","permissions":"ADMIN","uid":"u"}}"#
        ));
        assert_eq!(
            verifier().verify_at(&other_perm, now()).unwrap().role(),
            Role::Member
        );
    }

    #[test]
    fn unknown_and_null_fields_are_tolerated() {
        let json = r#"{"instanceId":"i","signDate":"2026-01-02T03:04:05.123Z","uid":null,"permissions":null,"aid":"x","demoMode":false,"extra":{"a":[1,2]}}"#;
        assert!(verifier().verify_at(&sign_raw(json), now()).is_ok());
    }

    /// A duplicated site's signed payload names its origin; the verifier exposes it.
    #[test]
    fn origin_instance_id_is_exposed() {
        let date = "2026-01-02T03:04:05Z";
        let origin = |extra: &str| {
            let json = format!(r#"{{"instanceId":"i","signDate":"{date}"{extra}}}"#);
            let id = verifier().verify_at(&sign_raw(&json), now()).unwrap();
            id.origin_instance_id().map(|t| t.as_str().to_owned())
        };
        assert_eq!(origin(r#","originInstanceId":"o-1""#), Some("o-1".into()));
        assert_eq!(origin(""), None);
        assert_eq!(origin(r#","originInstanceId":null"#), None);
        assert_eq!(origin(r#","originInstanceId":"""#), None);
        assert_eq!(
            origin(r#","originInstanceId":"i""#),
            None,
            "itself is no origin"
        );
        let plain = verifier().verify_at(&signed(Role::Owner), now()).unwrap();
        assert_eq!(plain.origin_instance_id(), None);
    }

    /// Strings without escapes are read in place; one with an escape is unescaped into a copy.
    #[test]
    fn payload_strings_are_borrowed_unless_escaped() {
        use super::{parse_payload, JsonStr};
        use std::borrow::Cow;
        let json = br#"{"instanceId":"inst-1","uid":"u\u0031","signDate":"2026-01-02T03:04:05Z"}"#;
        let payload = parse_payload(json).unwrap();
        let borrowed = |s: &Option<JsonStr<'_>>| matches!(s, Some(JsonStr(Cow::Borrowed(_))));
        assert!(borrowed(&payload.instance_id), "{payload:?}");
        assert!(borrowed(&payload.sign_date), "{payload:?}");
        assert!(!borrowed(&payload.uid), "{payload:?}");
        assert_eq!(payload.uid.as_deref(), Some("u1"));
        assert_eq!(payload.instance_id.as_deref(), Some("inst-1"));
    }

    #[test]
    fn instance_id_is_required() {
        assert_eq!(
            err(&sign_raw(r#"{"signDate":"2026-01-02T03:04:05Z"}"#)),
            AuthError::NoInstanceId
        );
        assert_eq!(
            err(&sign_raw(
                r#"{"instanceId":"  ","signDate":"2026-01-02T03:04:05Z"}"#
            )),
            AuthError::NoInstanceId
        );
    }
}
