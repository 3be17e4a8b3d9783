//! Web pages: one article under two sites' templates is one near-duplicate pair after
//! extraction (and is not, read as markup), with its title, time and address from the
//! page's metadata and its entities decoded; JSONL records holding pages read the same;
//! `dedup` keeps a page's extracted article with what its metadata said.

use std::path::Path;

use storyhash::dedup::{dedup, DedupOptions, DedupOutputs};
use storyhash::input::{read_sources, resolve_sources, HtmlText, ReadOptions, Source};
use storyhash::{pipeline, Document, Preset};

fn scratch(name: &str) -> crate::Scratch {
    crate::Scratch::new(&format!("html-{name}"))
}

/// The article: a seed's paragraphs, with an ampersand to be written as an entity.
fn article() -> Vec<String> {
    let seed = std::fs::read_to_string(crate::testdata().join("seeds/000_06492c2b52d2f1b0.txt"))
        .expect("seed");
    let mut paragraphs: Vec<String> = seed
        .split('.')
        .map(str::trim)
        .filter(|s| s.len() > 40)
        .map(|s| format!("{s}."))
        .collect();
    paragraphs.push("Talks covered trade & energy, the ministers said.".into());
    paragraphs
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
}

/// Site A: a news portal with a long menu, a most-read sidebar, a cookie banner,
/// scripts and a footer of links; Open Graph metadata, its name after the headline.
fn site_a(paragraphs: &[String]) -> String {
    let menu: String = (0..40)
        .map(|i| format!("<li><a href=\"/section/{i}\">Section number {i}</a></li>"))
        .collect();
    let sidebar: String = (0..12)
        .map(|i| format!("<li><a href=\"/story/{i}\">Most read headline {i} about markets and weather today</a></li>"))
        .collect();
    let body: String = paragraphs
        .iter()
        .map(|p| format!("<p>{}</p>", escape(p)))
        .collect();
    format!(
        r#"<!DOCTYPE html><html lang="ar"><head><meta charset="utf-8">
<title>Site A | News</title>
<meta property="og:title" content="Syria and Russia discuss investment | Site A">
<meta property="og:site_name" content="Site A">
<meta property="article:published_time" content="2025-03-01T10:30:00Z">
<meta property="og:url" content="https://site-a.example/2025/03/01/syria-russia">
<link rel="canonical" href="https://www.site-a.example/2025/03/01/syria-russia">
<style>body {{ font-family: serif }} .ad {{ display: none }}</style>
<script>window.analytics = {{ id: "UA-1", track: function() {{ return 1 }} }};</script>
</head><body>
<div class="cookie-banner">We use cookies to improve your experience. Accept all cookies or manage settings.</div>
<header><nav class="menu"><ul>{menu}</ul></nav></header>
<main><article class="story"><h1>Syria and Russia discuss investment</h1>
<div class="byline">By staff reporter</div>{body}</article>
<aside class="most-read"><h2>Most read</h2><ul>{sidebar}</ul></aside></main>
<footer><p>Copyright 2025 Site A Media Group. All rights reserved.</p><ul>{menu}</ul></footer>
<script>document.querySelectorAll(".ad").forEach(function(e) {{ e.remove() }});</script>
</body></html>"#
    )
}

/// Site B: another template (tables, divs, a newsletter box, related links), JSON-LD
/// metadata, the same article.
fn site_b(paragraphs: &[String]) -> String {
    let related: String = (0..15)
        .map(|i| format!("<div class=\"related\"><a href=\"/r/{i}\">Related coverage item {i}: regional politics and the economy</a></div>"))
        .collect();
    let body: String = paragraphs
        .iter()
        .map(|p| format!("<p class=\"para\">{}</p>\n", escape(p)))
        .collect();
    format!(
        r#"<html><head><title>B-News</title>
<script type="application/ld+json">{{"@context":"https://schema.org","@type":"NewsArticle",
"headline":"Syria and Russia discuss investment","datePublished":"2025-03-01T12:30:00+02:00"}}</script>
<link rel="stylesheet" href="/b.css"></head>
<body><table class="layout"><tr><td class="left">
<div class="newsletter">Subscribe to our newsletter for the latest headlines every morning.</div>
{related}</td><td class="main"><div id="content"><div class="article-body">{body}</div></div>
</td></tr></table><div class="footer">B-News &copy; 2025 · Terms · Privacy · Contact · Advertise</div>
</body></html>"#
    )
}

fn read(paths: &[&Path], options: &ReadOptions) -> Vec<Document> {
    let sources: Vec<Source> = paths
        .iter()
        .map(|p| Source::Path(p.to_path_buf()))
        .collect();
    let read = read_sources(&sources, options).expect("read");
    assert!(read.warnings.is_empty(), "{:?}", read.warnings);
    read.documents
}

/// The exact Jaccard of the two documents under the `dup` preset, and whether it
/// clusters them.
fn dup_similarity(docs: &[Document]) -> (f64, bool) {
    let result = pipeline::run(docs, &Preset::Dup.params()).expect("run");
    let together = result.clusters.iter().any(|c| c.members.len() == 2);
    (result.similarity(0, 1), together)
}

#[test]
fn one_article_under_two_templates_is_a_near_duplicate_after_extraction() {
    let dir = scratch("templates");
    let paragraphs = article();
    let (a, b) = (dir.join("a.html"), dir.join("b.htm"));
    std::fs::write(&a, site_a(&paragraphs)).expect("write");
    std::fs::write(&b, site_b(&paragraphs)).expect("write");

    let pages = read(&[&a, &b], &ReadOptions::default());
    let (j, together) = dup_similarity(&pages);
    assert!(together && j >= 0.9, "Jaccard after extraction {j}");
    for page in &pages {
        assert_eq!(
            page.title.as_deref(),
            Some("Syria and Russia discuss investment")
        );
        // One instant, written in two zones.
        assert_eq!(page.published_time(), Some(1_740_825_000));
        assert!(page.text.contains("trade & energy"), "entities decoded");
        assert!(!page.text.contains("Most read") && !page.text.contains("newsletter"));
        assert!(!page.text.contains("analytics") && !page.text.contains('<'));
    }
    // The canonical link wins over og:url; site B states no address.
    assert_eq!(
        pages[0].url.as_deref(),
        Some("https://www.site-a.example/2025/03/01/syria-russia")
    );
    assert_eq!(pages[1].url, None);

    // The same pages read as text: markup, menus and scripts keep them apart.
    let (x, y) = (dir.join("a.txt"), dir.join("b.txt"));
    std::fs::write(&x, site_a(&paragraphs)).expect("write");
    std::fs::write(&y, site_b(&paragraphs)).expect("write");
    let raw = read(&[&x, &y], &ReadOptions::default());
    let (raw_j, raw_together) = dup_similarity(&raw);
    assert!(!raw_together && raw_j < 0.4, "Jaccard as markup {raw_j}");
}

#[test]
fn jsonl_records_holding_pages_are_extracted_when_detected_or_asked() {
    let dir = scratch("jsonl");
    let paragraphs = article();
    let path = dir.join("pages.jsonl");
    let lines = [
        serde_json::json!({"id": "a", "text": site_a(&paragraphs)}),
        serde_json::json!({"id": "b", "text": site_b(&paragraphs), "title": "Own title"}),
        serde_json::json!({"id": "plain", "text": "a < b while c > d, said nobody in a plain text"}),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, text).expect("write");

    let detected = read(&[&path], &ReadOptions::default());
    let (j, together) = dup_similarity(&detected[..2]);
    assert!(together && j >= 0.9, "{j}");
    assert_eq!(
        detected[0].title.as_deref(),
        Some("Syria and Russia discuss investment")
    );
    assert_eq!(
        detected[1].title.as_deref(),
        Some("Own title"),
        "the record's own title wins"
    );
    assert_eq!(
        detected[2].text,
        "a < b while c > d, said nobody in a plain text"
    );

    let never = ReadOptions {
        html: HtmlText::Never,
        ..ReadOptions::default()
    };
    let raw = read(&[&path], &never);
    assert!(raw[0].text.starts_with("<!DOCTYPE html>"));
    assert_eq!(raw[0].title, None);
}

#[test]
fn a_page_stating_no_time_is_dated_by_its_records_address() {
    let dir = scratch("dated-by-address");
    let body: String = article()
        .iter()
        .map(|p| format!("<p>{}</p>", escape(p)))
        .collect();
    let page = format!("<html><body><article>{body}</article></body></html>");
    let path = dir.join("pages.jsonl");
    let lines = [
        serde_json::json!({"id": "dated", "text": page, "url": "https://news.example/world/2025/03/04/talks"}),
        serde_json::json!({"id": "undated", "text": page, "url": "https://news.example/world/talks-1234"}),
        serde_json::json!({"id": "own", "text": page, "url": "https://news.example/2025/03/04/x",
                           "published": "2025-03-01T10:30:00Z"}),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, text).expect("write");
    let docs = read(&[&path], &ReadOptions::default());
    let times: Vec<Option<i64>> = docs.iter().map(Document::published_time).collect();
    // 2025-03-04T00:00:00Z; none in an address without a date; the record's own first.
    assert_eq!(times, [Some(1_741_046_400), None, Some(1_740_825_000)]);
}

/// `dedup` over a folder of pages keeps one of the two copies as the JSON line of its
/// extracted article, with the title, address and time its page gave: what `stories`
/// reads back.
#[test]
fn dedup_keeps_a_pages_article_with_its_metadata() {
    let dir = scratch("dedup");
    let paragraphs = article();
    std::fs::write(dir.join("a.html"), site_a(&paragraphs)).expect("write");
    std::fs::write(dir.join("b.html"), site_b(&paragraphs)).expect("write");
    let files =
        resolve_sources(&[Source::Path(dir.to_path_buf())], &mut Vec::new()).expect("inputs");
    let options = DedupOptions::new(Preset::Dup.params(), ReadOptions::default());
    let mut kept = Vec::new();
    let outputs = DedupOutputs {
        kept: Some(&mut kept),
        ..DedupOutputs::default()
    };
    let summary = dedup(files, &options, outputs, &mut |_| {}, &mut |_| {}).expect("runs");
    assert_eq!(summary.removed, 1, "{summary:?}");
    let kept = String::from_utf8(kept).expect("utf8");
    let lines: Vec<serde_json::Value> = kept
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(lines.len(), 1);
    let line = &lines[0];
    assert_eq!(line["id"], "a");
    assert_eq!(line["title"], "Syria and Russia discuss investment");
    assert_eq!(
        line["url"],
        "https://www.site-a.example/2025/03/01/syria-russia"
    );
    assert_eq!(line["published"], "2025-03-01T10:30:00Z");
    assert!(line["text"]
        .as_str()
        .is_some_and(|t| t.contains("trade & energy")));
}
