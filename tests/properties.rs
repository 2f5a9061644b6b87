//! Property tests (proptest) of the public parsers of client input: signed instances,
//! `Authorization` headers, webhook bodies. The rule: no input panics, what is signed verifies
//! as what was signed, and no single-bit or single-byte change of a signed credential is
//! accepted. Private parsers (Token Info answers, webhook claims, cursors) have their own
//! properties inside the crate (src/auth/fuzzing.rs, src/store/feedback.rs).
//!
//! The fixtures (secret, app id, the fixed clock, verifiers, keys) are the crate's shared ones,
//! `wix_app::testing`; checks that do not draw their own time run at the fixed clock.

use std::sync::LazyLock;

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use serde_json::{json, Value};
use wix_app::auth::{
    sign_instance, sign_webhook, AuthError, InstanceClaims, InstanceVerifier, VerifiedIdentity,
    WebhookError, WebhookPublicKey, WebhookVerifier, MAX_AUTHORIZATION_LEN,
};
use wix_app::model::Role;
use wix_app::store::PageCursor;
use wix_app::testing::{
    installed, verifier, webhook_verifier, APP_ID, FIXED_NOW, OTHER_PUBLIC_KEY, SECRET, SITE_A,
    WEBHOOK_PRIVATE_KEY,
};

static WEBHOOKS: LazyLock<WebhookVerifier> = LazyLock::new(webhook_verifier);

/// One signed webhook (RSA signing is slow in debug builds: mutate this one).
static SIGNED_WEBHOOK: LazyLock<String> = LazyLock::new(|| installed(SITE_A, FIXED_NOW));

fn any_role() -> impl Strategy<Value = Role> {
    prop_oneof![Just(Role::Owner), Just(Role::Member), Just(Role::Visitor)]
}

/// Any instant in chrono's range.
fn any_instant() -> impl Strategy<Value = DateTime<Utc>> {
    (any::<i64>(), 0..1_000_000_000u32)
        .prop_map(|(s, n)| DateTime::from_timestamp(s, n).unwrap_or_default())
}

/// Instants Wix could sign: years 1970–9999 (RFC 3339 has four-digit years).
fn signable_instant() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..253_402_300_799).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
}

/// A string that is not only whitespace (the verifiers refuse blank ids).
fn id_text() -> impl Strategy<Value = String> {
    "\\PC{1,40}".prop_filter("blank", |s| !s.trim().is_empty())
}

fn signed_identity() -> impl Strategy<Value = (String, VerifiedIdentity)> {
    (id_text(), any_role(), "\\PC{1,24}").prop_map(|(instance, role, subject)| {
        let signed = InstanceClaims::for_role(&instance, APP_ID, role, &subject, FIXED_NOW)
            .sign(SECRET.as_bytes());
        let identity = verifier().verify_at(&signed, FIXED_NOW).unwrap();
        (signed, identity)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn instance_verifier_never_panics_on_text(instance in "\\PC{0,200}", now in any_instant()) {
        let _ = verifier().verify_at(&instance, now);
        let _ = InstanceVerifier::new(SECRET.as_bytes(), 0).verify_at(&instance, now);
    }

    #[test]
    fn instance_verifier_never_panics_on_instance_shapes(
        sig in "[A-Za-z0-9_+/=-]{0,48}",
        data in "[A-Za-z0-9_+/=-]{0,120}",
        now in any_instant(),
    ) {
        let instance = format!("{sig}.{data}");
        prop_assert!(verifier().verify_at(&instance, now).is_err());
    }

    #[test]
    fn any_signed_text_is_refused_or_verified(payload in "\\PC{0,120}", max_age in any::<u64>(), now in any_instant()) {
        // Behind a good signature: the JSON, instanceId and signDate handling.
        let verifier = InstanceVerifier::new(SECRET.as_bytes(), max_age);
        if let Ok(identity) = verifier.verify_at(&sign_instance(SECRET.as_bytes(), &payload), now) {
            prop_assert!(!identity.tenant().as_str().trim().is_empty());
        }
    }

    #[test]
    fn any_signed_payload_shape_is_refused_or_verified(
        instance_id in proptest::option::of(prop_oneof![id_text().prop_map(Value::from), any::<i64>().prop_map(Value::from)]),
        sign_date in proptest::option::of(prop_oneof![
            signable_instant().prop_map(|d| Value::from(d.to_rfc3339())),
            "\\PC{0,30}".prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
        ]),
        uid in proptest::option::of("\\PC{0,8}"),
        aid in proptest::option::of("\\PC{0,8}"),
        permissions in proptest::option::of(prop_oneof![Just("OWNER".to_owned()), "\\PC{0,8}"]),
        now in any_instant(),
    ) {
        let payload = json!({
            "instanceId": instance_id, "signDate": sign_date, "uid": uid, "aid": aid,
            "permissions": permissions,
        });
        let result = verifier().verify_at(&sign_instance(SECRET.as_bytes(), &payload.to_string()), now);
        if let Ok(identity) = result {
            prop_assert_eq!(Some(identity.tenant().as_str()), instance_id.as_ref().and_then(Value::as_str));
            if aid.as_deref().is_some_and(|a| !a.is_empty()) {
                prop_assert_eq!(identity.role(), Role::Visitor);
            }
        }
    }

    #[test]
    fn header_verifier_never_panics_on_bytes(header in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = verifier().verify_header_at(Some(&header), FIXED_NOW);
        let mut bearer = b"Bearer ".to_vec();
        bearer.extend_from_slice(&header);
        let _ = verifier().verify_header_at(Some(&bearer), FIXED_NOW);
    }

    #[test]
    fn over_long_headers_are_refused_first(extra in 1usize..64, byte in any::<u8>()) {
        let header = vec![byte; MAX_AUTHORIZATION_LEN + extra];
        prop_assert_eq!(verifier().verify_header_at(Some(&header), FIXED_NOW), Err(AuthError::TooLong));
    }

    #[test]
    fn verifier_config_never_panics(secret in proptest::collection::vec(any::<u8>(), 0..100), max_age in any::<u64>()) {
        let _ = InstanceVerifier::new(&secret, max_age).verify_at("a.b", FIXED_NOW);
    }

    #[test]
    fn sign_then_verify_round_trips(
        instance in id_text(),
        role in any_role(),
        subject in "\\PC{1,40}",
        app in "\\PC{0,20}",
        secret in proptest::collection::vec(any::<u8>(), 0..80),
        at in signable_instant(),
        header in any::<bool>(),
    ) {
        let signed = InstanceClaims::for_role(&instance, &app, role, &subject, at).sign(&secret);
        let verifier = InstanceVerifier::new(&secret, 300);
        let identity = if header {
            verifier.verify_header_at(Some(format!("Bearer {signed}").as_bytes()), at)
        } else {
            verifier.verify_at(&signed, at)
        }.unwrap();
        prop_assert_eq!(identity.tenant().as_str(), instance.as_str());
        prop_assert_eq!(identity.role(), role);
        prop_assert_eq!(identity.subject(), Some(subject.as_str()));
        // The same instance with another secret is refused. (Not `secret + [0]`: HMAC pads
        // short keys with zero bytes, so keys differing only in trailing zeros are one key.)
        let mut other = secret.clone();
        other.push(b'x');
        prop_assert_eq!(InstanceVerifier::new(&other, 300).verify_at(&signed, at), Err(AuthError::BadSignature));
    }

    /// Flipping any one bit of a signed instance (signature, dot or data) is refused: it never
    /// verifies, as the same identity or another. This holds for the lenient decoder too: the
    /// HMAC covers the data exactly as received, and non-zero trailing bits in the signature
    /// are refused, so no single-bit change is an equivalent base64 spelling.
    #[test]
    fn any_single_bit_flip_is_refused((signed, _) in signed_identity(), index in any::<prop::sample::Index>(), bit in 0u8..8) {
        let mut bytes = signed.into_bytes();
        let i = index.index(bytes.len());
        bytes[i] ^= 1 << bit;
        let result = verifier().verify_header_at(Some(&bytes), FIXED_NOW);
        prop_assert!(result.is_err(), "byte {} bit {} verified: {:?}", i, bit, result);
        if let Ok(text) = std::str::from_utf8(&bytes) {
            prop_assert!(verifier().verify_at(text, FIXED_NOW).is_err());
        }
    }

    #[test]
    fn webhook_verifier_never_panics_on_bytes(body in proptest::collection::vec(any::<u8>(), 0..300), now in any_instant()) {
        let _ = WEBHOOKS.verify_at(&body, now);
    }

    #[test]
    fn webhook_verifier_never_panics_on_jwt_shapes(
        header in prop_oneof![
            Just("eyJhbGciOiJSUzI1NiJ9".to_owned()),
            Just("eyJhbGciOiJIUzI1NiJ9".to_owned()),
            "[A-Za-z0-9_=-]{0,40}",
        ],
        payload in "[A-Za-z0-9_=-]{0,80}",
        sig in "[A-Za-z0-9_=-]{0,360}",
    ) {
        let token = format!("{header}.{payload}.{sig}");
        prop_assert!(WEBHOOKS.verify_at(token.as_bytes(), FIXED_NOW).is_err());
    }

    /// Any single-byte change of a signed webhook is refused (base64url of the signature has
    /// no spare bits that a change could hide in: non-zero trailing bits are refused).
    #[test]
    fn webhook_single_byte_changes_are_refused(index in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = SIGNED_WEBHOOK.clone().into_bytes();
        let i = index.index(bytes.len());
        prop_assume!(bytes[i] != byte);
        bytes[i] = byte;
        let result = WEBHOOKS.verify_at(&bytes, FIXED_NOW);
        prop_assert!(result.is_err(), "byte {} -> {:#04x} verified: {:?}", i, byte, result);
    }

    #[test]
    fn cursor_decode_never_panics(raw in "\\PC{0,260}", bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = PageCursor::decode(&raw);
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = PageCursor::decode(text);
        }
    }
}

proptest! {
    // RSA signing costs tens of milliseconds in debug builds: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn webhook_sign_then_verify_round_trips(
        event_type in "\\PC{1,20}".prop_filter("blank", |s| !s.trim().is_empty()),
        instance in "[^\\p{Cc}]{1,40}".prop_filter("blank", |s| !s.trim().is_empty()),
        key in "\\PC{0,10}",
        value in "\\PC{0,40}",
        offset_secs in -86_400i64..=60,
    ) {
        let body = json!({ key.clone(): value.clone() });
        let at = FIXED_NOW + Duration::seconds(offset_secs);
        let token = sign_webhook(WEBHOOK_PRIVATE_KEY, &event_type, &instance, &body, at).unwrap();
        let event = WEBHOOKS.verify_at(token.as_bytes(), FIXED_NOW).unwrap();
        prop_assert_eq!(event.event_type.as_str(), event_type.trim());
        prop_assert_eq!(event.tenant.as_ref().map(|t| t.as_str()), Some(instance.trim()));
        prop_assert_eq!(event.issued_at, Some(at));
        prop_assert_eq!(&event.body, &body);
        // The same token from another key pair's verifier is refused.
        let other = WebhookVerifier::new(WebhookPublicKey::from_pem(OTHER_PUBLIC_KEY).unwrap(), APP_ID);
        prop_assert_eq!(other.verify_at(token.as_bytes(), FIXED_NOW).unwrap_err(), WebhookError::Signature);
    }
}
