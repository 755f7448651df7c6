//! The one way HTML is built: an [`Html`] value into which text is always escaped, and into
//! which markup goes only as a string literal written in the code (or as markup produced by our
//! own renderers, by an explicit [`Html::trusted`]). Every page (`report.html` of a run or of a
//! tune) is built with the [`html!`] macro, so no caller can forget to escape a name, a
//! currency, a path or a message taken from a file or the command line.
//!
//! ```ignore
//! let mut h = Html::new();
//! html!(h; "<td class=\"cost\">", currency, "</td>"); // `currency` is escaped
//! ```

use std::fmt;

/// A piece of HTML: markup the code wrote, with every piece of data escaped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Html(String);

impl Html {
    /// An empty fragment.
    pub fn new() -> Html {
        Html(String::new())
    }

    /// `text`, escaped.
    pub fn text(text: &str) -> Html {
        let mut h = Html::new();
        escape_into(&mut h.0, text);
        h
    }

    /// Markup produced by scalesim's own code rather than taken from data — the SVG charts of
    /// the plotters backend, which escapes the text it draws. Never call it on data.
    pub fn trusted(markup: String) -> Html {
        Html(markup)
    }

    /// Appends markup spelled out in the code (a string literal: only `&'static str` is
    /// accepted, so data cannot go this way). Used by [`html!`].
    pub fn markup(&mut self, literal: &'static str) -> &mut Html {
        self.0.push_str(literal);
        self
    }

    /// Appends `value`: escaped text, or an [`Html`] fragment as it is. Used by [`html!`].
    pub fn put<T: ToHtml + ?Sized>(&mut self, value: &T) -> &mut Html {
        value.to_html(&mut self.0);
        self
    }

    /// Whether the fragment is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The HTML text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The HTML text.
    pub fn into_string(self) -> String {
        self.0
    }

    /// Joins fragments with a separator that is text (escaped).
    pub fn join(parts: &[Html], sep: &str) -> Html {
        let mut h = Html::new();
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                h.put(sep);
            }
            h.put(p);
        }
        h
    }
}

impl fmt::Display for Html {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a value goes into HTML: text is escaped, [`Html`] is copied.
pub trait ToHtml {
    /// Appends the value's HTML to `out`.
    fn to_html(&self, out: &mut String);
}

impl ToHtml for Html {
    fn to_html(&self, out: &mut String) {
        out.push_str(&self.0);
    }
}

impl ToHtml for str {
    fn to_html(&self, out: &mut String) {
        escape_into(out, self);
    }
}

impl ToHtml for String {
    fn to_html(&self, out: &mut String) {
        escape_into(out, self);
    }
}

impl<T: ToHtml + ?Sized> ToHtml for &T {
    fn to_html(&self, out: &mut String) {
        (**self).to_html(out);
    }
}

macro_rules! numbers_to_html {
    ($($t:ty),*) => {$(
        impl ToHtml for $t {
            fn to_html(&self, out: &mut String) {
                escape_into(out, &self.to_string());
            }
        }
    )*};
}
numbers_to_html!(u8, u16, u32, u64, usize, i32, i64, f64);

impl ToHtml for serde_json::Value {
    fn to_html(&self, out: &mut String) {
        escape_into(out, &self.to_string());
    }
}

/// Escapes `text` for HTML text and attribute values (double- or single-quoted).
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// Appends to an [`Html`] a sequence of string literals (markup, as written) and expressions
/// (escaped, unless they are [`Html`] already): `html!(h; "<td>", name, "</td>")`.
macro_rules! html {
    ($h:expr; $($rest:tt)*) => {{
        let h: &mut $crate::report::markup::Html = &mut $h;
        $crate::report::markup::html!(@ h; $($rest)*);
    }};
    (@ $h:ident; ) => {};
    (@ $h:ident; $l:literal $(, $($rest:tt)*)?) => {
        $h.markup($l);
        $crate::report::markup::html!(@ $h; $($($rest)*)?);
    };
    (@ $h:ident; $e:expr $(, $($rest:tt)*)?) => {
        $h.put(&$e);
        $crate::report::markup::html!(@ $h; $($($rest)*)?);
    };
}
pub(crate) use html;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_is_escaped_and_literals_are_markup() {
        let currency = "<img src=x onerror=alert(1)>";
        let name = String::from("a&b \"c\" 'd'");
        let mut h = Html::new();
        let n = 3u32;
        html!(h; "<p class=\"v\">", currency, " ", name, " ", n, "</p>");
        assert_eq!(
            h.as_str(),
            "<p class=\"v\">&lt;img src=x onerror=alert(1)&gt; a&amp;b &quot;c&quot; &#39;d&#39; 3</p>"
        );
        let mut outer = Html::new();
        html!(outer; "<div>", h, "</div>");
        assert!(outer.as_str().starts_with("<div><p class=\"v\">&lt;img"));
        assert_eq!(Html::join(&[Html::text("<a>"), Html::text("b")], ", ").as_str(), "&lt;a&gt;, b");
    }
}
