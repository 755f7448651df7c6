//! Where a field of a YAML (or JSON) document is written: the line and column of the key a
//! field path such as `ticks[1].time` names. Messages about a value that parsed but does not
//! make sense (found 2, before the previous tick) use it to point at the line, as syntax errors
//! do. Pure: it reads the text it is given.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// One step of a field path: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Key(String),
    Index(usize),
}

/// Splits `a.b[2].c` into its steps; `None` when it is not a field path (a space, an empty
/// key, an unclosed bracket).
fn parse_path(path: &str) -> Option<Vec<Seg>> {
    let mut segs = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if key.is_empty() && segs.is_empty() || key.contains(char::is_whitespace) {
            return None;
        }
        if !key.is_empty() {
            segs.push(Seg::Key(key.to_string()));
        }
        while !rest.is_empty() {
            let close = rest.find(']')?;
            segs.push(Seg::Index(rest.get(1..close)?.parse().ok()?));
            rest = &rest[close + 1..];
            if !rest.is_empty() && !rest.starts_with('[') {
                return None;
            }
        }
    }
    (!segs.is_empty()).then_some(segs)
}

enum Frame {
    Map { path: Vec<Seg>, key: Option<String>, expect_key: bool, first: Option<Marker> },
    Seq { path: Vec<Seg>, index: usize },
}

struct Finder<'a> {
    target: &'a [Seg],
    stack: Vec<Frame>,
    /// The longest prefix of the target seen so far: its length and where it is written.
    best: Option<(usize, Marker)>,
}

impl Finder<'_> {
    fn see(&mut self, path: &[Seg], mark: Marker) {
        if path.len() <= self.target.len()
            && self.target.starts_with(path)
            && self.best.is_none_or(|(n, _)| path.len() > n)
        {
            self.best = Some((path.len(), mark));
        }
    }

    /// The path of a node starting now, and whether it is a mapping key.
    fn node_path(&self) -> (Vec<Seg>, bool) {
        match self.stack.last() {
            None => (Vec::new(), false),
            Some(Frame::Map { path, key, expect_key, .. }) => {
                let mut p = path.clone();
                if *expect_key {
                    (p, true)
                } else {
                    p.push(Seg::Key(key.clone().unwrap_or_default()));
                    (p, false)
                }
            }
            Some(Frame::Seq { path, index }) => {
                let mut p = path.clone();
                p.push(Seg::Index(*index));
                (p, false)
            }
        }
    }

    /// A node of the innermost collection is complete.
    fn done(&mut self) {
        match self.stack.last_mut() {
            Some(Frame::Map { expect_key, .. }) => *expect_key = !*expect_key,
            Some(Frame::Seq { index, .. }) => *index += 1,
            None => {}
        }
    }
}

impl MarkedEventReceiver for Finder<'_> {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(value, ..) => {
                let (mut path, is_key) = self.node_path();
                if is_key {
                    // A mapping is shown where its first key is written (a block mapping's
                    // own mark is after that key).
                    if let Some(Frame::Map { first, .. }) = self.stack.last_mut()
                        && let Some(start) = first.take()
                        && let Some((_, m)) = &mut self.best
                        && m.index() == start.index()
                    {
                        *m = mark;
                    }
                    path.push(Seg::Key(value.clone()));
                    if let Some(Frame::Map { key, .. }) = self.stack.last_mut() {
                        *key = Some(value);
                    }
                }
                self.see(&path, mark);
                self.done();
            }
            Event::Alias(_) => {
                let (path, _) = self.node_path();
                self.see(&path, mark);
                self.done();
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let (path, is_key) = self.node_path();
                if is_key {
                    // A complex key: nothing a field path can name; keep its place.
                    if let Some(Frame::Map { key, .. }) = self.stack.last_mut() {
                        *key = None;
                    }
                }
                self.see(&path, mark);
                self.stack.push(if matches!(ev, Event::MappingStart(..)) {
                    Frame::Map { path, key: None, expect_key: true, first: Some(mark) }
                } else {
                    Frame::Seq { path, index: 0 }
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                self.done();
            }
            // Each document of a stream is searched from its root.
            Event::DocumentStart => self.stack.clear(),
            _ => {}
        }
    }
}

/// The 1-based line and column where `path` (e.g. `ticks[1].time`) is written in `text` (in any
/// of its YAML documents); when the field itself is absent, where its nearest written parent is. `None` when `path` is not
/// a field path, the text does not parse, or nothing of the path is written.
pub fn locate(text: &str, path: &str) -> Option<(usize, usize)> {
    let target = parse_path(path)?;
    let mut f = Finder { target: &target, stack: Vec::new(), best: None };
    Parser::new_from_str(text).load(&mut f, true).ok()?;
    f.best.filter(|(n, _)| *n > 0).map(|(_, m)| (m.line(), m.col() + 1))
}

/// `message`, which starts with the field path it is about (`ticks[1].time: found 2, …`), as
/// `origin:line:column: message` when that field is found in `text`, else `origin: message`.
pub fn at_field(text: &str, origin: &str, message: &str) -> String {
    let path = message.split_once(": ").map(|(p, _)| p);
    match path.and_then(|p| locate(text, p)) {
        Some((line, col)) => format!("{origin}:{line}:{col}: {message}"),
        None => format!("{origin}: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CASE: &str = "config:\n  target: 10\nticks:\n  - time: 0\n    stableAverage: 1\n  - {time: 2, panicAverage: 3}\n  - time: 1\n";

    #[test]
    fn finds_keys_in_block_and_flow_style() {
        assert_eq!(locate(CASE, "config.target"), Some((2, 3)));
        assert_eq!(locate(CASE, "ticks[0].stableAverage"), Some((5, 5)));
        assert_eq!(locate(CASE, "ticks[1].panicAverage"), Some((6, 15)));
        assert_eq!(locate(CASE, "ticks[2].time"), Some((7, 5)));
        assert_eq!(locate(CASE, "ticks"), Some((3, 1)));
    }

    #[test]
    fn an_absent_field_points_at_its_parent() {
        assert_eq!(locate(CASE, "ticks[2].stableAverage"), Some((7, 5)));
        assert_eq!(locate(CASE, "config.panicThreshold"), Some((1, 1)));
        assert_eq!(locate(CASE, "nothing.here"), None);
    }

    #[test]
    fn every_document_of_a_stream_is_searched() {
        let two = "kind: HorizontalPodAutoscaler\nspec: {}\n---\nnow: 5\npods:\n  - name: a\n";
        assert_eq!(locate(two, "pods[0].name"), Some((6, 5)));
        assert_eq!(locate(two, "kind"), Some((1, 1)));
    }

    #[test]
    fn json_documents_too() {
        let j = "{\n  \"now\": 5,\n  \"pods\": [\n    {\"name\": \"a\"},\n    {\"name\": \"b\", \"metricWindow\": -1}\n  ]\n}\n";
        assert_eq!(locate(j, "pods[1].metricWindow"), Some((5, 19)));
        assert_eq!(locate(j, "now"), Some((2, 3)));
    }

    #[test]
    fn messages_gain_a_position_only_when_found() {
        assert_eq!(
            at_field(CASE, "k.yaml", "ticks[2].time: found 1, before the previous tick (2)"),
            "k.yaml:7:5: ticks[2].time: found 1, before the previous tick (2)"
        );
        assert_eq!(
            at_field(CASE, "k.yaml", "at least one tick is needed"),
            "k.yaml: at least one tick is needed"
        );
        assert_eq!(at_field("a: [", "k.yaml", "a: bad"), "k.yaml: a: bad");
        assert_eq!(parse_path("a b.c"), None);
        assert_eq!(parse_path("x[1"), None);
        assert_eq!(
            parse_path("x[1][2].y"),
            Some(vec![Seg::Key("x".into()), Seg::Index(1), Seg::Index(2), Seg::Key("y".into())])
        );
    }
}
