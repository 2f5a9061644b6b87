//! HTML written as text, for the parts of the dashboard that are markup rather than reactive
//! views: the feedback rows, the counts, the list's status line, the plan bar.
//!
//! Why: every reactive view is code in the dashboard's wasm chunk (a keyed `For` of rows with
//! their event handlers was ~20 KiB gzip of the dashboard's download), and the page has a size
//! budget (BENCHMARKS.md). Markup is one `inner_html` and one delegated click handler. The price is
//! escaping by hand: every piece of text from outside goes through [`escape`], in element text
//! and in double-quoted attribute values alike.

use std::fmt::Write as _;

/// `text` escaped for HTML element content and double-quoted attribute values.
pub(crate) fn escape(text: &str) -> Escaped<'_> {
    Escaped(text)
}

/// Writes its text escaped (`&`, `<`, `>`, `"`, `'`) into a `format!`, without a copy first.
pub(crate) struct Escaped<'a>(&'a str);

impl std::fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..at])?;
            f.write_str(match rest.as_bytes()[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[at + 1..];
        }
        f.write_str(rest)
    }
}

/// Appends `args` to `html` (writing to a `String` cannot fail).
pub(crate) fn push(html: &mut String, args: std::fmt::Arguments<'_>) {
    let _ = html.write_fmt(args);
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn text_from_outside_cannot_become_markup() {
        assert_eq!(
            escape(r#"<img src=x onerror="alert('1')">&amp;"#).to_string(),
            "&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;amp;"
        );
        assert_eq!(
            escape("plain text, ünïcødé ★").to_string(),
            "plain text, ünïcødé ★"
        );
        assert_eq!(escape("").to_string(), "");
    }
}
