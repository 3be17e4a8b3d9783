//! Turning one raw record into fields and documents: the fast flat-object reader, the
//! serde visitor that words every error, dotted field names, and JSON string unescaping.

use super::*;

/// Turns one raw record into a document (without duplicate-id checks, which need the
/// whole input: see [`IdRegistry`]).
pub fn parse_record(
    file: &InputFile,
    meta: &RecordMeta,
    bytes: &[u8],
    options: &ReadOptions,
) -> Result<Document, Warning> {
    let fields = parse_fields(file, meta, bytes, options)?;
    Ok(Document {
        id: fields.id.into_owned(),
        text: fields.text.into_owned(),
        title: fields.title.map(Cow::into_owned),
        url: fields.url.map(Cow::into_owned),
        published: fields.published.map(Cow::into_owned),
        location: Location::new(&file.label, meta.line),
    })
}

/// The fields of one record, borrowed from its bytes wherever JSON needed no unescaping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFields<'a> {
    /// The id (given, or the file stem and line).
    pub id: Cow<'a, str>,
    /// The text, not blank.
    pub text: Cow<'a, str>,
    /// Optional `title`.
    pub title: Option<Cow<'a, str>>,
    /// Optional `url`.
    pub url: Option<Cow<'a, str>>,
    /// Optional `published`, as written.
    pub published: Option<Cow<'a, str>>,
}

impl RecordFields<'_> {
    /// The fields, owning their text.
    pub fn into_owned(self) -> RecordFields<'static> {
        let own = |c: Cow<'_, str>| Cow::Owned(c.into_owned());
        RecordFields {
            id: own(self.id),
            text: own(self.text),
            title: self.title.map(own),
            url: self.url.map(own),
            published: self.published.map(own),
        }
    }
}

/// [`parse_record`] without copying: the same checks and warnings, but the fields borrow
/// from `bytes` (a corpus pass reads each text once and needs no owned copy).
pub fn parse_fields<'a>(
    file: &InputFile,
    meta: &RecordMeta,
    bytes: &'a [u8],
    options: &ReadOptions,
) -> Result<RecordFields<'a>, Warning> {
    if options.encoding == Encoding::Windows1252 {
        // Text that is all ASCII reads as it is; other text is decoded into UTF-8 and
        // the fields taken from that copy.
        let (decoded, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
        if let Cow::Owned(decoded) = decoded {
            let utf8 = ReadOptions {
                encoding: Encoding::Utf8,
                ..options.clone()
            };
            let meta = RecordMeta {
                range: 0..decoded.len(),
                ..meta.clone()
            };
            return parse_fields(file, &meta, decoded.as_bytes(), &utf8)
                .map(RecordFields::into_owned);
        }
    }
    let fail = |problem, line| Warning {
        location: Location::new(&file.label, line),
        problem,
    };
    if let Some(problem) = &meta.problem {
        return Err(fail(problem.clone(), meta.line));
    }
    let fields = match file.kind {
        FileKind::Text | FileKind::Html => {
            let bytes = strip_bom(bytes);
            let text = validate_utf8(bytes).map_err(|e| {
                let offset = e.valid_up_to();
                let line = 1 + bytes[..offset].iter().filter(|&&b| b == b'\n').count() as u64;
                let line_start = bytes[..offset]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |p| p + 1);
                let problem = InputProblem::InvalidUtf8 {
                    byte_offset: offset - line_start,
                };
                fail(problem, line)
            })?;
            if text.trim().is_empty() {
                return Err(fail(InputProblem::EmptyDocument, 1));
            }
            Ok(RecordFields {
                id: Cow::Owned(file.id_base.clone()),
                text: Cow::Borrowed(text),
                title: None,
                url: None,
                published: None,
            })
        }
        FileKind::Jsonl => parse_json_line(bytes, file, meta.line, options)
            .map_err(|problem| fail(problem, meta.line)),
        FileKind::Parquet => parquet::parse_row(bytes, file, meta.line, options)
            .map_err(|problem| fail(problem, meta.line)),
    }?;
    let page = match file.kind {
        FileKind::Html => true,
        FileKind::Text => false,
        FileKind::Jsonl | FileKind::Parquet => options.html.applies(&fields.text),
    };
    if page {
        return article_fields(fields).map_err(|problem| fail(problem, meta.line));
    }
    Ok(fields)
}

/// `fields` with the text replaced by the article extracted from it, and the title,
/// address and publication time taken from the page where the record has none of its
/// own; a page stating no time is dated by the record's address, when that holds a
/// date ([`crate::extract::extract_article_from`]).
fn article_fields(fields: RecordFields<'_>) -> Result<RecordFields<'_>, InputProblem> {
    let article = crate::extract::extract_article_from(&fields.text, fields.url.as_deref());
    if article.text.trim().is_empty() {
        return Err(InputProblem::EmptyDocument);
    }
    Ok(RecordFields {
        id: fields.id,
        text: Cow::Owned(article.text),
        title: fields.title.or(article.title.map(Cow::Owned)),
        url: fields.url.or(article.url.map(Cow::Owned)),
        published: fields.published.or(article.published.map(Cow::Owned)),
    })
}

pub(super) fn parse_json_line<'a>(
    line: &'a [u8],
    file: &InputFile,
    line_number: u64,
    options: &ReadOptions,
) -> Result<RecordFields<'a>, InputProblem> {
    let text = validate_utf8(line).map_err(|e| InputProblem::InvalidUtf8 {
        byte_offset: e.valid_up_to(),
    })?;
    let mut fields = match flat_json::read(text, options) {
        Some(fields) => fields,
        None => fields_by_serde(text, options)?,
    };
    let nested =
        |(name, slot): &(&str, &mut Option<JsonValue>)| slot.is_none() && name.contains('.');
    if fields.named(options).iter().any(nested) {
        // Parsed a second time, once for every dotted name.
        if let Ok(record) = serde_json::from_str::<serde_json::Value>(text) {
            let mut earlier: Vec<&str> = Vec::new();
            for (name, slot) in fields.named(options) {
                // A name given to two fields is the first's, as at the top level.
                if slot.is_none() && name.contains('.') && !earlier.contains(&name) {
                    *slot = nested_field(&record, name);
                }
                earlier.push(name);
            }
        }
    }
    let line = text;
    let field = &options.text_field;
    let text = match fields.text {
        None => {
            return Err(InputProblem::MissingField {
                field: field.clone(),
                present: Some(field_names(line)),
            })
        }
        Some(JsonValue::Null) => {
            return Err(InputProblem::MissingField {
                field: field.clone(),
                present: None,
            })
        }
        Some(value) => value.into_string(field)?,
    };
    if text.trim().is_empty() {
        return Err(InputProblem::EmptyDocument);
    }
    let id = match fields.id {
        None | Some(JsonValue::Null) => Cow::Owned(format!("{}:{line_number}", file.id_base)),
        Some(value) => value.into_id(&options.id_field)?,
    };
    Ok(RecordFields {
        id,
        text,
        title: optional_string(fields.title, &options.title_field)?,
        url: optional_string(fields.url, &options.url_field)?,
        published: match fields.published {
            None | Some(JsonValue::Null) => None,
            Some(value) => Some(value.into_id(&options.published_field)?),
        },
    })
}

/// The wanted fields of a JSONL line, read by serde_json: the reader of every line that
/// [`flat_json::read`] leaves, and the one whose errors are reported.
pub(super) fn fields_by_serde<'a>(
    text: &'a str,
    options: &ReadOptions,
) -> Result<Fields<'a>, InputProblem> {
    let text_fault = std::cell::Cell::new(None);
    let picker = FieldPicker {
        options,
        line_start: text.as_ptr() as usize,
        text_fault: &text_fault,
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let record = picker
        .deserialize(&mut de)
        .and_then(|r| de.end().map(|()| r))
        .map_err(|e| {
            // A fault in the text's escapes is placed at the escape, not where serde_json
            // stood when told (past the whole value).
            InputProblem::MalformedJson(text_fault.take().unwrap_or_else(|| json_error_message(&e)))
        })?;
    match record {
        Record::Object(fields) => Ok(fields),
        Record::Other(kind) => Err(InputProblem::NotAnObject(kind)),
    }
}

/// The value at a dotted path such as `article.body` in a parsed JSON record, for a
/// field name the record does not hold at its top level: each part names a field of the
/// object the part before it names. None when the path leads nowhere. The caller parses
/// the line a second time, as a whole, for this, so a corpus with nested text reads
/// more slowly than one with the text at the top level; a field whose own name holds
/// the dot is found first.
pub(super) fn nested_field<'a>(record: &serde_json::Value, path: &str) -> Option<JsonValue<'a>> {
    let value = path
        .split('.')
        .try_fold(record, |value, part| value.as_object()?.get(part))?;
    Some(match value {
        serde_json::Value::String(s) => JsonValue::String(Cow::Owned(s.clone())),
        serde_json::Value::Number(n) => JsonValue::Number(n.to_string()),
        serde_json::Value::Null => JsonValue::Null,
        serde_json::Value::Bool(_) => JsonValue::Other("a boolean"),
        serde_json::Value::Array(_) => JsonValue::Other("an array"),
        serde_json::Value::Object(_) => JsonValue::Other("an object"),
    })
}

/// The first [`MAX_FIELDS_SHOWN`] field names of a JSON object line, in sorted order:
/// for the warning of a missing field only, so the line is parsed a second time (none
/// when that parse fails, as for values nested deeper than serde_json's limit).
pub(super) fn field_names(object_line: &str) -> Vec<String> {
    let keys: BTreeMap<String, IgnoredAny> = serde_json::from_str(object_line).unwrap_or_default();
    keys.into_keys()
        .take(MAX_FIELDS_SHOWN)
        .map(|name| match name.char_indices().nth(40) {
            // A field name is the user's data, of any length: the start identifies it.
            Some((cut, _)) => format!("{}…", &name[..cut]),
            None => name,
        })
        .collect()
}

pub(super) fn json_error_message(e: &serde_json::Error) -> String {
    // serde_json appends "at line 1 column N"; the line is always 1 here, so keep the column.
    let message = e.to_string();
    match message.rfind(" at line ") {
        Some(pos) => format!("{} (column {})", &message[..pos], e.column()),
        None => message,
    }
}

pub(super) fn optional_string<'a>(
    value: Option<JsonValue<'a>>,
    field: &str,
) -> Result<Option<Cow<'a, str>>, InputProblem> {
    match value {
        None | Some(JsonValue::Null) => Ok(None),
        Some(value) => value.into_string(field).map(Some),
    }
}

/// The fields of one record that storyhash reads; everything else is skipped unparsed.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Fields<'de> {
    pub(super) id: Option<JsonValue<'de>>,
    pub(super) text: Option<JsonValue<'de>>,
    pub(super) title: Option<JsonValue<'de>>,
    pub(super) url: Option<JsonValue<'de>>,
    pub(super) published: Option<JsonValue<'de>>,
}

impl<'de> Fields<'de> {
    /// Each field's slot beside the name `options` reads it from, in precedence order:
    /// when two fields are given one name, the text wins, then the id, the title, the
    /// address and the publication time.
    pub(super) fn named<'s, 'o>(
        &'s mut self,
        options: &'o ReadOptions,
    ) -> [(&'o str, &'s mut Option<JsonValue<'de>>); 5] {
        [
            (&options.text_field, &mut self.text),
            (&options.id_field, &mut self.id),
            (&options.title_field, &mut self.title),
            (&options.url_field, &mut self.url),
            (&options.published_field, &mut self.published),
        ]
    }

    /// Where the value of `key` goes, or `None` for a field storyhash does not read.
    pub(super) fn slot(
        &mut self,
        key: &str,
        options: &ReadOptions,
    ) -> Option<&mut Option<JsonValue<'de>>> {
        self.named(options)
            .into_iter()
            .find(|(name, _)| *name == key)
            .map(|(_, slot)| slot)
    }
}

pub(super) enum Record<'de> {
    Object(Fields<'de>),
    Other(&'static str),
}

/// A JSON value reduced to what the reader needs to know; strings borrow from the line
/// unless they contained escapes.
#[derive(Debug, PartialEq)]
pub(super) enum JsonValue<'de> {
    String(Cow<'de, str>),
    Number(String),
    Null,
    Other(&'static str),
}

impl<'de> JsonValue<'de> {
    fn into_string(self, field: &str) -> Result<Cow<'de, str>, InputProblem> {
        match self {
            JsonValue::String(s) => Ok(s),
            other => Err(other.wrong_type(field, "a string")),
        }
    }

    fn into_id(self, field: &str) -> Result<Cow<'de, str>, InputProblem> {
        match self {
            JsonValue::String(s) => Ok(s),
            JsonValue::Number(s) => Ok(Cow::Owned(s)),
            other => Err(other.wrong_type(field, "a string or a number")),
        }
    }

    fn wrong_type(&self, field: &str, expected: &'static str) -> InputProblem {
        let found = match self {
            JsonValue::String(_) => "a string",
            JsonValue::Number(_) => "a number",
            JsonValue::Null => "null",
            JsonValue::Other(kind) => kind,
        };
        InputProblem::WrongType {
            field: field.to_owned(),
            expected,
            found,
        }
    }
}

/// Deserializes a record, keeping only the configured fields (no intermediate map).
pub(super) struct FieldPicker<'f> {
    options: &'f ReadOptions,
    /// Address of the line's first byte, to place a fault in the text field's escapes.
    line_start: usize,
    /// Such a fault, with its column, for the caller's message.
    text_fault: &'f std::cell::Cell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for FieldPicker<'_> {
    type Value = Record<'de>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Record<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FieldPicker<'_> {
    type Value = Record<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Record<'de>, A::Error> {
        let mut fields = Fields::default();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let Some(slot) = fields.slot(&key, self.options) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            // A repeated key keeps its last value, as serde_json's own maps do.
            // Every wanted field as its raw JSON, converted here: a number keeps its
            // exact text (through f64, `18446744073709551617` would become another
            // id), and the text is unescaped into one buffer of its final size, where
            // serde_json would grow one from empty for every record, then copy it out.
            let raw: &'de serde_json::value::RawValue = map.next_value()?;
            let raw = raw.get();
            let is_text = key == self.options.text_field;
            // A repeated key keeps its last value, as serde_json's own maps do.
            *slot = Some(raw_json_value(raw).map_err(|(message, at)| {
                if is_text {
                    let column = (raw.as_ptr() as usize).wrapping_sub(self.line_start) + at + 1;
                    self.text_fault
                        .set(Some(format!("{message} (column {column})")));
                }
                de::Error::custom(message)
            })?);
        }
        Ok(Record::Object(fields))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Record<'de>, A::Error> {
        drain_seq(seq)?;
        Ok(Record::Other("an array"))
    }
    fn visit_str<E>(self, _: &str) -> Result<Record<'de>, E> {
        Ok(Record::Other("a string"))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Record<'de>, E> {
        Ok(Record::Other("a boolean"))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Record<'de>, E> {
        Ok(Record::Other("a number"))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Record<'de>, E> {
        Ok(Record::Other("a number"))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Record<'de>, E> {
        Ok(Record::Other("a number"))
    }
    fn visit_unit<E>(self) -> Result<Record<'de>, E> {
        Ok(Record::Other("null"))
    }
}

/// The value of the raw JSON `raw` (already validated by serde_json: a string's
/// escapes are well formed and it holds no control character), or what is wrong with it
/// and its byte offset in `raw`. A number is kept as written.
pub(super) fn raw_json_value(raw: &str) -> std::result::Result<JsonValue<'_>, (String, usize)> {
    match raw.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        // The string's text starts after its quote.
        Some(inner) => unescape_json(inner)
            .map(JsonValue::String)
            .map_err(|(message, at)| (message, at + 1)),
        None if raw.starts_with(|c: char| c == '-' || c.is_ascii_digit()) => {
            Ok(JsonValue::Number(raw.to_owned()))
        }
        None => {
            let mut de = serde_json::Deserializer::from_str(raw);
            ValueSeed
                .deserialize(&mut de)
                .map_err(|e| (e.to_string(), 0))
        }
    }
}

/// The string whose JSON text between the quotes is `inner`, borrowed when it has no
/// escape. Unpaired UTF-16 surrogates are refused, as serde_json refuses them when it
/// deserializes a string; the error says why and where the escape starts in `inner`.
pub(super) fn unescape_json(inner: &str) -> std::result::Result<Cow<'_, str>, (String, usize)> {
    let Some(first) = memchr::memchr(b'\\', inner.as_bytes()) else {
        return Ok(Cow::Borrowed(inner));
    };
    let mut out = String::with_capacity(inner.len());
    let mut rest = inner;
    let mut next = Some(first);
    while let Some(at) = next {
        out.push_str(&rest[..at]);
        let escape = &rest.as_bytes()[at + 1..];
        let fault = |message: String| (message, inner.len() - rest.len() + at);
        let (decoded, used) = match escape.first() {
            Some(b'"') => ('"', 1),
            Some(b'\\') => ('\\', 1),
            Some(b'/') => ('/', 1),
            Some(b'b') => ('\u{8}', 1),
            Some(b'f') => ('\u{c}', 1),
            Some(b'n') => ('\n', 1),
            Some(b'r') => ('\r', 1),
            Some(b't') => ('\t', 1),
            Some(b'u') => unicode_escape(&escape[1..]).map_err(fault)?,
            _ => return Err(fault("invalid escape".to_owned())),
        };
        out.push(decoded);
        rest = &rest[at + 1 + used..];
        next = memchr::memchr(b'\\', rest.as_bytes());
    }
    out.push_str(rest);
    Ok(Cow::Owned(out))
}

/// The character of a `\u` escape whose hex digits start `after_u`, and how many bytes
/// after the backslash it used (5, or 11 for a surrogate pair).
pub(super) fn unicode_escape(after_u: &[u8]) -> std::result::Result<(char, usize), String> {
    let hex = |digits: &[u8]| -> Option<u32> {
        digits.get(..4)?.iter().try_fold(0u32, |unit, &d| {
            Some(unit << 4 | char::from(d).to_digit(16)?)
        })
    };
    let unit = hex(after_u).ok_or("invalid \\u escape")?;
    let code = match unit {
        0xD800..=0xDBFF => {
            let low = after_u
                .get(4..6)
                .filter(|pair| *pair == b"\\u")
                .and_then(|_| hex(&after_u[6..]))
                .filter(|low| (0xDC00..=0xDFFF).contains(low))
                .ok_or("lone leading surrogate in hex escape")?;
            return char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                .map(|c| (c, 11))
                .ok_or_else(|| "invalid surrogate pair".to_owned());
        }
        0xDC00..=0xDFFF => return Err("lone trailing surrogate in hex escape".to_owned()),
        unit => unit,
    };
    char::from_u32(code)
        .map(|c| (c, 5))
        .ok_or_else(|| "invalid \\u escape".to_owned())
}

pub(super) struct ValueSeed;

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = JsonValue<'de>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<JsonValue<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed {
    type Value = JsonValue<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<JsonValue<'de>, E> {
        Ok(JsonValue::String(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<JsonValue<'de>, E> {
        Ok(JsonValue::String(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<JsonValue<'de>, E> {
        Ok(JsonValue::String(Cow::Owned(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<JsonValue<'de>, E> {
        Ok(JsonValue::Number(v.to_string()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<JsonValue<'de>, E> {
        Ok(JsonValue::Number(v.to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<JsonValue<'de>, E> {
        Ok(JsonValue::Number(v.to_string()))
    }
    fn visit_bool<E>(self, _: bool) -> Result<JsonValue<'de>, E> {
        Ok(JsonValue::Other("a boolean"))
    }
    fn visit_unit<E>(self) -> Result<JsonValue<'de>, E> {
        Ok(JsonValue::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<JsonValue<'de>, A::Error> {
        drain_seq(seq)?;
        Ok(JsonValue::Other("an array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonValue<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(JsonValue::Other("an object"))
    }
}

pub(super) fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}
