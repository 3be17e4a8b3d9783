//! The document model: what a reader produces and every later stage refers to by index.

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
