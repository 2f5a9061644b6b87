//! Entry points for the cargo-fuzz targets in `fuzz/` (cargo-fuzz compiles every crate with
//! `--cfg fuzzing`) and for the in-crate property tests. They reach the pure parsers that are
//! private in normal builds. Never compiled into the server: the webhook and Token Info entry
//! points mint identities from unverified input.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::access_token::{verdict_from_body, Verdict};
use super::{AccessTokenOptions, AuthError, VerifiedIdentity, WebhookError, WebhookEvent};

/// The credential inside an `Authorization` header, and whether it would be checked locally as
/// a signed instance (`true`) or sent to Token Info (`false`).
pub fn credential_from_header(header: &[u8]) -> Result<(&str, bool), AuthError> {
    let credential = super::credential_from_header(Some(header))?;
    Ok((credential, super::is_instance_shaped(credential)))
}

/// A Token Info answer body judged for `app_id` as of `now` (Unix seconds), with the default cap
/// on trust ([`AccessTokenOptions::max_ttl`]): the identity and how long it would be cached.
pub fn token_info(
    body: &[u8],
    app_id: &str,
    now: i64,
) -> Result<(VerifiedIdentity, Duration), AuthError> {
    let max_ttl = AccessTokenOptions::default().max_ttl;
    match verdict_from_body(body, app_id, max_ttl, now)? {
        Verdict::Valid {
            instance_id,
            role,
            subject,
            ttl,
        } => Ok((
            VerifiedIdentity::new(super::TenantId::verified(instance_id), role, subject),
            ttl,
        )),
        Verdict::Rejected(err) => Err(err),
    }
}

/// A webhook's claims JSON, taken as signed: the time checks and nested-JSON parsing that
/// follow the signature check in [`super::WebhookVerifier::verify_at`].
pub fn webhook_claims(
    claims_json: &[u8],
    now: DateTime<Utc>,
) -> Result<WebhookEvent, WebhookError> {
    super::webhook::event_from_claims_json(claims_json, now)
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::auth::MAX_AUTHORIZATION_LEN;
    use crate::model::Role;
    use proptest::prelude::*;
    use serde_json::{json, Value};

    const APP: &str = "app-1";

    fn any_now() -> impl Strategy<Value = DateTime<Utc>> {
        (any::<i64>(), 0..1_000_000_000u32)
            .prop_map(|(s, n)| DateTime::from_timestamp(s, n).unwrap_or_default())
    }

    /// A JSON value of any shape, a few levels deep.
    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                proptest::collection::btree_map("\\PC{0,8}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// A time claim as Wix might (or should not) send it.
    fn any_time_claim() -> impl Strategy<Value = Option<Value>> {
        proptest::option::of(prop_oneof![
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            (-10_000i64..10_000).prop_map(|d| Value::from(1_767_323_045 + d)),
            any_json(),
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn header_credential_is_trimmed_text_inside_the_header(
            header in proptest::collection::vec(any::<u8>(), 0..64),
            prefix in prop_oneof![Just(""), Just("Bearer "), Just("bearer\t"), Just(" BEARER  ")],
        ) {
            let mut bytes = prefix.as_bytes().to_vec();
            bytes.extend_from_slice(&header);
            if let Ok((credential, _)) = credential_from_header(&bytes) {
                prop_assert!(!credential.is_empty());
                prop_assert_eq!(credential, credential.trim());
                prop_assert!(credential.len() <= MAX_AUTHORIZATION_LEN);
                let text = std::str::from_utf8(&bytes).unwrap();
                prop_assert!(text.contains(credential));
            }
        }

        #[test]
        fn token_info_any_bytes(body in proptest::collection::vec(any::<u8>(), 0..256), now in any::<i64>()) {
            let _ = token_info(&body, APP, now);
        }

        #[test]
        fn token_info_any_answer(
            active in any::<bool>(),
            subject_type in proptest::option::of(prop_oneof![
                Just("USER".to_owned()), Just("MEMBER".to_owned()), Just("VISITOR".to_owned()),
                "\\PC{0,8}",
            ]),
            subject_id in proptest::option::of("\\PC{0,8}"),
            exp in proptest::option::of(any::<i64>()),
            client_id in proptest::option::of(prop_oneof![Just(APP.to_owned()), "\\PC{0,8}"]),
            instance_id in proptest::option::of("\\PC{0,8}"),
            extra in any_json(),
            now in any::<i64>(),
        ) {
            let body = json!({
                "active": active, "subjectType": subject_type, "subjectId": subject_id,
                "exp": exp, "clientId": client_id, "instanceId": instance_id, "extra": extra,
            });
            match token_info(body.to_string().as_bytes(), APP, now) {
                Ok((identity, ttl)) => {
                    prop_assert!(active);
                    prop_assert_eq!(client_id.as_deref(), Some(APP));
                    prop_assert_eq!(Some(identity.tenant().as_str()), instance_id.as_deref());
                    prop_assert!(!identity.tenant().as_str().trim().is_empty());
                    prop_assert!(exp.unwrap() > now);
                    prop_assert!(ttl > Duration::ZERO && ttl <= Duration::from_secs(300));
                    let expected = match subject_type.as_deref() {
                        Some("USER") => Role::Owner,
                        Some("MEMBER") => Role::Member,
                        _ => Role::Visitor,
                    };
                    prop_assert_eq!(identity.role(), expected);
                }
                Err(err) => prop_assert!(matches!(err, AuthError::InvalidAccessToken(_))),
            }
        }

        #[test]
        fn webhook_claims_any_bytes(body in proptest::collection::vec(any::<u8>(), 0..256), now in any_now()) {
            let _ = webhook_claims(&body, now);
        }

        #[test]
        fn webhook_claims_any_shape(
            event_type in proptest::option::of(prop_oneof![Just("AppInstalled".to_owned()), "\\PC{0,8}"]),
            instance_id in proptest::option::of("\\PC{0,8}"),
            identity in any_json(),
            data in any_json(),
            stringify in any::<(bool, bool, bool)>(),
            iat in any_time_claim(),
            exp in any_time_claim(),
            nbf in any_time_claim(),
            now in any_now(),
        ) {
            // Wix nests JSON as strings; each level is sent either way.
            let nest = |v: Value, as_string: bool| if as_string { Value::from(v.to_string()) } else { v };
            let envelope = json!({
                "eventType": event_type, "instanceId": instance_id,
                "identity": nest(identity, stringify.0), "data": nest(data, stringify.1),
            });
            let mut claims = json!({ "data": nest(envelope, stringify.2) });
            for (name, value) in [("iat", iat), ("exp", exp), ("nbf", nbf)] {
                if let Some(value) = value {
                    claims[name] = value;
                }
            }
            if let Ok(event) = webhook_claims(claims.to_string().as_bytes(), now) {
                prop_assert!(!event.event_type.is_empty());
                prop_assert_eq!(event.event_type.trim(), event.event_type.as_str());
                if let Some(tenant) = &event.tenant {
                    prop_assert!(!tenant.as_str().is_empty() && tenant.as_str().len() <= 200);
                    prop_assert!(!tenant.as_str().chars().any(char::is_control));
                } else {
                    prop_assert!(event.event_type != "AppInstalled" && event.event_type != "AppRemoved");
                }
            }
        }
    }
}
