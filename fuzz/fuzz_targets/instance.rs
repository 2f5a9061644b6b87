//! Signed instances: any string through `InstanceVerifier::verify_at`, and any text signed with
//! the right secret (so the payload parser and date checks behind the HMAC are reached too).
#![no_main]

use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use wix_app::auth::{sign_instance, InstanceVerifier};

const SECRET: &[u8] = b"fuzz-secret";

fuzz_target!(|data: &[u8]| {
    let now = DateTime::<Utc>::from_timestamp(1_767_323_045, 0).unwrap();
    let strict = InstanceVerifier::new(SECRET, 86_400);
    let lenient = InstanceVerifier::new(SECRET, 0);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // As received: almost always refused before or at the signature.
    let _ = strict.verify_at(text, now);
    // As a payload Wix signed: the JSON and signDate handling must refuse or accept, not panic.
    let signed = sign_instance(SECRET, text);
    for verifier in [&strict, &lenient] {
        if let Ok(identity) = verifier.verify_at(&signed, now) {
            assert!(!identity.tenant().as_str().trim().is_empty());
        }
    }
});
