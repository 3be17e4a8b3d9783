//! The document model: what a reader produces and every later stage refers to by index.

use std::borrow::Cow;

use serde::Serialize;

use crate::error::Location;

/// Dense index of a document within one run: its position in input order.
pub type DocIndex = u32;

/// One article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Document {
    /// The caller's identifier (unique within a run).
    pub id: String,
    /// The article body.
    pub text: String,
    /// Headline, if the input had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Source URL, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Publication time as given in the input (not parsed here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// Where the document was read from.
    #[serde(skip)]
    pub location: Location,
}

impl Document {
    /// A document with only an id and a text (location `<memory>`).
    pub fn new(id: impl Into<String>, text: impl Into<String>) -> Self {
        Document {
            id: id.into(),
            text: text.into(),
            title: None,
            url: None,
            published: None,
            location: Location::new("<memory>", 1),
        }
    }

    /// The headline, or else the first non-blank line of the text, for reports.
    pub fn headline(&self) -> &str {
        self.title
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .or_else(|| self.text.lines().find(|l| !l.trim().is_empty()))
            .map(str::trim)
            .unwrap_or("")
    }
}

/// The host of an address as written, port included (lowercase it to compare): what
/// lies between the scheme's `://` and the path, less any user info; for text without a
/// scheme, what comes before its first `/`, `?` or `#`.
pub(crate) fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    host.rsplit_once('@').map_or(host, |(_, h)| h)
}

/// Input text as a text report may print it on a terminal: control characters (escape
/// sequences could clear the screen, recolour or retitle it, or hide what follows) are
/// shown escaped, `\u{1b}`, except a tab, which becomes a space. Everything else,
/// including right-to-left text and its marks, is left as it is. JSON output needs none
/// of this: serde_json escapes control characters itself.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\t' => shown.push(' '),
            c if c.is_control() => shown.extend(c.escape_unicode()),
            c => shown.push(c),
        }
    }
    Cow::Owned(shown)
}

/// A publication time in Unix seconds as RFC 3339 in UTC (`2025-03-01T12:30:00Z`), the
/// form reports give times in; None outside the years -9999 to 9999.
pub fn published_text(seconds: i64) -> Option<String> {
    jiff::Timestamp::from_second(seconds)
        .ok()
        .map(|t| t.to_string())
}

/// Parses a publication time into Unix seconds (UTC), or says why it cannot.
///
/// Accepted, by [jiff](https://docs.rs/jiff)'s parsers (which check the calendar:
/// `2025-02-31` is refused, never read as March 3):
/// - integer Unix seconds, or milliseconds when larger than 10^11;
/// - RFC 3339 / ISO 8601 with an offset: `2025-03-01T12:30:00Z`,
///   `2025-03-01T14:30:00.123+02:00`, `2025-03-01T07:30:00-0500`;
/// - ISO 8601 without an offset, read as UTC: `2025-03-01`, `2025-03-01 12:30`,
///   `2025-03-01T12:30:00`;
/// - ISO 8601's basic format, as some pages' metadata writes it: `20250301T213000+0900`;
/// - ISO 8601 ending in a time zone's abbreviation instead of an offset, for the
///   abbreviations that name one offset only (`ZONE_ABBREVIATIONS`):
///   `2025-03-01T14:30:00EET` (an ambiguous one, such as `CST` or `IST`, is refused);
/// - RFC 2822, the form of RSS feeds and mail: `Mon, 03 Mar 2025 12:30:00 GMT`,
///   `3 Mar 2025 12:30 +0200` (a weekday that contradicts the date is refused).
pub fn parse_published(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(n) = text.parse::<i64>() {
        return Ok(if n.abs() > 100_000_000_000 {
            n / 1000
        } else {
            n
        });
    }
    let bytes = text.as_bytes();
    let extended = text.len() >= 10 && bytes[4] == b'-';
    let basic = bytes.len() >= 9 && bytes[..8].iter().all(u8::is_ascii_digit) && bytes[8] == b'T';
    if let Some(seconds) = with_zone_abbreviation(text) {
        return Ok(seconds);
    }
    let parsed = if extended || basic {
        match text.parse::<jiff::Timestamp>() {
            Ok(t) => Ok(t),
            // No offset: the civil time is taken as UTC.
            Err(with_offset) => text
                .parse::<jiff::civil::DateTime>()
                .and_then(|civil| jiff::tz::Offset::UTC.to_timestamp(civil))
                .map_err(|without| {
                    // The message of the parse that got further is the useful one.
                    if text.contains(['Z', 'z', '+'])
                        || text.get(10..).is_some_and(|time| time.contains('-'))
                    {
                        with_offset
                    } else {
                        without
                    }
                }),
        }
    } else {
        jiff::fmt::rfc2822::DateTimeParser::new().parse_timestamp(text)
    };
    parsed
        .map(|t| t.as_second())
        .map_err(|e| format!("unreadable date {text:?}: {e}"))
}

/// Time zone abbreviations that name one UTC offset (minutes), as pages write them after
/// an ISO 8601 time. Abbreviations shared by several zones (`CST`: US Central or China;
/// `IST`: India, Ireland or Israel; `AST`, `BST`) are left out: guessing could misplace a
/// time by half a day.
const ZONE_ABBREVIATIONS: [(&str, i32); 20] = [
    ("UTC", 0),
    ("GMT", 0),
    ("WET", 0),
    ("WEST", 60),
    ("CET", 60),
    ("CEST", 120),
    ("EET", 120),
    ("EEST", 180),
    ("MSK", 180),
    ("EST", -300),
    ("EDT", -240),
    ("CDT", -300),
    ("MST", -420),
    ("MDT", -360),
    ("PST", -480),
    ("PDT", -420),
    ("JST", 540),
    ("KST", 540),
    ("AEST", 600),
    ("AEDT", 660),
];

/// An ISO 8601 date and time followed by a zone abbreviation of [`ZONE_ABBREVIATIONS`]
/// (`2025-03-01T14:30:00EET`, or with a space before it), in Unix seconds.
fn with_zone_abbreviation(text: &str) -> Option<i64> {
    let letters = text.len()
        - text
            .trim_end_matches(|c: char| c.is_ascii_uppercase())
            .len();
    if letters < 3 {
        return None;
    }
    let (civil, zone) = text.split_at(text.len() - letters);
    let &(_, minutes) = ZONE_ABBREVIATIONS.iter().find(|(name, _)| *name == zone)?;
    let civil: jiff::civil::DateTime = civil.trim_end().parse().ok()?;
    let offset = jiff::tz::Offset::from_seconds(minutes * 60).ok()?;
    offset.to_timestamp(civil).ok().map(|t| t.as_second())
}

impl Document {
    /// The publication time in Unix seconds, when it is given and readable
    /// ([`parse_published`]); the readers warn about an unreadable one and drop it, so
    /// that every path treats the document alike.
    pub fn published_time(&self) -> Option<i64> {
        self.published
            .as_deref()
            .and_then(|t| parse_published(t).ok())
    }
}

/// The longest time window accepted: a century, longer than any feed's history, and far
/// from the overflow of seconds in an `i64` when added to a time.
pub const MAX_WINDOW_SECONDS: i64 = 100 * 366 * 86_400;

/// A time window written with its unit: `7d`, `36h`, `90m` or `600s`, in seconds. A bare
/// number is refused, as `--window 7` could mean days or seconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let Some(unit) = s.chars().last().filter(char::is_ascii_alphabetic) else {
        return Err(format!(
            "expected a duration with its unit, such as 7d, 36h, 90m or 600s, got {s:?}"
        ));
    };
    let number = &s[..s.len() - unit.len_utf8()];
    let scale = match unit {
        'd' => 86_400,
        'h' => 3_600,
        'm' => 60,
        's' => 1,
        _ => return Err(format!("unknown duration unit {unit:?} (use d, h, m or s)")),
    };
    let n: i64 = number
        .parse()
        .map_err(|_| format!("expected a duration such as 7d, 36h, 90m or 600s, got {s:?}"))?;
    if n < 0 {
        return Err("a window cannot be negative".into());
    }
    n.checked_mul(scale)
        .filter(|&seconds| seconds <= MAX_WINDOW_SECONDS)
        .ok_or_else(|| format!("a window can be at most 100 years, got {s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_times_parse_to_unix_seconds() {
        let at = 1_740_832_200; // 2025-03-01T12:30:00Z
        for (text, expected) in [
            ("1970-01-01", 0),
            ("2025-03-01T12:30:00Z", at),
            ("2025-03-01 12:30", at),
            ("2025-03-01T12:30:00", at),
            ("2025-03-01T14:30:00.123+02:00", at),
            ("2025-03-01T07:30:00-0500", at),
            ("1740832200", at),
            ("1740832200000", at),
            ("2000-02-29", 951_782_400),
            ("Sat, 01 Mar 2025 12:30:00 GMT", at),
            ("Sat, 1 Mar 2025 14:30:00 +0200", at),
            ("1 Mar 2025 07:30 EST", at),
            ("20250301T213000+0900", at),
            ("20250301T123000Z", at),
            ("2025-03-01T14:30:00EET", at),
            ("2025-03-01 07:30:00 EST", at),
            ("2025-03-01T12:30:00 UTC", at),
        ] {
            assert_eq!(parse_published(text), Ok(expected), "{text:?}");
        }
    }

    #[test]
    fn malformed_times_are_none() {
        for bad in [
            "",
            "yesterday",
            "2025-13-01",
            "2025-03-01T25:00",
            "2025/03/01",
            "2025-03-01Tnoon",
            "2025-02-31",
            "2025-02-29",
            "Mon, 01 Mar 2025 12:30:00 GMT",
            "Sat, 31 Feb 2025 12:30:00 GMT",
            "2025-03-01T12:30:00CST",
            "2025-03-01T12:30:00XYZ",
            "20250301T",
            "2025-02-30T12:30:00EET",
        ] {
            let err = parse_published(bad).expect_err(bad);
            assert!(err.contains(&format!("{:?}", bad.trim())), "{err}");
        }
    }

    #[test]
    fn printable_escapes_control_characters_only() {
        assert!(matches!(printable("plain, عربي‏ text"), Cow::Borrowed(_)));
        assert_eq!(
            printable("a\u{1b}[2Jb\tc\u{0}d\u{9b}e\u{7f}"),
            "a\\u{1b}[2Jb c\\u{0}d\\u{9b}e\\u{7f}"
        );
    }

    #[test]
    fn headline_prefers_title_then_first_line() {
        let mut doc = Document::new("x", "\n  first line \nsecond");
        assert_eq!(doc.headline(), "first line");
        doc.title = Some("Title".into());
        assert_eq!(doc.headline(), "Title");
    }

    #[test]
    fn windows_need_a_unit_and_stay_in_range() {
        assert_eq!(parse_duration("7d"), Ok(7 * 86_400));
        assert_eq!(parse_duration("36h"), Ok(36 * 3_600));
        assert_eq!(parse_duration("90m"), Ok(5_400));
        assert_eq!(parse_duration("600s"), Ok(600));
        for bad in [
            "7",
            "",
            "d",
            "-1d",
            "7x",
            "7é",
            "36500000d",
            "9223372036854775807s",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }
}
