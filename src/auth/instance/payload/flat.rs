//! The fast reader of the payload as Wix writes it: one flat JSON object whose values are strings
//! without escapes, `true`, `false` or `null`.
//!
//! Why hand-written: serde_json's generic visitor (key matching, `IgnoredAny`, the `Option`
//! and `Cow` seeds) was a quarter of a verification's time under `perf`, about 300 ns of the
//! 1.2 µs every API request pays (BENCHMARKS.md); this reader takes a fraction of that, and no
//! maintained crate reads a 300-byte flat object faster than serde_json. It is not a JSON parser:
//! it answers `None` for anything outside that shape (numbers, nested values, escapes, control
//! characters, one of the fields it reads given twice, trailing bytes) and serde_json then reads
//! the payload as before.
//! So an answer from here is one serde_json would give; a property test holds the two to that.
//! The bytes it reads have already passed the HMAC check: only Wix-signed JSON gets here.

use std::borrow::Cow;

use super::{JsonStr, Payload};

/// The payload, when `json` has the flat shape; `None` means "let serde_json read it".
pub(super) fn read_flat(json: &str) -> Option<Payload<'_>> {
    let bytes = json.as_bytes();
    // With no backslash and no control byte anywhere, every string ends at its next quote and
    // the only whitespace is the space. Written as a fold so that it compiles to vector code.
    let unusual = bytes
        .iter()
        .fold(false, |seen, &b| seen | (b < 0x20) | (b == b'\\'));
    if unusual {
        return None;
    }
    let mut cursor = Cursor { json, pos: 0 };
    let mut payload = Payload::default();
    let mut seen = 0u8;
    cursor.skip_spaces();
    cursor.eat(b'{')?;
    cursor.skip_spaces();
    if cursor.peek() == Some(b'}') {
        cursor.pos += 1;
    } else {
        loop {
            let key = cursor.string()?;
            cursor.skip_spaces();
            cursor.eat(b':')?;
            cursor.skip_spaces();
            let value = cursor.value()?;
            if let Some((bit, field)) = payload.field(key) {
                // serde refuses a field given twice (even when the first was null).
                if seen & bit != 0 {
                    return None;
                }
                seen |= bit;
                *field = match value {
                    Value::Str(text) => Some(JsonStr(Cow::Borrowed(text))),
                    Value::Null => None,
                    // A boolean where a string belongs: serde's "invalid type" error.
                    Value::Bool => return None,
                };
            }
            cursor.skip_spaces();
            match cursor.next()? {
                b',' => cursor.skip_spaces(),
                b'}' => break,
                _ => return None,
            }
        }
    }
    cursor.skip_spaces();
    (cursor.pos == bytes.len()).then_some(payload)
}

impl<'a> Payload<'a> {
    /// The slot for a key this app reads, and its bit in the "seen" mask.
    fn field(&mut self, key: &str) -> Option<(u8, &mut Option<JsonStr<'a>>)> {
        Some(match key {
            "instanceId" => (1, &mut self.instance_id),
            "signDate" => (1 << 1, &mut self.sign_date),
            "uid" => (1 << 2, &mut self.uid),
            "permissions" => (1 << 3, &mut self.permissions),
            "aid" => (1 << 4, &mut self.aid),
            "vendorProductId" => (1 << 5, &mut self.vendor_product_id),
            "originInstanceId" => (1 << 6, &mut self.origin_instance_id),
            _ => return None,
        })
    }
}

enum Value<'a> {
    Str(&'a str),
    Null,
    Bool,
}

struct Cursor<'a> {
    json: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.json.as_bytes().get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.pos += 1;
        Some(byte)
    }

    fn eat(&mut self, expected: u8) -> Option<()> {
        (self.next()? == expected).then_some(())
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
    }

    /// A string without escapes (the caller checked there are none): up to the next quote.
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let rest = self.json.as_bytes().get(self.pos..)?;
        let len = find_quote(rest)?;
        let text = self.json.get(self.pos..self.pos + len)?;
        self.pos += len + 1;
        Some(text)
    }

    fn value(&mut self) -> Option<Value<'a>> {
        let literal = |cursor: &mut Self, word: &str, value: Value<'a>| {
            let end = cursor.pos + word.len();
            (cursor.json.get(cursor.pos..end)? == word).then(|| {
                cursor.pos = end;
                value
            })
        };
        match self.peek()? {
            b'"' => self.string().map(Value::Str),
            b'n' => literal(self, "null", Value::Null),
            b't' => literal(self, "true", Value::Bool),
            b'f' => literal(self, "false", Value::Bool),
            // Numbers, objects, arrays: serde_json's job.
            _ => None,
        }
    }
}

/// Where the first `"` in `bytes` is, eight bytes at a time (SWAR). Payload strings are short
/// (names, ids, dates): a byte loop was half of this reader's time and memchr's per-call set-up
/// most of the rest (perf).
fn find_quote(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    const QUOTES: u64 = ONES * b'"' as u64;
    let mut words = bytes.chunks_exact(8);
    let mut offset = 0;
    for word in &mut words {
        let Ok(word) = <[u8; 8]>::try_from(word) else {
            break;
        };
        // A zero byte where the quote is; the lowest flagged byte is always a real one.
        let word = u64::from_le_bytes(word) ^ QUOTES;
        let flagged = word.wrapping_sub(ONES) & !word & HIGHS;
        if flagged != 0 {
            return Some(offset + flagged.trailing_zeros() as usize / 8);
        }
        offset += 8;
    }
    let rest = words.remainder();
    rest.iter().position(|&b| b == b'"').map(|at| offset + at)
}

#[cfg(test)]
mod tests {
    use super::{find_quote, read_flat};
    use crate::auth::instance::payload::Payload;
    use proptest::prelude::*;

    fn serde(json: &str) -> Option<Payload<'_>> {
        serde_json::from_str(json).ok()
    }

    #[test]
    fn reads_what_wix_sends() {
        let json = r#"{"instanceId":"9f3c2a1e-7b4d","appDefId":"a","signDate":"2026-01-02T03:04:05.000Z","uid":"u-1","permissions":"OWNER","demoMode":false,"siteOwnerId":"o","siteMemberId":"u-1","expirationDate":"2026-01-02T07:04:05.000Z","loginAccountId":"u-1","pageId":"p","lpai":null,"aor":true,"vendorProductId":null,"originInstanceId":"f00d"}"#;
        let flat = read_flat(json).expect("Wix's shape is read here");
        assert_eq!(Some(&flat), serde(json).as_ref());
        assert_eq!(flat.instance_id.as_deref(), Some("9f3c2a1e-7b4d"));
        assert_eq!(flat.permissions.as_deref(), Some("OWNER"));
        assert_eq!(flat.vendor_product_id, None);
        assert_eq!(flat.origin_instance_id.as_deref(), Some("f00d"));
        assert_eq!(flat.aid, None);
    }

    #[test]
    fn leaves_everything_else_to_serde() {
        for json in [
            r#"{"instanceId":"a\"b"}"#,                // an escape
            r#"{"instanceId":"a","x":1}"#,             // a number
            r#"{"instanceId":"a","x":{"y":"z"}}"#,     // nesting
            r#"{"instanceId":"a","x":["y"]}"#,         // an array
            r#"{"instanceId":"a","instanceId":"b"}"#,  // twice: serde refuses it
            r#"{"instanceId":null,"instanceId":"b"}"#, // twice, the first null
            r#"{"instanceId":true}"#,                  // a boolean where a string belongs
            r#"{"instanceId":"a",}"#,                  // a trailing comma
            r#"{"instanceId":"a"} x"#,                 // trailing bytes
            "{\"instanceId\":\"a\"}\n",                // a newline (a control byte)
            r#"{"instanceId":"a" "uid":"b"}"#,         // no comma
            r#"{"instanceId":nul}"#,                   // a broken literal
            r#"{"instanceId":"a""#,                    // no closing brace
            r#"["instanceId"]"#,                       // not an object
        ] {
            assert!(read_flat(json).is_none(), "{json}");
        }
    }

    #[test]
    fn spaces_and_an_empty_object_are_read() {
        let json = r#" { "instanceId" : "a" , "uid" : null , "demoMode" : true } "#;
        assert_eq!(read_flat(json).as_ref(), serde(json).as_ref());
        assert_eq!(read_flat(json).unwrap().instance_id.as_deref(), Some("a"));
        assert_eq!(read_flat("{}"), Some(Payload::default()));
        assert_eq!(read_flat(" { } "), Some(Payload::default()));
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            6 => prop_oneof![
                Just("instanceId"),
                Just("signDate"),
                Just("uid"),
                Just("permissions"),
                Just("aid"),
                Just("vendorProductId"),
                Just("originInstanceId"),
                Just("demoMode"),
            ]
            .prop_map(str::to_owned),
            2 => "\\PC{0,6}",
            1 => Just("ui\\u0064".to_owned()),
        ]
    }

    /// Values of every kind, valid or not, flat or not.
    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            6 => "\\PC{0,6}".prop_map(|text| format!("\"{text}\"")),
            2 => Just("null".to_owned()),
            1 => Just("true".to_owned()),
            1 => Just("false".to_owned()),
            4 => prop_oneof![
                Just("nul"),
                Just("nullx"),
                Just("1"),
                Just("-0.5e3"),
                Just("{}"),
                Just("{\"a\":\"b\"}"),
                Just("[]"),
                Just("\"a\\\"b\""),
                Just("\"\\u0041\""),
                Just("\"a\nb\""),
                Just("\"a"),
                Just(""),
            ]
            .prop_map(str::to_owned),
        ]
    }

    /// What goes between fields, around colons and after the object: mostly valid.
    fn glue() -> impl Strategy<Value = &'static str> {
        prop_oneof![
            24 => Just(""),
            3 => Just(" "),
            1 => Just("\t"),
            1 => Just(","),
            1 => Just(":"),
            1 => Just("}"),
            1 => Just("x"),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        #[test]
        fn finds_the_first_quote(bytes in proptest::collection::vec(
            prop_oneof![Just(b'"'), Just(b'"' ^ 0x80), Just(b'"' - 1), Just(b'"' + 1), any::<u8>()], 0..40)) {
            prop_assert_eq!(find_quote(&bytes), bytes.iter().position(|&b| b == b'"'));
        }

        /// Near-payloads (fields with any kind of value, the odd wrong byte between them):
        /// whenever the flat reader answers, serde_json reads the same payload.
        #[test]
        fn agrees_with_serde_json(
            fields in proptest::collection::vec((key(), glue(), value(), glue()), 0..5),
            end in glue(),
        ) {
            let body: Vec<String> = fields
                .into_iter()
                .map(|(key, around, value, after)| format!("\"{key}\"{around}:{value}{after}"))
                .collect();
            let json = format!("{{{}}}{end}", body.join(","));
            let (flat, serde) = (read_flat(&json), serde(&json));
            if flat.is_some() {
                prop_assert_eq!(&flat, &serde, "{}", json);
            }
        }

        /// Objects in the flat shape with any field names and string values: always read
        /// here, and exactly as serde_json reads them.
        #[test]
        fn reads_every_flat_object(
            fields in proptest::collection::vec((
                prop_oneof![Just("instanceId".to_owned()), Just("uid".to_owned()), Just("aid".to_owned()), "[^\"\\\\\\p{Cc}]{0,8}"],
                prop_oneof![
                    "[^\"\\\\\\p{Cc}]{0,12}".prop_map(|s| format!("\"{s}\"")),
                    Just("null".to_owned()),
                ],
            ), 0..8),
        ) {
            let mut names = std::collections::HashSet::new();
            let body: Vec<String> = fields
                .into_iter()
                .filter(|(name, _)| names.insert(name.clone()))
                .map(|(name, value)| format!("\"{name}\":{value}"))
                .collect();
            let json = format!("{{{}}}", body.join(","));
            let flat = read_flat(&json);
            prop_assert!(flat.is_some(), "{}", json);
            prop_assert_eq!(flat, serde(&json), "{}", json);
        }
    }
}
