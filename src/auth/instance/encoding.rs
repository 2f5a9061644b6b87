//! The wire encoding of both halves of a signed instance: any of the four base64 spellings,
//! decoded into caller-provided stack buffers.
//!
//! Its own file because it is the hot path of every API request and was tuned for it
//! (BENCHMARKS.md); the verifier around it only needs "bytes or `None`".

use std::mem::MaybeUninit;

use base64_simd::Out;

/// Decodes any of the four base64 spellings into `out`; `None` when the input is not base64 or
/// does not fit. Wix sends unpadded base64url; the `+/` alphabet is used when the input has
/// one of those two characters. `base64-simd` rather than `base64` here: every API request decodes ~400
/// characters, and the SIMD decoder takes a fraction of the time (strict like `base64`: it
/// refuses non-canonical trailing bits, so one instance has exactly one accepted spelling per
/// alphabet and padding).
#[inline]
pub(super) fn decode_base64_into<'o>(
    input: &str,
    out: &'o mut [MaybeUninit<u8>],
) -> Option<&'o [u8]> {
    let input = input.as_bytes();
    let (url_safe, standard) = if input.ends_with(b"=") {
        (&base64_simd::URL_SAFE, &base64_simd::STANDARD)
    } else {
        (&base64_simd::URL_SAFE_NO_PAD, &base64_simd::STANDARD_NO_PAD)
    };
    // `+` or `/` can only be the standard alphabet; without them both alphabets read the same.
    // One SIMD search instead of a full check pass before the decode.
    let engine = if memchr::memchr2(b'+', b'/', input).is_some() {
        standard
    } else {
        url_safe
    };
    let len = engine.decoded_length(input).ok()?;
    if len > out.len() {
        return None;
    }
    engine
        .decode(input, Out::from_uninit_slice(&mut out[..len]))
        .ok()
        .map(|decoded| &*decoded)
}

#[cfg(test)]
mod tests {
    use super::super::keyed_mac;
    use super::super::testing::*;
    use crate::auth::AuthError;
    use crate::model::Role;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use base64::Engine as _;
    use hmac::Mac;

    #[test]
    fn every_base64_spelling_is_accepted() {
        let json = r#"{"instanceId":"i?>","signDate":"2026-01-02T03:04:05Z","permissions":"OWNER","uid":"u~~"}"#;
        for engine in [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD] {
            let data = engine.encode(json);
            let mut mac = keyed_mac(SECRET);
            mac.update(data.as_bytes());
            let sig = engine.encode(mac.finalize().into_bytes());
            let id = verifier()
                .verify_at(&format!("{sig}.{data}"), now())
                .unwrap();
            assert_eq!(id.tenant().as_str(), "i?>");
        }
    }

    #[test]
    fn non_canonical_base64_is_refused() {
        // 32 bytes take 43 characters; the last one carries 2 unused bits that must be zero.
        // Setting them would give a second spelling of the same signature.
        let good = signed(Role::Owner);
        let (sig, data) = good.split_once('.').unwrap();
        let last = sig.as_bytes()[42];
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let value = alphabet.iter().position(|c| *c == last).unwrap();
        assert_eq!(
            value & 0b11,
            0,
            "canonical encodings leave the unused bits zero"
        );
        let twin = alphabet[value | 0b01] as char;
        let forged = format!("{}{twin}.{data}", &sig[..42]);
        assert_eq!(
            err(&forged),
            AuthError::Malformed("the signature is not base64")
        );
    }
}
