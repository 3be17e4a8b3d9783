//! Article extraction: the main text, title and publication time of a news page, so that
//! one article under two sites' templates (navigation, sidebars, footers, scripts,
//! entities) is one text to compare, not two pages that share a paragraph.
//!
//! The main text is found by dom_smoothie, a port of Mozilla's Readability.js (the
//! algorithm of Firefox's reader view) on html5ever, the HTML5 parser of Servo: the page
//! is parsed as browsers parse it (entities decoded, broken markup repaired), `<nav>`
//! elements are dropped, candidate blocks are scored by their text and link density, and
//! the best one is kept, in paragraphs. The title and time come from the page's metadata
//! (JSON-LD `headline` and `datePublished`, `og:title`, `article:published_time`, then
//! `<title>`, without a site's name beside the headline, see `without_site_name` and
//! `headline_in`; for the time also schema.org microdata and the meta names news sites
//! use, see `published_stated`, and last a date in the page's address, see
//! `date_in_url`), its address from `<link rel="canonical">` or `og:url`: the site a
//! saved page came from, whose repeated lines the story layer learns as that site's
//! boilerplate. A page the scorer finds no article in keeps the text of its `<body>`
//! without scripts and styles.

use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::doc::{parse_published, url_host};

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
        .unwrap_or_else(|| body_article(html))
}

/// [`extract_article`] of a page fetched from `address`: a page stating no time of its
/// own is dated by the address when that holds a date (`/2024/03/05/`, `/2024/mar/05/`
/// and the like in its path), and a page stating no address of its own has this one,
/// when it is an absolute http(s) address.
pub fn extract_article_from(html: &str, address: Option<&str>) -> Article {
    let mut article = extract_article(html);
    if let Some(address) = address.map(str::trim).filter(|a| !a.is_empty()) {
        if article.published.is_none() {
            article.published = date_in_url(address);
        }
        if article.url.is_none() && is_web_address(address) {
            article.url = Some(address.to_string());
        }
    }
    article
}

/// Whether `value` is an absolute http(s) address.
fn is_web_address(value: &str) -> bool {
    value.split_once("://").is_some_and(|(scheme, _)| {
        scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")
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
    let stated = published_stated(&readability.doc);
    let headings: Vec<String> = (readability.doc.select("h1").nodes().iter())
        .map(|h| h.text().split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    // A `<nav>` is navigation by definition, like the `role="navigation"` Readability
    // drops; it keeps one inside the article's container, whose text then began with a
    // breadcrumb trail (Home › Latest News › the headline: one of newspaper4k's pages,
    // text precision 0.63 → 0.70, no page lower).
    readability.doc.select("nav").remove();
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
    let title = headline_in(title, &headings);
    let published = chosen_time(
        article.published_time.into_iter().chain(stated),
        url.as_deref(),
    );
    Some(Article {
        text,
        title: non_empty(Some(title.to_string())),
        published,
        url,
    })
}

/// Meta names that state a page's publication time, beyond those Readability reads
/// (`article:published_time`, Dublin Core's `dcterms.*`, Parse.ly's), compared without
/// case: the names news sites' content systems write, as the extractors newspaper and
/// htmldate look them up.
const PUBLISHED_META_NAMES: [&str; 12] = [
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "publication_date",
    "datepublished",
    "dc.date",
    "dc.date.issued",
    "sailthru.date",
    "article.published",
    "cxenseparse:recs:publishtime",
    "date",
];

/// The publication times a page states where Readability does not look, most trusted
/// first: schema.org microdata (`itemprop="datePublished"`, on a meta or a time
/// element), the meta names of [`PUBLISHED_META_NAMES`] in their order, Parse.ly's
/// `parsely-page` description, then a `<time pubdate>` element.
fn published_stated(document: &dom_query::Document) -> Vec<String> {
    let mut stated = Vec::new();
    for node in document.select("[itemprop=\"datePublished\"]").nodes() {
        stated.extend(
            node.attr("content")
                .or_else(|| node.attr("datetime"))
                .map(|v| v.to_string()),
        );
    }
    let metas: Vec<(String, String)> = document
        .select("meta[name][content]")
        .nodes()
        .iter()
        .filter_map(|node| {
            let name = node.attr("name")?.trim().to_ascii_lowercase();
            Some((name, node.attr("content")?.to_string()))
        })
        .collect();
    for wanted in PUBLISHED_META_NAMES {
        stated.extend(
            metas
                .iter()
                .filter(|(name, _)| name == wanted)
                .map(|(_, v)| v.clone()),
        );
    }
    // Parse.ly's page description, a JSON object.
    for (_, json) in metas.iter().filter(|(name, _)| name == "parsely-page") {
        if let Ok(serde_json::Value::Object(page)) = serde_json::from_str(json) {
            stated.extend(
                page.get("pub_date")
                    .and_then(|v| v.as_str())
                    .map(str::to_string),
            );
        }
    }
    for node in document.select("time[pubdate][datetime]").nodes() {
        stated.extend(node.attr("datetime").map(|v| v.to_string()));
    }
    stated
}

/// The first of the times a page states that [`parse_published`] reads, else the date in
/// its address ([`date_in_url`]), else the first it states as it is (which the readers
/// then report as unreadable); None when it states none.
fn chosen_time(stated: impl Iterator<Item = String>, url: Option<&str>) -> Option<String> {
    let stated: Vec<String> = stated
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    stated
        .iter()
        .find(|t| parse_published(t).is_ok())
        .cloned()
        .or_else(|| url.and_then(date_in_url))
        .or_else(|| stated.into_iter().next())
}

/// The date a news address gives in its path, as many sites file their articles:
/// `/2013/11/27/`, `/news/2024/3/5/slug`, `/2024/mar/05/`, `/2023-11/17/`,
/// `/2013-11-27-slug`: the first year (1990-2100), month (a number or an English
/// month's first three letters) and day that follow one another as the path's parts
/// (split at `/`, `-`, `_` and `.`) and make a calendar date, as `YYYY-MM-DD` (midnight
/// UTC, for a day's precision is all the address gives).
fn date_in_url(url: &str) -> Option<String> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let path = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = path.split(['?', '#']).next().unwrap_or_default();
    // The host is no part of the date: the path starts at its first slash.
    let path = path.find('/').map_or("", |slash| &path[slash..]);
    let segments: Vec<&str> = path.split(['/', '-', '_', '.']).collect();
    let number = |s: &str, digits: std::ops::RangeInclusive<usize>| -> Option<i16> {
        (digits.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    segments.windows(3).find_map(|w| {
        let year = number(w[0], 4..=4).filter(|y| (1990..=2100).contains(y))?;
        let month = number(w[1], 1..=2).or_else(|| {
            let lower = w[1].to_ascii_lowercase();
            MONTHS
                .iter()
                .position(|m| *m == lower)
                .map(|m| m as i16 + 1)
        })?;
        let day = number(w[2], 1..=2)?;
        let date = jiff::civil::Date::new(year, i8::try_from(month).ok()?, i8::try_from(day).ok()?)
            .ok()?;
        Some(date.to_string())
    })
}

/// What sites put between a headline and their own name.
const SITE_SEPARATORS: [&str; 9] = [
    " | ", " -- ", " - ", " – ", " — ", " :: ", " » ", " « ", " · ",
];

/// Separators of a breadcrumb trail after a headline ("Headline » Section » Site").
const TRAIL_SEPARATORS: [&str; 3] = [" » ", " › ", " > "];

/// `title` without the name of its site where the page adds it before or after the
/// headline ("Headline | Site", "Site - Headline"), as many sites do in `og:title`,
/// which Readability takes as it is: every page of the site would share the name's
/// words, counted twice as title terms, and a site's articles would resemble each other
/// by it. The name is the page's `og:site_name` (or JSON-LD publisher), or its address's
/// main label ("hespress" of www.hespress.com), compared without case, spaces or
/// punctuation. A title that is nothing but the name is kept. A breadcrumb trail after
/// the headline ("Headline » Local » News » Site") goes whole, site named or not: the
/// headline is then the first part, when it has at least three words and is longer than
/// every part after it.
fn without_site_name<'a>(title: &'a str, site: Option<&str>, url: Option<&str>) -> &'a str {
    for separator in TRAIL_SEPARATORS {
        let parts: Vec<&str> = title.split(separator).map(str::trim).collect();
        if let [headline, rest @ ..] = parts.as_slice() {
            let trail = rest.len() >= 2
                && headline.split_whitespace().count() >= 3
                && rest.iter().all(|part| part.len() < headline.len());
            if trail {
                return headline;
            }
        }
    }
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

/// What may stand between a headline and what a page's title adds to it, spaced or not
/// ("标题-新华网", "Headline|Site"). Not the colon: a title with more before its colon
/// than the heading has is a kicker naming who spoke ("Obama: I will veto the bill"),
/// whose names count.
const TITLE_SEPARATORS: [char; 9] = ['|', '-', '–', '—', '·', '_', '/', '»', '«'];

/// The page's main heading (one of its `h1` texts, `headings`) where `title` is that
/// heading with something added before or after it behind a separator, the heading
/// being the longer part: "短缺药品保供稳价 全力保障临床用药需求-新华网" under the
/// heading "短缺药品保供稳价 全力保障临床用药需求". Pages whose site is named nowhere
/// (no `og:site_name`, no address) still add its name to the title, often without the
/// spaces [`SITE_SEPARATORS`] need, and the heading shows where the headline ends.
/// Otherwise `title` as it is.
fn headline_in<'a>(title: &'a str, headings: &'a [String]) -> &'a str {
    let is_separator = |c: char| TITLE_SEPARATORS.contains(&c);
    for heading in headings.iter().filter(|h| !h.is_empty() && *h != title) {
        let before = (title.strip_suffix(heading.as_str()))
            .filter(|added| added.trim_end().ends_with(is_separator));
        let after = (title.strip_prefix(heading.as_str()))
            .filter(|added| added.trim_start().starts_with(is_separator));
        for added in before.into_iter().chain(after) {
            let length = (added.trim_matches(|c: char| is_separator(c) || c.is_whitespace()))
                .chars()
                .count();
            if length > 0 && length < heading.chars().count() {
                return heading;
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
        is_web_address(value).then(|| value.to_string())
    })
}

/// A page without an article the scorer recognises: the text of its body without
/// scripts, styles and templates, and the address and time it states.
fn body_article(html: &str) -> Article {
    catch_unwind(AssertUnwindSafe(|| {
        let document = dom_query::Document::from(html);
        let url = page_url(&document);
        let published = chosen_time(published_stated(&document).into_iter(), url.as_deref());
        document
            .select("script, style, noscript, template")
            .remove();
        Article {
            text: tidy(&document.select("body").text()),
            title: None,
            published,
            url,
        }
    }))
    .unwrap_or_default()
}

/// Lines trimmed (of white space and byte-order marks, which pages leave inside their
/// text), each line of four words or more kept once (a line a page repeats verbatim is a
/// gallery's caption or a carousel's title, shown once per slide: CNN's "Weather
/// threatens holiday plans" fourteen times), and runs of blank lines cut to one.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = false;
    let mut seen: HashSet<&str> = HashSet::new();
    for line in text
        .lines()
        .map(|line| line.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}'))
    {
        if line.is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if line.split_whitespace().nth(3).is_some() && !seen.insert(line) {
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
    fn the_pages_heading_marks_where_an_unspaced_title_addition_begins() {
        let headings = |h: &[&str]| h.iter().map(|h| h.to_string()).collect::<Vec<_>>();
        let page = headings(&["短缺药品保供稳价 全力保障临床用药需求"]);
        assert_eq!(
            headline_in("短缺药品保供稳价 全力保障临床用药需求-新华网", &page),
            "短缺药品保供稳价 全力保障临床用药需求"
        );
        let page = headings(&["Markets", "Talks in Moscow resume on Monday"]);
        assert_eq!(
            headline_in("BBC News|Talks in Moscow resume on Monday", &page),
            "Talks in Moscow resume on Monday"
        );
        // A heading that is the shorter part (a section's), one without a separator
        // after it, a title without the heading, a kicker: the title stays.
        let page = headings(&["Syria"]);
        assert_eq!(
            headline_in("Syria - Russia talks resume", &page),
            "Syria - Russia talks resume"
        );
        let page = headings(&["Talks in Moscow"]);
        assert_eq!(
            headline_in("Talks in Moscow resume", &page),
            "Talks in Moscow resume"
        );
        assert_eq!(headline_in("Other news - Site", &page), "Other news - Site");
        let page = headings(&["I will veto the bill"]);
        assert_eq!(
            headline_in("Obama: I will veto the bill", &page),
            "Obama: I will veto the bill"
        );
        assert_eq!(
            headline_in("Talks in Moscow", &headings(&[""])),
            "Talks in Moscow"
        );
        // A page: its heading is read before Readability prunes the document.
        let page = dated_page(
            "<title>Harbour strike enters third day-Port News</title>",
            "<h1>Harbour strike enters third day</h1>",
        );
        assert_eq!(
            extract_article(&page).title.as_deref(),
            Some("Harbour strike enters third day")
        );
    }

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
            without_site_name(
                "Court files expose a spy operation -- Sott.net",
                Some("Sott.net"),
                None
            ),
            "Court files expose a spy operation"
        );
        // A breadcrumb trail goes whole, the site unnamed; one step is not a trail.
        assert_eq!(
            without_site_name(
                "Anticorrupción decidirá en Madrid » Local » Noticias » Ultima Hora",
                None,
                None
            ),
            "Anticorrupción decidirá en Madrid"
        );
        assert_eq!(
            without_site_name("Prices » Wages", None, None),
            "Prices » Wages"
        );
        assert_eq!(
            without_site_name(
                "Why the 2 > 1 rule holds in chess » Games » Site",
                None,
                None
            ),
            "Why the 2 > 1 rule holds in chess"
        );
        assert_eq!(
            without_site_name("Why 2 > 1 holds > in chess", None, None),
            "Why 2 > 1 holds > in chess"
        );
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
        assert_eq!(tidy("a\n\u{feff}\nb"), "a\n\nb");
        // A repeated line of four words or more is kept once; a short one stays.
        let gallery = "Weather threatens holiday plans\n\nWeather threatens holiday plans\n\
                       Next\nNext\n\nRain and snow slowed travel on Wednesday.";
        assert_eq!(
            tidy(gallery),
            "Weather threatens holiday plans\n\nNext\nNext\n\nRain and snow slowed travel on Wednesday."
        );
    }

    /// A page of four paragraphs whose head is `head`, and whose article starts with
    /// `lead`.
    fn dated_page(head: &str, lead: &str) -> String {
        let body = "<p>The harbour strike entered its third day on Tuesday as dockers \
                    rejected the latest offer from the port authority.</p>"
            .repeat(4);
        format!("<html><head>{head}</head><body><article>{lead}{body}</article></body></html>")
    }

    #[test]
    fn navigation_beside_the_article_is_left_out() {
        let trail = "<nav id=\"breadcrumb\"><a href=\"/\">Home</a> › \
                     <a href=\"/latest\">Latest News</a> › <span>Harbour strike</span></nav>";
        let text = extract_article(&dated_page("", trail)).text;
        assert!(text.starts_with("The harbour strike entered"), "{text}");
        assert!(!text.contains("Latest News"), "{text}");
    }

    #[test]
    fn the_publication_time_is_read_where_news_sites_state_it() {
        let time = |head: &str, lead: &str| extract_article(&dated_page(head, lead)).published;
        let og = r#"<meta property="article:published_time" content="2024-03-05T10:00:00Z">"#;
        let microdata = r#"<meta itemprop="datePublished" content="2024-03-04T09:00:00Z">"#;
        let pubdate = r#"<meta name="PubDate" content="2024-03-03">"#;
        let generic = r#"<meta name="date" content="2024-03-02">"#;
        let parsely = r#"<meta name="parsely-page" content='{"title": "x", "pub_date": "2024-03-01T08:00:00Z"}'>"#;
        // Readability's own sources first, then microdata, then the meta names in order.
        assert_eq!(
            time(&format!("{generic}{pubdate}{microdata}{og}"), "").as_deref(),
            Some("2024-03-05T10:00:00Z")
        );
        assert_eq!(
            time(&format!("{generic}{pubdate}{microdata}"), "").as_deref(),
            Some("2024-03-04T09:00:00Z")
        );
        assert_eq!(
            time(&format!("{generic}{pubdate}"), "").as_deref(),
            Some("2024-03-03")
        );
        assert_eq!(time(generic, "").as_deref(), Some("2024-03-02"));
        assert_eq!(time(parsely, "").as_deref(), Some("2024-03-01T08:00:00Z"));
        assert_eq!(
            time("", r#"<time itemprop="datePublished" datetime="2024-02-28T07:00:00+01:00">28 Feb</time>"#).as_deref(),
            Some("2024-02-28T07:00:00+01:00")
        );
        assert_eq!(
            time("", r#"<time pubdate datetime="2024-02-27">27 Feb</time>"#).as_deref(),
            Some("2024-02-27")
        );
        // An unreadable time gives way to a readable one stated elsewhere, then to the
        // date in the page's address; alone, it is kept for the readers to report.
        let unreadable = r#"<meta property="article:published_time" content="last Tuesday">"#;
        assert_eq!(
            time(&format!("{unreadable}{pubdate}"), "").as_deref(),
            Some("2024-03-03")
        );
        let canonical = r#"<link rel="canonical" href="https://example.com/news/2024/3/6/strike">"#;
        assert_eq!(
            time(&format!("{unreadable}{canonical}"), "").as_deref(),
            Some("2024-03-06")
        );
        assert_eq!(time(unreadable, "").as_deref(), Some("last Tuesday"));
        assert_eq!(time("", ""), None);
        // A page without an article still gives its time and address.
        let bare =
            format!("<html><head>{pubdate}{canonical}</head><body><span>Note</span></body></html>");
        let article = extract_article(&bare);
        assert_eq!(
            (article.text.as_str(), article.published.as_deref()),
            ("Note", Some("2024-03-03"))
        );
    }

    #[test]
    fn a_news_address_dates_its_article() {
        for (url, date) in [
            (
                "http://www.cnn.com/2013/11/27/travel/weather/index.html",
                Some("2013-11-27"),
            ),
            (
                "https://www.aljazeera.com/news/2024/3/5/talks-in-moscow",
                Some("2024-03-05"),
            ),
            (
                "https://www.theguardian.com/world/2024/mar/05/strike",
                Some("2024-03-05"),
            ),
            (
                "http://www.news.cn/fortune/2023-11/17/c_1129981476.htm",
                Some("2023-11-17"),
            ),
            (
                "https://example.com/2013-11-27-harbour-strike",
                Some("2013-11-27"),
            ),
            ("https://example.com/2024/02/30/no-such-day", None),
            ("https://example.com/article/434715-court-files", None),
            ("https://example.com/1887/03/05/too-early", None),
            // A host's labels are no date, nor is a query.
            ("https://2024.11.05.example.com/x", None),
            ("https://example.com/x?d=2024/11/05", None),
        ] {
            assert_eq!(date_in_url(url).as_deref(), date, "{url}");
        }
    }
}
