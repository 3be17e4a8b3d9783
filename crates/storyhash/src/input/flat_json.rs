//! A JSONL line read without serde_json when its shape is simple: one object whose
//! wanted fields (text, id, title, url, published) are strings, numbers or null. A news
//! record is such a line, and most of its bytes are the text: serde_json walks a
//! string eight bytes at a time looking for quotes, backslashes and control
//! characters, where `memchr` and a vectorized minimum take 32 bytes a step.
//!
//! [`read`] accepts exactly what serde_json accepts for these shapes and returns the
//! same fields; for anything else (a nested value in a wanted field, an escaped key,
//! any syntax error) it returns `None` and the caller parses the line with serde_json,
//! which also words the error. A property test holds both readers to the same answer
//! on generated and mutated lines.

use std::borrow::Cow;

use serde::de::IgnoredAny;

use super::{unescape_json, Fields, JsonValue, ReadOptions};

/// The wanted fields of `line` (a whole JSONL line, without its line end), or `None`
/// when the line must go to serde_json.
pub(super) fn read<'a>(line: &'a str, options: &ReadOptions) -> Option<Fields<'a>> {
    let mut at = Cursor {
        bytes: line.as_bytes(),
        pos: 0,
    };
    let mut fields = Fields::default();
    at.skip_whitespace();
    at.expect(b'{')?;
    at.skip_whitespace();
    if at.peek() == Some(b'}') {
        at.pos += 1;
    } else {
        loop {
            at.expect(b'"')?;
            let (key, escaped) = at.string()?;
            if escaped {
                return None;
            }
            let key = &line[key];
            at.skip_whitespace();
            at.expect(b':')?;
            at.skip_whitespace();
            match fields.slot(key, options) {
                Some(slot) => *slot = Some(at.wanted_value(line)?),
                None => at.skip_value(line)?,
            }
            at.skip_whitespace();
            match at.next()? {
                b',' => at.skip_whitespace(),
                b'}' => break,
                _ => return None,
            }
        }
    }
    at.skip_whitespace();
    (at.pos == line.len()).then_some(fields)
}

/// JSON's whitespace, which is all serde_json skips between tokens.
fn is_json_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    fn expect(&mut self, wanted: u8) -> Option<()> {
        (self.next()? == wanted).then_some(())
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(is_json_whitespace) {
            self.pos += 1;
        }
    }

    /// The bytes between the quotes of the string whose opening quote was just taken,
    /// and whether they hold an escape, leaving the cursor after its closing quote. The
    /// escapes are checked as serde_json checks those of a string it skips (a known
    /// letter, or `u` and four hex digits); `None` for a bad escape, a control character
    /// or no closing quote.
    fn string(&mut self) -> Option<(std::ops::Range<usize>, bool)> {
        let start = self.pos;
        let mut from = start;
        let end = loop {
            let found = from + memchr::memchr2(b'"', b'\\', &self.bytes[from..])?;
            if self.bytes[found] == b'"' {
                break found;
            }
            let used = match *self.bytes.get(found + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => 2,
                b'u' => {
                    let digits = self.bytes.get(found + 2..found + 6)?;
                    if !digits.iter().all(u8::is_ascii_hexdigit) {
                        return None;
                    }
                    6
                }
                _ => return None,
            };
            from = found + used;
        };
        // JSON strings hold no raw control character; one minimum over the whole string
        // (vectorized) rather than a test per byte.
        if self.bytes[start..end]
            .iter()
            .fold(u8::MAX, |low, &b| low.min(b))
            < 0x20
        {
            return None;
        }
        self.pos = end + 1;
        // `from` moved on from the start only past escapes.
        Some((start..end, from > start))
    }

    /// A wanted field's value: a string (unescaped, borrowed when it has no escape),
    /// a number (its text, as the other reader keeps it), null, or a boolean.
    fn wanted_value<'a>(&mut self, line: &'a str) -> Option<JsonValue<'a>> {
        match self.next()? {
            b'"' => {
                // Borrowed as it stands when the scan met no escape; else unescaped
                // (which also refuses unpaired surrogates, as serde_json does).
                let (inner, escaped) = self.string()?;
                let inner = &line[inner];
                if escaped {
                    unescape_json(inner).ok().map(JsonValue::String)
                } else {
                    Some(JsonValue::String(Cow::Borrowed(inner)))
                }
            }
            b'-' | b'0'..=b'9' => {
                // Kept as written: through f64, distinct large ids would become one.
                let start = self.pos - 1;
                self.number_rest()?;
                Some(JsonValue::Number(line[start..self.pos].to_owned()))
            }
            b'n' => self.literal(b"ull").map(|()| JsonValue::Null),
            b't' => self.literal(b"rue").map(|()| JsonValue::Other("a boolean")),
            b'f' => self
                .literal(b"alse")
                .map(|()| JsonValue::Other("a boolean")),
            _ => None,
        }
    }

    /// Skips a value no field wants, checking it as serde_json checks what it skips.
    /// Arrays and objects are handed to serde_json itself.
    fn skip_value(&mut self, line: &str) -> Option<()> {
        match self.next()? {
            b'"' => self.string().map(drop),
            b'-' | b'0'..=b'9' => self.number_rest(),
            b'n' => self.literal(b"ull"),
            b't' => self.literal(b"rue"),
            b'f' => self.literal(b"alse"),
            b'[' | b'{' => {
                let start = self.pos - 1;
                let mut values =
                    serde_json::Deserializer::from_str(&line[start..]).into_iter::<IgnoredAny>();
                values.next()?.ok()?;
                self.pos = start + values.byte_offset();
                Some(())
            }
            _ => None,
        }
    }

    fn literal(&mut self, rest: &[u8]) -> Option<()> {
        let end = self.pos + rest.len();
        (self.bytes.get(self.pos..end)? == rest).then(|| self.pos = end)
    }

    /// The rest of a number whose first byte (`-` or a digit) was just taken, by JSON's
    /// grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number_rest(&mut self) -> Option<()> {
        let mut first = self.bytes[self.pos - 1];
        if first == b'-' {
            first = self.next()?;
        }
        match first {
            b'0' => {}
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.some_digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.some_digits()?;
        }
        Some(())
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    fn some_digits(&mut self) -> Option<()> {
        let start = self.pos;
        self.digits();
        (self.pos > start).then_some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::fields_by_serde;
    use proptest::prelude::*;

    const DEFAULT: [&str; 5] = ["text", "id", "title", "url", "published"];

    /// Field names for the text, id, title, address and time, in that order.
    fn options([text, id, title, url, published]: [&str; 5]) -> ReadOptions {
        ReadOptions {
            text_field: text.into(),
            id_field: id.into(),
            title_field: title.into(),
            url_field: url.into(),
            published_field: published.into(),
            ..ReadOptions::default()
        }
    }

    /// Both readers on `line` with the given field names: the fast one may decline,
    /// but when it answers, serde_json must accept the line and find the same fields.
    fn check(line: &str, names: [&str; 5]) -> Result<bool, TestCaseError> {
        let options = options(names);
        let Some(fast) = read(line, &options) else {
            return Ok(false);
        };
        let slow = fields_by_serde(line, &options);
        prop_assert_eq!(Some(fast), slow.ok(), "line {:?}", line);
        Ok(true)
    }

    #[test]
    fn typical_records_are_read_without_serde_json() {
        let lines = [
            r#"{"id":"d1","text":"a plain article"}"#,
            r#"{"id": 17, "text": "line one\nline \"two\"\tend \u00e9\ud83d\ude00"}"#,
            r#" { "text" : "x" , "published" : "2024-01-02", "title": null, "url": "u" } "#,
            r#"{"text":"x","tags":["a",{"b":[1,2.5e-3,true,null]}],"meta":{"k":"v"},"n":-0.5}"#,
            r#"{"text":"x","score":1e400,"flag":false,"empty":""}"#,
            r#"{}"#,
        ];
        for line in lines {
            assert!(matches!(check(line, DEFAULT), Ok(true)), "{line}");
        }
        let fields = read(lines[1], &ReadOptions::default()).expect("fast");
        assert_eq!(fields.id, Some(JsonValue::Number("17".into())));
        assert_eq!(
            fields.text,
            Some(JsonValue::String(
                "line one\nline \"two\"\tend \u{e9}\u{1F600}".into()
            ))
        );
    }

    #[test]
    fn lines_serde_json_refuses_or_that_need_it_are_declined() {
        for line in [
            r#"{"text":"x",}"#,
            r#"{"text":"x"} x"#,
            r#"{"text":"a	tab"}"#,
            r#"{"text":"\x"}"#,
            r#"{"text":"\u12g4"}"#,
            r#"{"text":"\ud800"}"#,
            r#"{"text":"x","n":01}"#,
            r#"{"text":"x","n":1.}"#,
            r#"{"text":"x","n":-}"#,
            r#"{"text":"x","b":tru}"#,
            r#"{"text":"x","a":[1,]}"#,
            r#"{"text":"x""id":"y"}"#,
            "{\"text\":\"x\"}\u{c}",
            r#"{"te\u0078t":"x"}"#,
            r#"{"text":{"nested":"x"}}"#,
            r#"["text","x"]"#,
            r#"{"text":"x""#,
        ] {
            assert_eq!(read(line, &ReadOptions::default()), None, "{line}");
        }
    }

    /// A value as JSON text: mostly well formed, with some of the faults a scraped feed
    /// has.
    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => r#""([a-z é ا]|\\[nrt"\\/bf]|\\u00[0-9a-fA-F]{2}|\\uD83D\\uDE00){0,12}""#,
            1 => r#""([a-z]|\\[nrtxu]|\\u[0-9a-fA-Fg]{0,4}|\\uD800|\\uDC00|[\x00-\x1f]){0,6}"?"#,
            2 => r"-?(0|[1-9][0-9]{0,3})(\.[0-9]{1,2})?([eE][+-]?[0-9]{1,3})?",
            1 => r"-?[0-9]{0,3}\.?[0-9]{0,2}[eE]?[+-]?[0-9]{0,2}",
            1 => prop_oneof![Just("true"), Just("false"), Just("null"), Just("nul")]
                .prop_map(String::from),
            1 => prop_oneof![
                Just(r#"[1, "a", {"b": null}]"#),
                Just(r#"{"x": [true]}"#),
                Just("[]"),
                Just("{}"),
                Just("[1,]"),
                Just(r#"{"a" 1}"#),
            ]
            .prop_map(String::from),
        ]
    }

    fn key() -> impl Strategy<Value = &'static str> {
        prop_oneof![
            Just("text"),
            Just("id"),
            Just("title"),
            Just("url"),
            Just("published"),
            Just("body"),
            Just("other"),
            Just(r"te\u0078t"),
        ]
    }

    /// A record line with random whitespace, then possibly one character replaced,
    /// inserted or removed.
    fn line() -> impl Strategy<Value = String> {
        let member = (key(), value(), r"[ \t]{0,2}", r"[ \t]{0,2}");
        (
            proptest::collection::vec(member, 0..5),
            r"[ \t\r]{0,2}",
            proptest::option::of((
                any::<prop::sample::Index>(),
                0..3u8,
                prop::sample::select(vec![
                    '"', '\\', ',', ':', '{', '}', '[', ']', ' ', '\u{1}', '\u{c}', 'x', '0', '-',
                    'e', '.',
                ]),
            )),
        )
            .prop_map(|(members, space, edit)| {
                let members: Vec<String> = members
                    .into_iter()
                    .map(|(k, v, a, b)| format!("\"{k}\"{a}:{b}{v}"))
                    .collect();
                let mut line: Vec<char> = format!("{space}{{{}}}{space}", members.join(","))
                    .chars()
                    .collect();
                if let Some((at, kind, c)) = edit {
                    let i = at.index(line.len() + 1);
                    match kind {
                        0 if i < line.len() => line[i] = c,
                        1 => line.insert(i, c),
                        _ if i < line.len() => {
                            line.remove(i);
                        }
                        _ => {}
                    }
                }
                line.into_iter().collect()
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Generated and damaged record lines: whenever the fast reader answers,
        /// serde_json reads the same fields, for the default field names, for a text
        /// field named otherwise (so that `text` becomes the id), and for every field
        /// renamed, two of them alike (the earlier in precedence reads it).
        #[test]
        fn the_fast_reader_agrees_with_serde_json(line in line()) {
            check(&line, DEFAULT)?;
            check(&line, ["body", "text", "title", "url", "published"])?;
            check(&line, ["other", "url", "published", "id", "url"])?;
        }
    }
}
