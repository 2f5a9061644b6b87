//! Token Info answers: any body judged for our app id, at today's clock or at any instant; a
//! valid verdict must be bounded by the five-minute cache cap.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use wix_app::auth::fuzzing::token_info;

fuzz_target!(|input: (bool, i64, &[u8])| {
    let (today, now, body) = input;
    let now = if today { 1_767_323_045 } else { now };
    if let Ok((identity, ttl)) = token_info(body, "app-1", now) {
        assert!(!identity.tenant().as_str().trim().is_empty());
        assert!(ttl > Duration::ZERO && ttl <= Duration::from_secs(300));
    }
});
