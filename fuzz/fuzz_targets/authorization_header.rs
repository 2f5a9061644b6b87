//! Raw `Authorization` header bytes: the credential extraction (`Bearer`, trimming, length,
//! UTF-8) and the local instance path behind it.
#![no_main]

use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use wix_app::auth::fuzzing::credential_from_header;
use wix_app::auth::{InstanceVerifier, MAX_AUTHORIZATION_LEN};

fuzz_target!(|data: &[u8]| {
    let now = DateTime::<Utc>::from_timestamp(1_767_323_045, 0).unwrap();
    let verifier = InstanceVerifier::new(b"fuzz-secret", 86_400);
    let _ = verifier.verify_header_at(Some(data), now);
    if let Ok((credential, _instance_shaped)) = credential_from_header(data) {
        assert!(!credential.is_empty());
        assert_eq!(credential, credential.trim());
        assert!(credential.len() <= MAX_AUTHORIZATION_LEN);
    }
});
