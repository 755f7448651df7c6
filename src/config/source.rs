//! Where things are in a scenario file: key paths, byte spans, lines and columns.
//!
//! Serde reports byte spans and validation reports key paths; this module translates between
//! the two with the spans `toml_edit` keeps, so every error can name both the key and its line.

use std::fmt;
use std::ops::Range;
use toml_edit::{Item, Table, Value};

/// One step of a key path: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Seg {
    /// A key in a table.
    Key(String),
    /// An element of an array (or array of tables).
    Index(usize),
}

/// A path to a key in the scenario document, e.g. `policy[1].windows[0].start`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct KeyPath(pub Vec<Seg>);

impl KeyPath {
    /// The document root.
    pub fn root() -> KeyPath {
        KeyPath(Vec::new())
    }

    /// A path of plain keys, from a dotted string; `[n]` suffixes become indices
    /// (`traffic.files[2].path`).
    pub fn parse(dotted: &str) -> KeyPath {
        let mut segs = Vec::new();
        for part in dotted.split('.').filter(|p| !p.is_empty()) {
            let (name, mut rest) = match part.find('[') {
                Some(i) => (&part[..i], &part[i..]),
                None => (part, ""),
            };
            if !name.is_empty() {
                segs.push(Seg::Key(name.to_string()));
            }
            while let Some(close) = rest.find(']') {
                match rest[1..close].parse() {
                    Ok(i) => segs.push(Seg::Index(i)),
                    Err(_) => segs.push(Seg::Key(rest[1..close].to_string())),
                }
                rest = &rest[close + 1..];
            }
        }
        KeyPath(segs)
    }

    /// This path extended by a key.
    pub fn key(&self, k: &str) -> KeyPath {
        let mut v = self.0.clone();
        v.push(Seg::Key(k.to_string()));
        KeyPath(v)
    }

    /// This path extended by an index.
    pub fn index(&self, i: usize) -> KeyPath {
        let mut v = self.0.clone();
        v.push(Seg::Index(i));
        KeyPath(v)
    }

    /// The enclosing path (the root's parent is the root).
    pub fn parent(&self) -> KeyPath {
        let mut v = self.0.clone();
        v.pop();
        KeyPath(v)
    }

    /// Whether `self` equals `prefix` or lies inside it.
    pub fn starts_with(&self, prefix: &KeyPath) -> bool {
        self.0.len() >= prefix.0.len() && self.0[..prefix.0.len()] == prefix.0[..]
    }

    /// Whether this is the document root.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The path with indices replaced by `[]`, as keys are documented (`policy[].min`).
    pub fn doc_form(&self) -> String {
        let mut s = String::new();
        for seg in &self.0 {
            match seg {
                Seg::Key(k) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(k);
                }
                Seg::Index(_) => s.push_str("[]"),
            }
        }
        s
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(top level)");
        }
        let mut first = true;
        for seg in &self.0 {
            match seg {
                Seg::Key(k) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                Seg::Index(i) => write!(f, "[{i}]")?,
            }
            first = false;
        }
        Ok(())
    }
}

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineCol {
    /// Line, from 1.
    pub line: usize,
    /// Column in characters, from 1.
    pub col: usize,
}

/// The line and column of byte `offset` in `text` (clamped to the text).
pub fn line_col(text: &str, offset: usize) -> LineCol {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    LineCol { line, col: text[line_start..offset].chars().count() + 1 }
}

/// The text of 1-based line `line`, without its end of line.
pub fn line_text(text: &str, line: usize) -> Option<&str> {
    text.lines().nth(line.checked_sub(1)?)
}

#[derive(Debug, Clone)]
struct Entry {
    path: KeyPath,
    /// Span of the key (or of the table header).
    key: Option<Range<usize>>,
    /// Span of the value (or of the table header).
    value: Option<Range<usize>>,
    /// A `[table]` or `[[array]]` header: keys after it, up to the next header, belong to it.
    header: bool,
}

/// An index of every key and table in a parsed document with its byte spans.
#[derive(Debug, Clone, Default)]
pub struct Locator {
    entries: Vec<Entry>,
}

impl Locator {
    /// Indexes `text`; a document that does not parse gives an empty index.
    pub fn new(text: &str) -> Locator {
        let mut loc = Locator::default();
        if let Ok(doc) = toml_edit::Document::parse(text) {
            loc.walk_table(&KeyPath::root(), doc.as_table());
        }
        loc
    }

    fn walk_table(&mut self, path: &KeyPath, table: &Table) {
        for (k, item) in table.iter() {
            let key_span = table.key(k).and_then(|key| key.span());
            let p = path.key(k);
            match item {
                Item::Table(t) => {
                    let header = t.span().is_some() && !t.is_implicit() && !t.is_dotted();
                    self.entries.push(Entry {
                        path: p.clone(),
                        key: key_span.or(t.span()),
                        value: t.span(),
                        header,
                    });
                    self.walk_table(&p, t);
                }
                Item::ArrayOfTables(a) => {
                    for (i, t) in a.iter().enumerate() {
                        let pi = p.index(i);
                        self.entries.push(Entry {
                            path: pi.clone(),
                            key: t.span(),
                            value: t.span(),
                            header: true,
                        });
                        self.walk_table(&pi, t);
                    }
                }
                Item::Value(v) => {
                    self.entries.push(Entry {
                        path: p.clone(),
                        key: key_span,
                        value: v.span(),
                        header: false,
                    });
                    self.walk_value(&p, v);
                }
                Item::None => {}
            }
        }
    }

    fn walk_value(&mut self, path: &KeyPath, v: &Value) {
        match v {
            Value::Array(a) => {
                for (i, e) in a.iter().enumerate() {
                    let pi = path.index(i);
                    self.entries.push(Entry {
                        path: pi.clone(),
                        key: e.span(),
                        value: e.span(),
                        header: false,
                    });
                    self.walk_value(&pi, e);
                }
            }
            Value::InlineTable(t) => {
                for (k, e) in t.iter() {
                    let pk = path.key(k);
                    let key_span = t.key(k).and_then(|key| key.span());
                    self.entries.push(Entry {
                        path: pk.clone(),
                        key: key_span,
                        value: e.span(),
                        header: false,
                    });
                    self.walk_value(&pk, e);
                }
            }
            _ => {}
        }
    }

    /// The most specific key path at byte `offset`: the key or value that contains it, else the
    /// table whose header precedes it, else the root.
    pub fn path_at(&self, offset: usize) -> KeyPath {
        let contains =
            |r: &Option<Range<usize>>| r.as_ref().is_some_and(|r| r.start <= offset && offset < r.end);
        let width = |r: &Option<Range<usize>>| r.as_ref().map_or(usize::MAX, |r| r.end - r.start);
        let mut best: Option<(&Entry, usize)> = None;
        for e in &self.entries {
            for r in [&e.key, &e.value] {
                if contains(r) && best.is_none_or(|(_, w)| width(r) < w) {
                    best = Some((e, width(r)));
                }
            }
        }
        if let Some((e, _)) = best {
            return e.path.clone();
        }
        self.entries
            .iter()
            .filter(|e| e.header && e.value.as_ref().is_some_and(|r| r.start <= offset))
            .max_by_key(|e| e.value.as_ref().map_or(0, |r| r.start))
            .map_or_else(KeyPath::root, |e| e.path.clone())
    }

    /// The byte offset where `path` is written (its key, or its table header), if it is.
    pub fn offset_of(&self, path: &KeyPath) -> Option<usize> {
        let e = self.entries.iter().find(|e| &e.path == path)?;
        e.key.as_ref().or(e.value.as_ref()).map(|r| r.start)
    }

    /// The offset of `path`, or of its nearest written ancestor; with whether it was exact.
    pub fn nearest_offset(&self, path: &KeyPath) -> Option<(usize, bool)> {
        let mut p = path.clone();
        let mut exact = true;
        loop {
            if let Some(o) = self.offset_of(&p) {
                return Some((o, exact));
            }
            if p.is_root() {
                return None;
            }
            p = p.parent();
            exact = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "[simulation]\nduration = \"1h\"\n\n[service]\nworkers = 4\ndemand = { distribution = \"exponential\", mean = \"1s\" }\n\n[[policy]]\nname = \"a\"\n\n[[policy]]\nname = \"b\"\nwindows = [{ start = \"0 9 * * *\" }]\n";

    #[test]
    fn paths_parse_and_print() {
        let p = KeyPath::parse("policy[1].windows[0].start");
        assert_eq!(p.to_string(), "policy[1].windows[0].start");
        assert_eq!(p.doc_form(), "policy[].windows[].start");
        assert_eq!(KeyPath::parse("service.workers").to_string(), "service.workers");
    }

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("ab\ncdé=x", 7), LineCol { line: 2, col: 4 });
        assert_eq!(line_col("a", 99), LineCol { line: 1, col: 2 });
    }

    #[test]
    fn locates_keys_both_ways() {
        let loc = Locator::new(DOC);
        let at = |p: &str| line_col(DOC, loc.offset_of(&KeyPath::parse(p)).unwrap()).line;
        assert_eq!(at("service.workers"), 5);
        assert_eq!(at("service.demand.mean"), 6);
        assert_eq!(at("policy[1]"), 11);
        assert_eq!(at("policy[1].windows[0].start"), 13);
        let off = DOC.find("workers").unwrap();
        assert_eq!(loc.path_at(off).to_string(), "service.workers");
        let off = DOC.find("\"b\"").unwrap();
        assert_eq!(loc.path_at(off).to_string(), "policy[1].name");
        let off = DOC.find("[[policy]]\nname = \"b\"").unwrap();
        assert_eq!(loc.path_at(off).to_string(), "policy[1]");
        let (o, exact) = loc.nearest_offset(&KeyPath::parse("policy[0].max")).unwrap();
        assert!(!exact);
        assert_eq!(line_col(DOC, o).line, 8);
    }
}
