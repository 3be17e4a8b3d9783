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

/// Parses a publication time into Unix seconds (UTC). Accepts integer Unix seconds (or
/// milliseconds, when larger than 10^11), and ISO 8601 / RFC 3339 dates:
/// `YYYY-MM-DD`, optionally followed by `T` or a space, `HH:MM`, `:SS`, a fraction, and
/// `Z` or an offset `±HH:MM` / `±HHMM` (no offset: UTC). Anything else is None.
pub fn parse_published(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(n) = text.parse::<i64>() {
        return Some(if n.abs() > 100_000_000_000 {
            n / 1000
        } else {
            n
        });
    }
    let bytes = text.as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if bytes.len() < 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut seconds = days_from_civil(year, month, day) * 86_400;
    let rest = &text[10..];
    if rest.is_empty() {
        return Some(seconds);
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let time = rest.as_bytes();
    if time.len() < 5 || time[2] != b':' {
        return None;
    }
    let field = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = rest.get(r)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (hour, minute) = (field(0..2)?, field(3..5)?);
    let mut pos = 5;
    let mut second = 0;
    if time.get(5) == Some(&b':') {
        second = field(6..8)?;
        pos = 8;
        if time.get(8) == Some(&b'.') {
            pos = 9;
            while time.get(pos).is_some_and(u8::is_ascii_digit) {
                pos += 1;
            }
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    seconds += hour * 3600 + minute * 60 + second;
    let zone = &rest[pos..];
    let offset = match zone {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match zone.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits: String = zone[1..].chars().filter(|&c| c != ':').collect();
            if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let h: i64 = digits[..2].parse().ok()?;
            let m: i64 = digits[2..].parse().ok()?;
            sign * (h * 3600 + m * 60)
        }
    };
    Some(seconds - offset)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_times_parse_to_unix_seconds() {
        assert_eq!(parse_published("1970-01-01"), Some(0));
        assert_eq!(parse_published("2025-03-01T12:30:00Z"), Some(1_740_832_200));
        assert_eq!(parse_published("2025-03-01 12:30"), Some(1_740_832_200));
        assert_eq!(
            parse_published("2025-03-01T14:30:00.123+02:00"),
            Some(1_740_832_200)
        );
        assert_eq!(
            parse_published("2025-03-01T07:30:00-0500"),
            Some(1_740_832_200)
        );
        assert_eq!(parse_published("1740832200"), Some(1_740_832_200));
        assert_eq!(parse_published("1740832200000"), Some(1_740_832_200));
        assert_eq!(parse_published("2000-02-29"), Some(951_782_400));
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
        ] {
            assert_eq!(parse_published(bad), None, "{bad:?}");
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
}
