//! [`WebhookVerifier`]: the token as such. Refuses every algorithm but RS256 before any key is
//! touched, checks the signature against the configured public key and `iss`/`aud` when present,
//! then hands the claims to `event.rs`.
//!
//! Kept apart from the claims parsing so that this file is exactly the part an attacker must get
//! past without the private key: header, algorithm, signature.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::Value;

use super::event::{event_from_claims, Claims};
use super::{WebhookError, WebhookEvent, WebhookPublicKey, WIX_ISSUER};

/// Verifies webhook tokens with the app's public key; cheap to share.
#[derive(Clone)]
pub struct WebhookVerifier {
    key: WebhookPublicKey,
    validation: Validation,
}

impl std::fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookVerifier").finish_non_exhaustive()
    }
}

impl WebhookVerifier {
    pub fn new(key: WebhookPublicKey, app_id: &str) -> Self {
        let mut validation = Validation::new(Algorithm::RS256);
        // Wix's testkit sends only `{data, iat}`: nothing is required; the time claims are
        // checked below against an injectable clock, `iss`/`aud` by jsonwebtoken when present.
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = true;
        validation.set_audience(&[app_id]);
        validation.set_issuer(&[WIX_ISSUER]);
        Self { key, validation }
    }

    pub fn verify(&self, body: &[u8]) -> Result<WebhookEvent, WebhookError> {
        self.verify_at(body, Utc::now())
    }

    /// Verifies and parses a raw request body as of `now`.
    pub fn verify_at(&self, body: &[u8], now: DateTime<Utc>) -> Result<WebhookEvent, WebhookError> {
        let token = std::str::from_utf8(body)
            .map_err(|_| WebhookError::Malformed("the body is not text"))?
            .trim();
        if token.is_empty() {
            return Err(WebhookError::Malformed("the body is empty"));
        }
        check_header(token)?;

        let claims = jsonwebtoken::decode::<Claims>(token, &self.key.key, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidIssuer => WebhookError::Claim("iss"),
                ErrorKind::InvalidAudience => WebhookError::Claim("aud"),
                ErrorKind::InvalidSubject => WebhookError::Claim("sub"),
                ErrorKind::Base64(_) | ErrorKind::Utf8(_) | ErrorKind::InvalidToken => {
                    WebhookError::Malformed("the token is not base64url JWT")
                }
                // Only reachable after the signature checked out: a signed body of the wrong shape.
                ErrorKind::Json(_) => WebhookError::Malformed("the token claims are not JSON"),
                ErrorKind::InvalidAlgorithm
                | ErrorKind::MissingAlgorithm
                | ErrorKind::UnsupportedAlgorithm
                | ErrorKind::InvalidAlgorithmName => WebhookError::Algorithm,
                _ => WebhookError::Signature,
            })?
            .claims;
        event_from_claims(claims, token, now)
    }
}

/// Refuses anything but RS256 before any key is touched, and tells a body that is not a JWT at
/// all (400) from a JWT we will not accept (401).
fn check_header(token: &str) -> Result<(), WebhookError> {
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(WebhookError::Malformed(
            "the body is not a JWT (three dot-separated parts)",
        ));
    };
    let header = URL_SAFE_NO_PAD
        .decode(header.trim_end_matches('='))
        .map_err(|_| WebhookError::Malformed("the JWT header is not base64url"))?;
    let header: Value = serde_json::from_slice(&header)
        .map_err(|_| WebhookError::Malformed("the JWT header is not JSON"))?;
    match header.get("alg").and_then(Value::as_str) {
        Some("RS256") => Ok(()),
        Some(_) => Err(WebhookError::Algorithm),
        None => Err(WebhookError::Malformed("the JWT header has no alg")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{
        sign_webhook, APP_INSTALLED, APP_REMOVED, DEV_WEBHOOK_PRIVATE_KEY, DEV_WEBHOOK_PUBLIC_KEY,
    };
    use super::*;
    use crate::auth::TenantId;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    const APP: &str = "app-1";
    const TEST_PRIVATE: &str = include_str!("../../../tests/fixtures/webhook-test-private.pem");
    const TEST_PUBLIC: &str = include_str!("../../../tests/fixtures/webhook-test-public.pem");
    const OTHER_PRIVATE: &str = include_str!("../../../tests/fixtures/webhook-other-private.pem");

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn verifier() -> WebhookVerifier {
        WebhookVerifier::new(WebhookPublicKey::from_pem(TEST_PUBLIC).unwrap(), APP)
    }

    fn sign_claims(claims: &Value) -> String {
        let key = EncodingKey::from_rsa_pem(TEST_PRIVATE.as_bytes()).unwrap();
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), claims, &key).unwrap()
    }

    fn envelope(event: &str, instance: &str) -> String {
        json!({"eventType": event, "instanceId": instance, "data": json!({"appId": APP}).to_string()})
            .to_string()
    }

    fn verify(token: &str) -> Result<WebhookEvent, WebhookError> {
        verifier().verify_at(token.as_bytes(), now())
    }

    #[test]
    fn testkit_shape_is_accepted() {
        let token = sign_webhook(
            TEST_PRIVATE,
            APP_INSTALLED,
            "inst-1",
            &json!({"appId": APP, "originInstanceId": "o"}),
            now(),
        )
        .unwrap();
        let event = verify(&token).unwrap();
        assert_eq!(event.event_type, APP_INSTALLED);
        assert_eq!(event.tenant.as_ref().map(TenantId::as_str), Some("inst-1"));
        assert_eq!(event.issued_at, Some(now()));
        assert_eq!(event.body["originInstanceId"], "o");
        assert_eq!(event.origin.as_ref().map(TenantId::as_str), Some("o"));
        assert_eq!(event.identity, None);
        assert_eq!(event.key.len(), 64);
        // Surrounding whitespace (a trailing newline from curl) does not change the event.
        let padded = verifier()
            .verify_at(format!("\n{token}\n").as_bytes(), now())
            .unwrap();
        assert_eq!(padded.key, event.key);
    }

    /// `originInstanceId` is a duplicate's origin only on `AppInstalled`, and only when it is
    /// another, plausible instance id.
    #[test]
    fn origin_is_read_from_app_installed_only() {
        let origin = |event: &str, body: Value| {
            let token = sign_webhook(TEST_PRIVATE, event, "inst-1", &body, now()).unwrap();
            verify(&token)
                .unwrap()
                .origin
                .map(|t| t.as_str().to_owned())
        };
        assert_eq!(
            origin(APP_INSTALLED, json!({"originInstanceId": " o "})),
            Some("o".into())
        );
        assert_eq!(origin(APP_REMOVED, json!({"originInstanceId": "o"})), None);
        for body in [
            json!({}),
            json!({"originInstanceId": ""}),
            json!({"originInstanceId": "inst-1"}),
            json!({"originInstanceId": 5}),
            json!({"originInstanceId": "a\u{0}b"}),
            json!({"originInstanceId": "x".repeat(201)}),
        ] {
            assert_eq!(origin(APP_INSTALLED, body.clone()), None, "{body}");
        }
    }

    #[test]
    fn identity_and_nested_objects_are_parsed() {
        let data = json!({
            "eventType": "PaidPlanPurchased",
            "instanceId": "i",
            "identity": json!({"identityType": "WIX_USER", "wixUserId": "u"}).to_string(),
            "data": {"plan": "x"},
        });
        let token = sign_claims(
            &json!({"data": data.to_string(), "iat": now().timestamp(), "iss": "wix.com", "aud": APP}),
        );
        let event = verify(&token).unwrap();
        assert_eq!(event.event_type, "PaidPlanPurchased");
        assert_eq!(event.identity.unwrap()["wixUserId"], "u");
        assert_eq!(event.body["plan"], "x");
    }

    #[test]
    fn claims_are_checked_when_present() {
        let data = envelope(APP_REMOVED, "i");
        let t = now().timestamp();
        assert_eq!(
            verify(&sign_claims(
                &json!({"data": data, "iat": t, "aud": "other-app"})
            ))
            .unwrap_err(),
            WebhookError::Claim("aud")
        );
        assert_eq!(
            verify(&sign_claims(
                &json!({"data": data, "iat": t, "iss": "evil.com"})
            ))
            .unwrap_err(),
            WebhookError::Claim("iss")
        );
        assert_eq!(
            verify(&sign_claims(
                &json!({"data": data, "iat": t - 600, "exp": t - 61})
            ))
            .unwrap_err(),
            WebhookError::Expired
        );
        assert!(verify(&sign_claims(
            &json!({"data": data, "iat": t - 600, "exp": t - 59})
        ))
        .is_ok());
        assert_eq!(
            verify(&sign_claims(&json!({"data": data, "iat": t + 61}))).unwrap_err(),
            WebhookError::NotYetValid
        );
        assert_eq!(
            verify(&sign_claims(&json!({"data": data, "nbf": t + 3600}))).unwrap_err(),
            WebhookError::NotYetValid
        );
        assert_eq!(
            verify(&sign_claims(&json!({"data": data, "iat": "yesterday"}))).unwrap_err(),
            WebhookError::Claim("iat")
        );
        // No time claims at all: accepted, no event time.
        let event = verify(&sign_claims(&json!({"data": data}))).unwrap();
        assert_eq!(event.issued_at, None);
    }

    #[test]
    fn only_rs256_with_our_key() {
        let data = envelope(APP_INSTALLED, "i");
        let claims = json!({"data": data, "iat": now().timestamp()});
        let other = EncodingKey::from_rsa_pem(OTHER_PRIVATE.as_bytes()).unwrap();
        let wrong_key =
            jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &other).unwrap();
        assert_eq!(verify(&wrong_key).unwrap_err(), WebhookError::Signature);

        // HS256 keyed with the public key's PEM bytes: the classic confusion attack.
        let hs = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(TEST_PUBLIC.as_bytes()),
        )
        .unwrap();
        assert_eq!(verify(&hs).unwrap_err(), WebhookError::Algorithm);

        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        for alg in ["none", "None", "RS512", "PS256", "ES256"] {
            let header = URL_SAFE_NO_PAD.encode(json!({"alg": alg, "typ": "JWT"}).to_string());
            assert_eq!(
                verify(&format!("{header}.{payload}.")).unwrap_err(),
                WebhookError::Algorithm,
                "{alg}"
            );
        }
        // A valid RS256 header on a different, unsigned payload.
        let good = sign_claims(&claims);
        let (head, rest) = good.split_once('.').unwrap();
        let (_, sig) = rest.split_once('.').unwrap();
        let forged =
            URL_SAFE_NO_PAD.encode(json!({"data": envelope(APP_INSTALLED, "victim")}).to_string());
        assert_eq!(
            verify(&format!("{head}.{forged}.{sig}")).unwrap_err(),
            WebhookError::Signature
        );
    }

    #[test]
    fn garbage_is_malformed() {
        let rs_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256"}"#);
        for body in [
            "".to_owned(),
            "   ".to_owned(),
            "hello".to_owned(),
            "a.b".to_owned(),
            "a.b.c.d".to_owned(),
            "!!!.e30.sig".to_owned(),
            format!("{}.e30.sig", URL_SAFE_NO_PAD.encode("not json")),
            format!("{}.e30.sig", URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT"}"#)),
            format!("{rs_header}.e30.!!!"),
            "{\"data\":\"x\"}".to_owned(),
        ] {
            assert!(
                matches!(verify(&body), Err(WebhookError::Malformed(_))),
                "{body:?}: {:?}",
                verify(&body)
            );
        }
        assert!(matches!(
            verifier().verify_at(&[0xff, 0xfe, b'.', b'.'], now()),
            Err(WebhookError::Malformed(_))
        ));
    }

    #[test]
    fn signed_but_wrong_shapes_are_malformed() {
        let t = now().timestamp();
        for (claims, why) in [
            (json!({"iat": t}), "the data claim is missing"),
            (
                json!({"data": "not json", "iat": t}),
                "the data claim is not a JSON string",
            ),
            (
                json!({"data": 42, "iat": t}),
                "the data claim is not a JSON string",
            ),
            (
                json!({"data": "[1,2]", "iat": t}),
                "the data claim is not a JSON object",
            ),
            (
                json!({"data": json!({"instanceId": "i"}).to_string()}),
                "eventType is missing",
            ),
            (
                json!({"data": json!({"eventType": "AppInstalled"}).to_string()}),
                "instanceId is missing",
            ),
            (
                json!({"data": json!({"eventType": "AppRemoved", "instanceId": "  "}).to_string()}),
                "instanceId is missing",
            ),
            (
                json!({"data": json!({"eventType": "AppRemoved", "instanceId": 7}).to_string()}),
                "the data claim has fields of the wrong type",
            ),
            (
                json!({"data": json!({"eventType": "AppRemoved", "instanceId": "i", "data": "{oops"}).to_string()}),
                "the event data is not a JSON string",
            ),
            (
                json!({"data": json!({"eventType": "AppRemoved", "instanceId": "i", "identity": "{oops"}).to_string()}),
                "identity is not a JSON string",
            ),
            (
                json!({"data": json!({"eventType": "AppRemoved", "instanceId": "a\u{0}b"}).to_string()}),
                "instanceId is not an instance id",
            ),
        ] {
            assert_eq!(
                verify(&sign_claims(&claims)).unwrap_err(),
                WebhookError::Malformed(why),
                "{claims}"
            );
        }
        // Unknown event types need no instance.
        let unknown =
            sign_claims(&json!({"data": json!({"eventType": "SomethingNew"}).to_string()}));
        assert_eq!(verify(&unknown).unwrap().tenant, None);
    }

    #[test]
    fn dev_key_pair_matches() {
        let token =
            sign_webhook(DEV_WEBHOOK_PRIVATE_KEY, APP_REMOVED, "i", &json!({}), now()).unwrap();
        let dev = WebhookVerifier::new(
            WebhookPublicKey::from_pem(DEV_WEBHOOK_PUBLIC_KEY).unwrap(),
            APP,
        );
        assert!(dev.verify_at(token.as_bytes(), now()).is_ok());
    }
}
