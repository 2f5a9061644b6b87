//! The app's webhook public key: parsed once at start-up from whatever spelling the operator
//! pasted, and recognised when it is the committed development key (which production refuses).
//!
//! Separate from the verifier because configuration needs it on its own (`Config` parses and
//! vets the key before any verifier exists), and because the spellings it accepts are a
//! configuration concern, not a verification one.

use jsonwebtoken::DecodingKey;

/// DEVELOPMENT ONLY. The committed key pair `APP_ENV=dev` uses when no key is configured; the
/// private half is public, so production refuses it (see `Config::from_lookup`).
pub const DEV_WEBHOOK_PUBLIC_KEY: &str = include_str!("../../../dev/webhook-dev-public.pem");

/// The public half of the app's webhook key, parsed once at start-up.
#[derive(Clone)]
pub struct WebhookPublicKey {
    pub(super) key: DecodingKey,
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

#[cfg(test)]
mod tests {
    use super::*;

    const TEST_PRIVATE: &str = include_str!("../../../tests/fixtures/webhook-test-private.pem");
    const TEST_PUBLIC: &str = include_str!("../../../tests/fixtures/webhook-test-public.pem");

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
}
