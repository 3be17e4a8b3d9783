//! Article extraction: the main text, title and publication time of a news page, so that
//! one article under two sites' templates (navigation, sidebars, footers, scripts,
//! entities) is one text to compare, not two pages that share a paragraph.
//!
//! The main text is found by dom_smoothie, a port of Mozilla's Readability.js (the
//! algorithm of Firefox's reader view) on html5ever, the HTML5 parser of Servo: the page
//! is parsed as browsers parse it (entities decoded, broken markup repaired), candidate
//! blocks are scored by their text and link density, and the best one is kept, in
//! paragraphs. The title and time come from the page's metadata (JSON-LD `headline` and
//! `datePublished`, `og:title`, `article:published_time`, then `<title>`), its address
//! from `<link rel="canonical">` or `og:url`: the site a saved page came from, whose
//! repeated lines the story layer learns as that site's boilerplate. A page the scorer
//! finds no article in keeps the text of its `<body>` without scripts and styles.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::doc::url_host;

/// What extraction finds in a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Article {
    /// The main text, paragraphs separated by blank lines; empty when the page has none.
    pub text: String,
    /// The headline from the page's metadata, when it has one.
    pub title: Option<String>,
    /// The publication time as the page writes it, when it has one.
    pub published: Option<String>,
    /// The page's own absolute http(s) address (canonical link, else `og:url`), when it
    /// gives one.
    pub url: Option<String>,
}

/// Whether a record's text is an HTML page or fragment rather than text: it starts
/// (after white space and a byte-order mark) with a tag, a doctype or a comment, and
/// closes at least one element. Text that merely mentions `<` does not qualify.
pub fn looks_like_html(text: &str) -> bool {
    let start = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    let Some(rest) = start.strip_prefix('<') else {
        return false;
    };
    let opens_markup = rest
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '!');
    opens_markup && start.contains("</")
}

/// Extracts the article of `html`. Never fails: a page without a recognisable article
/// gives its body's text, and one without text gives an empty text (which readers of
/// documents report as an empty document).
pub fn extract_article(html: &str) -> Article {
    // The parser and scorer take any input, but a panic in either on a page nobody
    // foresaw must cost that page its structure, not the run.
    catch_unwind(AssertUnwindSafe(|| readable(html)))
        .ok()
        .flatten()
        .unwrap_or_else(|| Article {
            text: body_text(html),
            ..Article::default()
        })
}

fn non_empty(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The Readability result, or None when the scorer finds no article.
fn readable(html: &str) -> Option<Article> {
    let config = dom_smoothie::Config {
        text_mode: dom_smoothie::TextMode::Formatted,
        ..dom_smoothie::Config::default()
    };
    let mut readability = dom_smoothie::Readability::new(html, None, Some(config)).ok()?;
    // Read before parsing, which prunes the document.
    let url = page_url(&readability.doc);
    let article = readability.parse().ok()?;
    let text = tidy(&article.text_content);
    if text.is_empty() {
        return None;
    }
    let title = without_site_name(
        article.title.trim(),
        article.site_name.as_deref(),
        url.as_deref(),
    );
    Some(Article {
        text,
        title: non_empty(Some(title.to_string())),
        published: non_empty(article.published_time),
        url,
    })
}

/// What sites put between a headline and their own name.
const SITE_SEPARATORS: [&str; 8] = [" | ", " - ", " – ", " — ", " :: ", " » ", " « ", " · "];

/// `title` without the name of its site where the page adds it before or after the
/// headline ("Headline | Site", "Site - Headline"), as many sites do in `og:title`,
/// which Readability takes as it is: every page of the site would share the name's
/// words, counted twice as title terms, and a site's articles would resemble each other
/// by it. The name is the page's `og:site_name` (or JSON-LD publisher), or its address's
/// main label ("hespress" of www.hespress.com), compared without case, spaces or
/// punctuation. A title that is nothing but the name is kept.
fn without_site_name<'a>(title: &'a str, site: Option<&str>, url: Option<&str>) -> &'a str {
    let key = |text: &str| -> String {
        text.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let mut names: Vec<String> = Vec::new();
    if let Some(site) = site.map(key).filter(|k| !k.is_empty()) {
        names.push(site);
    }
    if let Some(label) = url.and_then(main_label).map(key).filter(|k| !k.is_empty()) {
        names.push(label);
    }
    let is_name = |part: &str| names.contains(&key(part));
    for separator in SITE_SEPARATORS {
        if let Some((headline, last)) = title.rsplit_once(separator) {
            if is_name(last) && !headline.trim().is_empty() {
                return headline.trim();
            }
        }
        if let Some((first, headline)) = title.split_once(separator) {
            if is_name(first) && !headline.trim().is_empty() {
                return headline.trim();
            }
        }
    }
    title
}

/// The main label of an address's host: "hespress" of `https://www.hespress.com/x`,
/// "aljazeera" of `aljazeera.net` (the label before the last, or before a two-letter
/// country code's second level, as in `bbc.co.uk`).
fn main_label(url: &str) -> Option<&str> {
    let host = url_host(url).split(':').next()?;
    let labels: Vec<&str> = host.split('.').filter(|l| !l.is_empty()).collect();
    match labels.as_slice() {
        [.., label, second, country]
            if country.len() == 2 && ["co", "com", "org", "net", "gov", "ac"].contains(second) =>
        {
            Some(label)
        }
        [.., label, _] => Some(label),
        _ => None,
    }
}

/// The page's address as it states it: the canonical link, else `og:url`; only an
/// absolute http(s) address, since a relative one names no site.
fn page_url(document: &dom_query::Document) -> Option<String> {
    let stated = [
        ("link[rel~=\"canonical\"][href]", "href"),
        ("meta[property=\"og:url\"][content]", "content"),
    ];
    stated.iter().find_map(|(selector, attribute)| {
        let value = document.select(selector).attr(attribute)?;
        let value = value.trim();
        let scheme = value.split_once("://")?.0;
        (scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"))
            .then(|| value.to_string())
    })
}

/// The text of the page's body without scripts, styles and templates.
fn body_text(html: &str) -> String {
    catch_unwind(AssertUnwindSafe(|| {
        let document = dom_query::Document::from(html);
        document
            .select("script, style, noscript, template")
            .remove();
        tidy(&document.select("body").text())
    }))
    .unwrap_or_default()
}

/// Lines trimmed and runs of blank lines cut to one.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = false;
    for line in text.lines().map(str::trim) {
        if line.is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if blank {
            out.push_str("\n\n");
        } else if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(line);
        blank = false;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_recognised_and_text_with_angle_brackets_is_not() {
        assert!(looks_like_html(
            "<!DOCTYPE html><html><body><p>x</p></body></html>"
        ));
        assert!(looks_like_html("  \n<div><p>A paragraph.</p></div>"));
        assert!(!looks_like_html("a < b and c > d"));
        assert!(!looks_like_html("<3 this story"));
        assert!(!looks_like_html("<b>unclosed bold"));
    }

    #[test]
    fn a_sites_name_beside_the_headline_is_left_out_of_the_title() {
        let site = Some("Al Jazeera");
        let url = Some("https://www.hespress.com/politique/123.html");
        assert_eq!(
            without_site_name("Talks in Moscow | Al Jazeera", site, None),
            "Talks in Moscow"
        );
        assert_eq!(
            without_site_name("AL-JAZEERA - Talks in Moscow", site, None),
            "Talks in Moscow"
        );
        assert_eq!(
            without_site_name("Talks in Moscow - Hespress", None, url),
            "Talks in Moscow"
        );
        assert_eq!(
            without_site_name(
                "وزير الخارجية يصل إلى موسكو | الجزيرة نت",
                Some("الجزيرة نت"),
                None
            ),
            "وزير الخارجية يصل إلى موسكو"
        );
        // A separator inside the headline, a name alone, an unknown site: kept.
        assert_eq!(
            without_site_name("Syria - Russia talks resume", site, url),
            "Syria - Russia talks resume"
        );
        assert_eq!(without_site_name("Al Jazeera", site, None), "Al Jazeera");
        assert_eq!(
            without_site_name("Talks | Reuters", None, None),
            "Talks | Reuters"
        );
        assert_eq!(main_label("https://news.bbc.co.uk/a"), Some("bbc"));
        assert_eq!(
            main_label("http://user@aljazeera.net:8080/x"),
            Some("aljazeera")
        );
        assert_eq!(main_label("https://localhost/x"), None);
    }

    #[test]
    fn a_page_without_an_article_keeps_its_body_text_without_scripts() {
        let page = "<html><body><script>var x = 1;</script><span>Short note &amp; more</span></body></html>";
        let article = extract_article(page);
        assert_eq!(article.text, "Short note & more");
    }

    #[test]
    fn a_page_states_its_address_by_canonical_link_or_og_url() {
        let page = |head: &str| {
            let body = "<p>The harbour strike entered its third day on Tuesday as dockers \
                        rejected the latest offer from the port authority.</p>"
                .repeat(4);
            format!("<html><head>{head}</head><body><article>{body}</article></body></html>")
        };
        let canonical = r#"<link rel="canonical" href="https://www.example.com/a/1">"#;
        let og = r#"<meta property="og:url" content="http://news.example.org/b">"#;
        let url = |head: &str| extract_article(&page(head)).url;
        assert_eq!(
            url(&format!("{og}{canonical}")).as_deref(),
            Some("https://www.example.com/a/1")
        );
        assert_eq!(url(og).as_deref(), Some("http://news.example.org/b"));
        // A relative address names no site; neither does another scheme.
        assert_eq!(url(r#"<link rel="canonical" href="/a/1">"#), None);
        assert_eq!(
            url(r#"<meta property="og:url" content="ftp://example.com/a">"#),
            None
        );
        assert_eq!(url(""), None);
    }

    #[test]
    fn text_is_tidied_into_paragraphs() {
        assert_eq!(tidy("  a \n\n\n  b\nc\n\n"), "a\n\nb\nc");
    }
}
