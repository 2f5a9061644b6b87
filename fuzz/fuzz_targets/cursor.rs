//! `?cursor=` values: any text decodes to a page cursor or to nothing, and a decoded cursor
//! re-encodes to one that decodes the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wix_app::store::PageCursor;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(cursor) = PageCursor::decode(text) {
        assert_eq!(PageCursor::decode(&cursor.encode()), Some(cursor));
    }
});
