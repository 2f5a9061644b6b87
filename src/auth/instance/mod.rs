//! Wix's signed `instance` parameter: `<signature>.<data>`, verified locally with the app secret.
//!
//! `data` is base64url JSON; `signature` is base64url HMAC-SHA256 over the *encoded* `data` as
//! received. Wix sends unpadded base64url, its TypeScript sample also accepts the standard
//! alphabet and padding, so the decoder here accepts all four spellings. Unlike Wix's samples the
//! comparison is constant-time (`constant_time_eq`) and `signDate` has a maximum age.
//!
//! This file is the verifier alone; the rest of the concept lives beside it:
//! - `encoding.rs`: the four base64 spellings, decoded into stack buffers (the hot path);
//! - `payload.rs`: the signed JSON and the role it grants;
//! - `sign.rs`: signing instances like Wix does, for `/dev`, the `sign-instance` CLI and tests.

mod encoding;
mod payload;
mod sign;

use std::mem::MaybeUninit;

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{AuthError, InstancePlan, TenantId, VerifiedIdentity};
use encoding::decode_base64_into;
use payload::{parse_payload, role_of};
pub use sign::{sign_instance, InstanceClaims};

/// Headers longer than this are refused before any decoding or hashing.
pub const MAX_AUTHORIZATION_LEN: usize = 4096;
/// How far in the future a `signDate` may be (clock skew between Wix and us).
const MAX_FUTURE_SKEW_SECS: i64 = 60;

type HmacSha256 = Hmac<Sha256>;

/// Decoded signatures longer than this cannot be a SHA-256 HMAC; the stack buffer is this size.
const SIGNATURE_BUF_LEN: usize = 48;
/// The decoded data can never exceed 3/4 of the header cap, so it always fits on the stack.
const DATA_BUF_LEN: usize = MAX_AUTHORIZATION_LEN / 4 * 3;

/// Verifies signed instances with one app secret. Cheap to share: the keyed HMAC state is
/// computed once and cloned per verification.
#[derive(Clone)]
pub struct InstanceVerifier {
    keyed_mac: HmacSha256,
    max_age: Option<Duration>,
}

impl std::fmt::Debug for InstanceVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstanceVerifier")
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

impl InstanceVerifier {
    /// `max_age_secs == 0` disables the age check (the future-skew check stays on).
    pub fn new(app_secret: &[u8], max_age_secs: u64) -> Self {
        Self {
            keyed_mac: keyed_mac(app_secret),
            // `Duration::seconds` panics past i64::MAX / 1000 s; an absurd age means "no limit".
            max_age: (max_age_secs > 0).then(|| {
                i64::try_from(max_age_secs)
                    .ok()
                    .and_then(Duration::try_seconds)
                    .unwrap_or(Duration::MAX)
            }),
        }
    }

    /// Verifies a raw `Authorization` header value (absent, bytes, possibly `Bearer `-prefixed).
    pub fn verify_header(&self, header: Option<&[u8]>) -> Result<VerifiedIdentity, AuthError> {
        self.verify_header_at(header, Utc::now())
    }

    pub fn verify_header_at(
        &self,
        header: Option<&[u8]>,
        now: DateTime<Utc>,
    ) -> Result<VerifiedIdentity, AuthError> {
        self.verify_at(super::credential_from_header(header)?, now)
    }

    /// Verifies a signed instance string as of `now`.
    pub fn verify_at(
        &self,
        instance: &str,
        now: DateTime<Utc>,
    ) -> Result<VerifiedIdentity, AuthError> {
        if instance.len() > MAX_AUTHORIZATION_LEN {
            return Err(AuthError::TooLong);
        }
        let dot = memchr::memchr(b'.', instance.as_bytes())
            .ok_or(AuthError::Malformed("no '.' between signature and data"))?;
        let (signature, data) = (&instance[..dot], &instance[dot + 1..]);
        if signature.is_empty() || data.is_empty() {
            return Err(AuthError::Malformed("the signature or the data is empty"));
        }
        // Decoded into stack buffers: verification allocates only the identity it returns.
        if signature.len() > SIGNATURE_BUF_LEN / 3 * 4 {
            return Err(AuthError::Malformed("the signature is not 32 bytes"));
        }
        let mut signature_buf = [MaybeUninit::uninit(); SIGNATURE_BUF_LEN];
        let signature = decode_base64_into(signature, &mut signature_buf)
            .ok_or(AuthError::Malformed("the signature is not base64"))?;
        let Ok(signature) = <&[u8; 32]>::try_from(signature) else {
            return Err(AuthError::Malformed("the signature is not 32 bytes"));
        };
        let mut json_buf = [MaybeUninit::uninit(); DATA_BUF_LEN];
        let json = decode_base64_into(data, &mut json_buf)
            .ok_or(AuthError::Malformed("the data is not base64"))?;

        let mut mac = self.keyed_mac.clone();
        mac.update(data.as_bytes());
        // Constant-time, a word at a time: `Mac::verify_slice` (subtle) spends an optimisation
        // barrier per byte, ~5 % of a verification (perf).
        let expected: [u8; 32] = mac.finalize().into_bytes().into();
        if !constant_time_eq::constant_time_eq_32(&expected, signature) {
            return Err(AuthError::BadSignature);
        }

        let payload = parse_payload(json)?;
        let instance_id = payload
            .instance_id
            .filter(|id| !id.trim().is_empty())
            .ok_or(AuthError::NoInstanceId)?;
        let signed_at = self.check_sign_date(payload.sign_date.as_deref(), now)?;

        let (role, subject) = role_of(
            payload.permissions.as_deref(),
            payload.uid.as_deref(),
            payload.aid.as_deref(),
        );
        let plan = InstancePlan {
            id: payload
                .vendor_product_id
                .map(|id| id.trim().to_owned())
                .filter(|id| !id.is_empty()),
            signed_at,
        };
        let origin = payload
            .origin_instance_id
            .filter(|id| super::is_plausible_instance_id(id) && **id != *instance_id)
            .map(|id| TenantId::verified(id.into_owned()));
        Ok(VerifiedIdentity::new(
            TenantId::verified(instance_id.into_owned()),
            role,
            subject.map(str::to_owned),
        )
        .with_instance_plan(plan)
        .with_origin(origin))
    }

    fn check_sign_date(
        &self,
        sign_date: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, AuthError> {
        let Some(sign_date) = sign_date.filter(|s| !s.is_empty()) else {
            return match self.max_age {
                Some(_) => Err(AuthError::Malformed("signDate is missing")),
                None => Ok(None),
            };
        };
        let signed = DateTime::parse_from_rfc3339(sign_date)
            .map_err(|_| AuthError::Malformed("signDate is not an ISO-8601 date"))?
            .with_timezone(&Utc);
        let age = now - signed;
        if age < -Duration::seconds(MAX_FUTURE_SKEW_SECS) {
            return Err(AuthError::NotYetValid);
        }
        if self.max_age.is_some_and(|max_age| age > max_age) {
            return Err(AuthError::Expired);
        }
        Ok(Some(signed))
    }
}

/// The HMAC state keyed with the app secret; verifying and signing both start from it.
fn keyed_mac(secret: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length; this cannot fail.
    <HmacSha256 as Mac>::new_from_slice(secret).expect("HMAC accepts keys of any length")
}

/// What the verifier's tests and its neighbours' tests share.
#[cfg(test)]
mod testing {
    use super::*;
    use crate::model::Role;

    pub const SECRET: &[u8] = b"test-secret";

    pub fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    pub fn verifier() -> InstanceVerifier {
        InstanceVerifier::new(SECRET, 86_400)
    }

    pub fn signed(role: Role) -> String {
        InstanceClaims::for_role("inst-1", "app", role, "subject-1", now()).sign(SECRET)
    }

    pub fn sign_raw(json: &str) -> String {
        sign_instance(SECRET, json)
    }

    pub fn err(instance: &str) -> AuthError {
        verifier().verify_at(instance, now()).unwrap_err()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use crate::model::Role;
    use serde::Deserialize;

    #[test]
    fn malformed_shapes_are_distinguished() {
        let good = signed(Role::Owner);
        let (sig, data) = good.split_once('.').unwrap();
        assert_eq!(
            err("no-dot-here"),
            AuthError::Malformed("no '.' between signature and data")
        );
        assert_eq!(
            err(&format!(".{data}")),
            AuthError::Malformed("the signature or the data is empty")
        );
        assert_eq!(
            err(&format!("{sig}.")),
            AuthError::Malformed("the signature or the data is empty")
        );
        assert_eq!(
            err(&format!("***.{data}")),
            AuthError::Malformed("the signature is not base64")
        );
        assert_eq!(
            err(&format!("AAAA.{data}")),
            AuthError::Malformed("the signature is not 32 bytes")
        );
        assert_eq!(
            err(&format!("{sig}.@@@")),
            AuthError::Malformed("the data is not base64")
        );
        let array = sign_raw(r#"["instanceId"]"#);
        assert_eq!(
            err(&array),
            AuthError::Malformed("the data is not a JSON object")
        );
        let not_json = sign_raw("hello");
        assert_eq!(
            err(&not_json),
            AuthError::Malformed("the data is not a JSON object")
        );
    }

    #[test]
    fn signature_must_match_secret_and_data() {
        let good = signed(Role::Owner);
        let other =
            InstanceClaims::for_role("inst-1", "app", Role::Owner, "s", now()).sign(b"other");
        assert_eq!(err(&other), AuthError::BadSignature);
        let (sig, _) = good.split_once('.').unwrap();
        let (_, data_b) = signed(Role::Visitor)
            .split_once('.')
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .unwrap();
        assert_eq!(err(&format!("{sig}.{data_b}")), AuthError::BadSignature);
    }

    #[test]
    fn sign_date_bounds() {
        let at = |offset_secs: i64| {
            InstanceClaims::for_role(
                "i",
                "a",
                Role::Owner,
                "u",
                now() + Duration::seconds(offset_secs),
            )
            .sign(SECRET)
        };
        assert!(verifier().verify_at(&at(-86_400), now()).is_ok());
        assert_eq!(err(&at(-86_401)), AuthError::Expired);
        assert!(verifier().verify_at(&at(60), now()).is_ok());
        assert_eq!(err(&at(61)), AuthError::NotYetValid);
        let no_age = InstanceVerifier::new(SECRET, 0);
        assert!(no_age.verify_at(&at(-10 * 86_400 * 365), now()).is_ok());
        assert!(no_age
            .verify_at(&sign_raw(r#"{"instanceId":"i"}"#), now())
            .is_ok());
        assert_eq!(
            err(&sign_raw(r#"{"instanceId":"i"}"#)),
            AuthError::Malformed("signDate is missing")
        );
        assert_eq!(
            err(&sign_raw(r#"{"instanceId":"i","signDate":"yesterday"}"#)),
            AuthError::Malformed("signDate is not an ISO-8601 date")
        );
    }

    #[test]
    fn header_handling() {
        let v = verifier();
        assert_eq!(
            v.verify_header_at(None, now()).unwrap_err(),
            AuthError::Missing
        );
        assert_eq!(
            v.verify_header_at(Some(b"   "), now()).unwrap_err(),
            AuthError::Missing
        );
        let long = vec![b'a'; MAX_AUTHORIZATION_LEN + 1];
        assert_eq!(
            v.verify_header_at(Some(&long), now()).unwrap_err(),
            AuthError::TooLong
        );
        assert!(matches!(
            v.verify_header_at(Some(&[0xff, 0xfe]), now()),
            Err(AuthError::Malformed(_))
        ));
        let good = signed(Role::Member);
        assert!(v.verify_header_at(Some(good.as_bytes()), now()).is_ok());
        assert!(v
            .verify_header_at(Some(format!("Bearer {good}").as_bytes()), now())
            .is_ok());
    }

    /// Vectors signed by Node's `crypto.createHmac` (scripts/node-instance-vectors.mjs), as Wix's
    /// TypeScript sample does it. Rust must agree with every verdict.
    #[test]
    fn agrees_with_node_vectors() {
        #[derive(Deserialize)]
        struct Fixture {
            secret: String,
            vectors: Vec<Vector>,
        }
        #[derive(Deserialize)]
        struct Vector {
            name: String,
            instance: String,
            valid: bool,
            #[serde(default)]
            instance_id: Option<String>,
            #[serde(default)]
            role: Option<String>,
        }
        let fixture: Fixture =
            serde_json::from_str(include_str!("../../../tests/fixtures/node_instances.json"))
                .unwrap();
        let v = InstanceVerifier::new(fixture.secret.as_bytes(), 0);
        assert!(fixture.vectors.len() >= 6);
        for vector in fixture.vectors {
            let result = v.verify_at(&vector.instance, Utc::now());
            assert_eq!(result.is_ok(), vector.valid, "{}: {result:?}", vector.name);
            if let Ok(id) = result {
                assert_eq!(
                    Some(id.tenant().as_str()),
                    vector.instance_id.as_deref(),
                    "{}",
                    vector.name
                );
                assert_eq!(
                    Some(id.role().as_str()),
                    vector.role.as_deref(),
                    "{}",
                    vector.name
                );
            }
        }
    }
}
