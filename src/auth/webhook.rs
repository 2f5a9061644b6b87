//! Wix webhooks: the request body is a JWT signed RS256 with the app's key.
//!
//! This lives in `auth` because a verified webhook is the second (and only other) place a
//! [`TenantId`] may come from: the `instanceId` inside a token whose signature checked out
//! against the configured public key. Nothing else in the server can turn webhook input into a
//! tenant.
//!
//! What is accepted is exactly what Wix sends (wix-platform.md, "Webhooks"): header `alg` RS256
//! and nothing else (not `none`, not HS256 even when keyed with the public key's bytes); claims
//! `{data, iat}` at minimum, where `data` is a JSON *string* holding
//! `{eventType, instanceId, identity?, data?}`, and the inner `identity` and `data` are JSON
//! strings too. `exp`, `nbf`, `iat` are checked with a small leeway when present; `iss` and `aud`
//! must be `wix.com` and the app id when present.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::TenantId;

/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
pub const WEBHOOK_LEEWAY_SECS: i64 = 60;
/// The issuer Wix puts in `iss` (when it sends one).
pub const WIX_ISSUER: &str = "wix.com";
/// Event types this app acts on. Others are acknowledged and logged.
pub const APP_INSTALLED: &str = "AppInstalled";
pub const APP_REMOVED: &str = "AppRemoved";

/// The public half of the app's webhook key, parsed once at start-up.
#[derive(Clone)]
pub struct WebhookPublicKey {
    key: DecodingKey,
    /// The key material (modulus, exponent), kept to recognise the committed development key
    /// whatever its encoding (SPKI, PKCS#1, bare base64, other line breaks).
    material: KeyMaterial,
}

/// An RSA public key's modulus and exponent, big-endian.
#[derive(Clone, PartialEq, Eq)]
struct KeyMaterial {
    n: Vec<u8>,
    e: Vec<u8>,
}

impl KeyMaterial {
    fn from_pem(pem: &str) -> Option<Self> {
        use rsa::pkcs1::DecodeRsaPublicKey as _;
        use rsa::pkcs8::DecodePublicKey as _;
        use rsa::traits::PublicKeyParts as _;
        let key = rsa::RsaPublicKey::from_public_key_pem(pem)
            .or_else(|_| rsa::RsaPublicKey::from_pkcs1_pem(pem))
            .ok()?;
        Some(Self {
            n: key.n().to_bytes_be(),
            e: key.e().to_bytes_be(),
        })
    }
}

impl std::fmt::Debug for WebhookPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookPublicKey(RSA)")
    }
}

impl WebhookPublicKey {
    /// Parses an RSA public key: PEM (SPKI `PUBLIC KEY` or PKCS#1 `RSA PUBLIC KEY`), with real
    /// or `\n`-escaped newlines (environment variables are one line), or the bare base64 body of
    /// an SPKI PEM as some dashboards show it.
    pub fn from_pem(text: &str) -> Result<Self, String> {
        let text = text.trim().replace("\\r\\n", "\n").replace("\\n", "\n");
        if text.contains("PRIVATE KEY") {
            // jsonwebtoken would take it and then fail every verification.
            return Err(
                "this is a private key; configure the public key (-----BEGIN PUBLIC KEY-----)"
                    .into(),
            );
        }
        let pem = if text.contains("-----BEGIN") {
            text
        } else {
            let body: String = text.split_whitespace().collect();
            // RFC 7468 lines: 64 characters (strict parsers refuse longer ones).
            let lines: Vec<&str> = body
                .as_bytes()
                .chunks(64)
                .map(|line| std::str::from_utf8(line).unwrap_or_default())
                .collect();
            format!(
                "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----",
                lines.join("\n")
            )
        };
        const EXPECTED: &str =
            "expected an RSA public key in PEM format (-----BEGIN PUBLIC KEY-----)";
        let key = DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|_| EXPECTED)?;
        let material = KeyMaterial::from_pem(&pem).ok_or(EXPECTED)?;
        Ok(Self { key, material })
    }

    /// True when this is the committed development key (`dev/webhook-dev-public.pem`), in any
    /// encoding: compared by modulus and exponent, not by text.
    pub fn is_dev_key(&self) -> bool {
        KeyMaterial::from_pem(DEV_WEBHOOK_PUBLIC_KEY).is_some_and(|dev| dev == self.material)
    }
}

/// DEVELOPMENT ONLY. The committed key pair `APP_ENV=dev` uses when no key is configured; the
/// private half is public, so production refuses it (see `Config::from_lookup`).
pub const DEV_WEBHOOK_PUBLIC_KEY: &str = include_str!("../../dev/webhook-dev-public.pem");

/// Why a webhook was refused. `Malformed` is a 400, every other variant a 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("The webhook body is not a valid Wix webhook: {0}.")]
    Malformed(&'static str),
    #[error("The webhook token's algorithm is not RS256.")]
    Algorithm,
    #[error("The webhook signature does not match the configured public key.")]
    Signature,
    #[error("The webhook token has expired.")]
    Expired,
    #[error("The webhook token is not valid yet (iat or nbf in the future).")]
    NotYetValid,
    #[error("The webhook token's {0} claim does not match this app.")]
    Claim(&'static str),
}

/// A verified, parsed webhook event.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent {
    pub event_type: String,
    /// The instance the event is about; `None` only for event types that carry none.
    pub tenant: Option<TenantId>,
    /// When Wix issued the event (`iat`), or `None` when the token has no `iat`.
    pub issued_at: Option<DateTime<Utc>>,
    /// `identity` parsed from its JSON string (who triggered the event), if any.
    pub identity: Option<Value>,
    /// The event body parsed from its JSON string, e.g. `{appId, originInstanceId}`.
    pub body: Value,
    /// Hex SHA-256 of the token as received: the same delivery twice has the same key.
    pub key: String,
}

/// The claims read from a verified token; `jsonwebtoken` checks `iss`/`aud` itself.
#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    iat: Option<Value>,
    #[serde(default)]
    exp: Option<Value>,
    #[serde(default)]
    nbf: Option<Value>,
}

/// The JSON inside the `data` claim.
#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "eventType", default)]
    event_type: Option<String>,
    #[serde(rename = "instanceId", default)]
    instance_id: Option<String>,
    #[serde(default)]
    identity: Option<Value>,
    #[serde(default)]
    data: Option<Value>,
}

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

/// Everything after the signature check: the time claims, then the nested `data` JSON.
/// Separate so the fuzzers and property tests can reach it without signing every input.
fn event_from_claims(
    claims: Claims,
    token: &str,
    now: DateTime<Utc>,
) -> Result<WebhookEvent, WebhookError> {
    let issued_at = check_times(&claims, now)?;
    let envelope = parse_envelope(claims.data)?;

    let event_type = envelope
        .event_type
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .ok_or(WebhookError::Malformed("eventType is missing"))?;
    let instance_id = envelope
        .instance_id
        .map(|id| id.trim().to_owned())
        .filter(|id| !id.is_empty());
    if instance_id.is_none() && (event_type == APP_INSTALLED || event_type == APP_REMOVED) {
        return Err(WebhookError::Malformed("instanceId is missing"));
    }
    if instance_id
        .as_ref()
        .is_some_and(|id| id.len() > 200 || id.chars().any(char::is_control))
    {
        return Err(WebhookError::Malformed("instanceId is not an instance id"));
    }
    let identity = nested_json(envelope.identity, "identity is not a JSON string")?;
    let body =
        nested_json(envelope.data, "the event data is not a JSON string")?.unwrap_or(Value::Null);

    Ok(WebhookEvent {
        event_type,
        tenant: instance_id.map(TenantId::verified),
        issued_at,
        identity,
        body,
        key: hex_sha256(token.as_bytes()),
    })
}

/// [`event_from_claims`] on a claims JSON body (as `jsonwebtoken` would deserialize it) whose
/// signature is taken as checked. Test and fuzzing builds only: it mints tenants from input.
#[cfg(any(test, fuzzing))]
pub(crate) fn event_from_claims_json(
    claims_json: &[u8],
    now: DateTime<Utc>,
) -> Result<WebhookEvent, WebhookError> {
    let claims: Claims = serde_json::from_slice(claims_json)
        .map_err(|_| WebhookError::Malformed("the token claims are not JSON"))?;
    event_from_claims(claims, "unsigned", now)
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

fn numeric_claim(value: Option<&Value>, name: &'static str) -> Result<Option<i64>, WebhookError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .map(Some)
            .ok_or(WebhookError::Claim(name)),
    }
}

/// `exp` (if any) not past, `nbf`/`iat` (if any) not in the future, each with the leeway.
/// Returns `iat` as the event time.
fn check_times(claims: &Claims, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, WebhookError> {
    let now_secs = now.timestamp();
    if let Some(exp) = numeric_claim(claims.exp.as_ref(), "exp")? {
        if exp.saturating_add(WEBHOOK_LEEWAY_SECS) < now_secs {
            return Err(WebhookError::Expired);
        }
    }
    if let Some(nbf) = numeric_claim(claims.nbf.as_ref(), "nbf")? {
        if nbf > now_secs.saturating_add(WEBHOOK_LEEWAY_SECS) {
            return Err(WebhookError::NotYetValid);
        }
    }
    let iat = numeric_claim(claims.iat.as_ref(), "iat")?;
    if let Some(iat) = iat {
        if iat > now_secs.saturating_add(WEBHOOK_LEEWAY_SECS) {
            return Err(WebhookError::NotYetValid);
        }
    }
    Ok(iat.and_then(|s| DateTime::<Utc>::from_timestamp(s, 0)))
}

/// The `data` claim: a JSON string holding an object (an object as such is tolerated).
fn parse_envelope(data: Option<Value>) -> Result<Envelope, WebhookError> {
    let value = nested_json(data, "the data claim is not a JSON string")?
        .ok_or(WebhookError::Malformed("the data claim is missing"))?;
    if !value.is_object() {
        return Err(WebhookError::Malformed(
            "the data claim is not a JSON object",
        ));
    }
    serde_json::from_value(value)
        .map_err(|_| WebhookError::Malformed("the data claim has fields of the wrong type"))
}

/// Wix nests JSON as strings. `None`/`null`/`""` → `None`; a string → its parsed JSON; an
/// object or array as such is tolerated; anything else is malformed.
fn nested_json(value: Option<Value>, error: &'static str) -> Result<Option<Value>, WebhookError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => serde_json::from_str(&s)
            .map(Some)
            .map_err(|_| WebhookError::Malformed(error)),
        Some(v @ (Value::Object(_) | Value::Array(_))) => Ok(Some(v)),
        Some(_) => Err(WebhookError::Malformed(error)),
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::webhook_signing::{sign_webhook, DEV_WEBHOOK_PRIVATE_KEY};
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    const APP: &str = "app-1";
    const TEST_PRIVATE: &str = include_str!("../../tests/fixtures/webhook-test-private.pem");
    const TEST_PUBLIC: &str = include_str!("../../tests/fixtures/webhook-test-public.pem");
    const OTHER_PRIVATE: &str = include_str!("../../tests/fixtures/webhook-other-private.pem");

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
        assert_eq!(event.identity, None);
        assert_eq!(event.key.len(), 64);
        // Surrounding whitespace (a trailing newline from curl) does not change the event.
        let padded = verifier()
            .verify_at(format!("\n{token}\n").as_bytes(), now())
            .unwrap();
        assert_eq!(padded.key, event.key);
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
    fn public_key_spellings() {
        let one_line = TEST_PUBLIC.trim().replace('\n', "\\n");
        assert!(WebhookPublicKey::from_pem(&one_line).is_ok());
        let bare: String = TEST_PUBLIC
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        assert!(WebhookPublicKey::from_pem(&bare).is_ok());
        assert!(WebhookPublicKey::from_pem("not a key").is_err());
        assert!(WebhookPublicKey::from_pem(TEST_PRIVATE).is_err());
        assert!(WebhookPublicKey::from_pem(DEV_WEBHOOK_PUBLIC_KEY)
            .unwrap()
            .is_dev_key());
        assert!(!WebhookPublicKey::from_pem(TEST_PUBLIC)
            .unwrap()
            .is_dev_key());
        assert!(
            !format!("{:?}", WebhookPublicKey::from_pem(TEST_PUBLIC).unwrap()).contains("BEGIN")
        );
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
