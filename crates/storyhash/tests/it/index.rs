//! The persistent index: incremental equals batch, crash safety, corruption, old files.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use storyhash::index::{Index, MAX_HEADLINE_BYTES};
use storyhash::story::{
    cluster_stories_with, story_of_documents, ExclusionLists, Granularity, StoryAnalysis,
    StoryLists,
};
use storyhash::synth::DupCorpus;
use storyhash::{pipeline, Document, KeepPolicy, Preset};

use crate::testdata;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("storyhash-index-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Copies the index directory `from` (a fixture) to a new directory `to`.
fn copy_index(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for (name, bytes) in files_of(from) {
        std::fs::write(to.join(name), bytes).expect("copy");
    }
}

/// The files of an index directory by name, their bytes.
fn files_of(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .expect("list")
        .flatten()
        .map(|e| {
            let bytes = std::fs::read(e.path()).expect("read");
            (e.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect()
}

fn corpus() -> Vec<Document> {
    DupCorpus {
        seed: 23,
        originals: 200,
        copied_fraction: 0.4,
        ..DupCorpus::default()
    }
    .generate()
    .into_iter()
    .map(|d| Document::new(d.id, d.text))
    .collect()
}

fn groups(clusters: impl IntoIterator<Item = Vec<String>>) -> BTreeSet<BTreeSet<String>> {
    clusters
        .into_iter()
        .filter(|m| m.len() > 1)
        .map(|m| m.into_iter().collect())
        .collect()
}

#[test]
fn a_stream_saved_and_reopened_between_runs_clusters_like_one_batch() {
    let dir = scratch("reopened");
    let path = dir.join("feed.shix");
    let docs = corpus();
    let params = Preset::Dup.params();
    let batch = pipeline::run(&docs, &params).expect("batch run");
    let expected = groups(
        batch
            .member_ids(&docs)
            .into_iter()
            .map(|ids| ids.into_iter().map(str::to_owned).collect()),
    );
    assert!(!expected.is_empty());

    let thirds = docs.len() / 3;
    let index = Index::new(params).expect("new index");
    for d in &docs[..thirds] {
        index.insert_or_match(d).expect("insert");
    }
    index.save(&path).expect("save");
    let index = Index::open(&path).expect("reopen");
    for result in index.insert_batch(&docs[thirds..2 * thirds]) {
        result.expect("insert");
    }
    index.save(&path).expect("save");
    let index = Index::open(&path).expect("reopen");
    for d in &docs[2 * thirds..] {
        index.insert(d).expect("insert");
    }
    assert_eq!(index.len(), docs.len());
    let actual = groups(
        index
            .clusters()
            .expect("clusters")
            .into_iter()
            .map(|(_, m)| m),
    );
    assert_eq!(actual, expected);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn queries_report_scores_and_clusters_and_insert_refuses_known_ids() {
    let docs = corpus();
    let index = Index::new(Preset::Dup.params()).expect("new");
    for d in &docs {
        index.insert(d).expect("insert");
    }
    let (name, members) = index
        .clusters()
        .expect("clusters")
        .into_iter()
        .next()
        .expect("a cluster");
    let member = docs
        .iter()
        .find(|d| d.id == members[1])
        .expect("member doc");
    let matches = index.query(member).expect("query");
    let me = matches
        .iter()
        .find(|m| m.id == member.id)
        .expect("finds itself");
    assert_eq!(me.jaccard, 1.0);
    assert_eq!(me.containment_of_query, 1.0);
    assert!(matches
        .iter()
        .all(|m| m.cluster == name && m.jaccard >= 0.4));
    assert!(matches.windows(2).all(|w| w[0].jaccard >= w[1].jaccard));
    assert!(
        index.insert(member).is_err(),
        "a known id was accepted twice"
    );
    let fresh = Document::new("fresh", "nothing like anything stored in this index at all");
    assert!(index.query(&fresh).expect("query").is_empty());
}

/// Checks an index's cluster listing against its clusters and its queries: the same
/// groups, each member's match another member at the exact Jaccard a query finds (1 for
/// a copy), the lowest of them the cluster's, every document listed once. With
/// `nothing_removed`, each match is an earlier member (a removed document's match is
/// answered by its copy, which may have come later).
fn check_cluster_list(
    index: &Index,
    docs: &[Document],
    nothing_removed: bool,
) -> Vec<storyhash::index::IndexCluster> {
    let listed = index.cluster_list(None, 2).expect("list");
    let clusters = index.clusters().expect("clusters");
    assert_eq!(
        groups(listed.iter().map(|c| c.members.clone())),
        groups(clusters.into_iter().map(|(_, m)| m))
    );
    let by_id: HashMap<&str, &Document> = docs.iter().map(|d| (d.id.as_str(), d)).collect();
    for c in &listed {
        assert_eq!(c.cluster, c.members[0]);
        assert!(
            !nothing_removed || c.matched[0].is_none(),
            "the first matched none"
        );
        for (i, (member, matched)) in c.members.iter().zip(&c.matched).enumerate() {
            let Some(m) = matched else { continue };
            let at = c.members.iter().position(|x| *x == m.member);
            assert!(at.is_some_and(|at| at != i && (at < i || !nothing_removed)));
            let found = index.query(by_id[member.as_str()]).expect("query");
            let pair = found.iter().find(|f| f.id == m.member).expect("matched");
            assert!((pair.jaccard - m.jaccard).abs() < 1e-6, "{member}: {m:?}");
            assert!(m.jaccard >= 0.4);
            assert_eq!(m.copy, m.jaccard == 1.0 && pair.jaccard == 1.0);
        }
        let lowest = (c.matched.iter().flatten()).map(|m| m.jaccard);
        assert_eq!(c.min_jaccard(), lowest.min_by(f64::total_cmp));
    }
    assert!(listed
        .windows(2)
        .all(|w| w[0].members.len() >= w[1].members.len()));
    let everyone = index.cluster_list(None, 1).expect("list");
    let listed_once: BTreeSet<&String> = everyone.iter().flat_map(|c| &c.members).collect();
    assert_eq!(listed_once.len(), index.len());
    listed
}

#[test]
fn listed_clusters_say_what_each_member_matched() {
    let dir = scratch("cluster-list");
    let mut docs = corpus();
    // Exact copies are stored once, as copies of their first document.
    let copies: Vec<Document> = (0..3)
        .map(|i| Document::new(format!("copy-{i}"), docs[i * 7].text.clone()))
        .collect();
    docs.extend(copies);
    let index = Index::new(Preset::Dup.params()).expect("new");
    for d in &docs {
        index.insert(d).expect("insert");
    }
    let listed = check_cluster_list(&index, &docs, true);
    let matched: HashMap<&String, _> = (listed.iter())
        .flat_map(|c| c.members.iter().zip(&c.matched))
        .filter_map(|(member, m)| Some((member, m.as_ref()?)))
        .collect();
    for i in 0..3 {
        assert!(matched[&format!("copy-{i}")].copy);
    }
    assert!(matched.values().any(|m| !m.copy && m.jaccard < 1.0));
    assert!(
        index.cluster_list(Some(0), 1).expect("list").is_empty(),
        "undated: none since"
    );

    // Committed, the links are read from the segment: the same listing.
    let path = dir.join("feed.idx");
    index.save(&path).expect("save");
    let reopened = Index::open(&path).expect("open");
    assert_eq!(check_cluster_list(&reopened, &docs, true), listed);

    // The copy of a removed original answers for it.
    let original = docs[7].id.clone();
    reopened.remove(&original).expect("remove");
    let after = check_cluster_list(&reopened, &docs, false);
    assert!(after.iter().all(|c| !c.members.contains(&original)));
    assert!(after
        .iter()
        .flat_map(|c| c.matched.iter().flatten())
        .all(|m| m.member != original));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn removal_and_time_window_eviction() {
    let text = "the council approved the new budget for schools and roads on thursday evening";
    let mut docs: Vec<Document> = (0..3)
        .map(|i| {
            let mut d = Document::new(format!("d{i}"), format!("{text} {}", "x".repeat(i)));
            d.published = Some(format!("2025-01-0{}T00:00:00Z", i + 1));
            d
        })
        .collect();
    docs.push(Document::new("undated", text));
    let index = Index::new(Preset::Dup.params()).expect("new");
    for d in &docs {
        index.insert(d).expect("insert");
    }
    assert_eq!(
        index.cluster_of("d2").expect("cluster_of").as_deref(),
        Some("d0")
    );
    index.remove("d0").expect("remove");
    assert_eq!(
        index.cluster_of("d2").expect("cluster_of").as_deref(),
        Some("d1"),
        "the cluster is renamed"
    );
    assert!(index.remove("d0").is_err());
    // Newest is 2025-01-03; a one-day window keeps d1, exactly one day older.
    assert_eq!(index.evict_window(86_400).expect("a window"), 0);
    // A negative window would empty the index: refused, nothing evicted.
    assert!(matches!(
        index.evict_window(-1),
        Err(storyhash::Error::InvalidParams(_))
    ));
    assert_eq!(index.len(), 3);
    // A twelve-hour window keeps d2 (and the undated document).
    assert_eq!(index.evict_window(43_200).expect("a window"), 1);
    assert_eq!(index.len(), 2);
    assert!(index.cluster_of("d1").expect("cluster_of").is_none());
    assert!(index.cluster_of("undated").expect("cluster_of").is_some());
}

/// Checks that `together` answers `batch` in one `query_batch` as `singly` does one
/// query at a time, then that inserting it as one batch decides as inserting it one
/// document after another into `singly`; returns those decisions, as debug text.
fn decided_singly_and_together(
    singly: &Index,
    together: &Index,
    batch: &[Document],
) -> Vec<String> {
    let asked: Vec<Vec<storyhash::index::Match>> = batch
        .iter()
        .map(|d| singly.query(d).expect("query"))
        .collect();
    assert_eq!(together.query_batch(batch).expect("query_batch"), asked);
    assert!(asked.iter().filter(|m| !m.is_empty()).count() > batch.len() / 4);
    let one_by_one: Vec<String> = batch
        .iter()
        .map(|d| format!("{:?}", singly.insert_or_match(d)))
        .collect();
    let batched: Vec<String> = together
        .insert_batch(batch)
        .into_iter()
        .map(|r| format!("{r:?}"))
        .collect();
    assert_eq!(batched, one_by_one);
    one_by_one
}

#[test]
fn a_batch_decides_exactly_as_one_insert_after_another() {
    let docs = corpus();
    let (stored, rest) = docs.split_at(docs.len() / 2);
    let mut batch: Vec<Document> = rest.to_vec();
    // Copies inside the batch, an id already stored, an id repeated within the batch
    // (the second is refused, and no later document may match it), text without words.
    batch.push(Document::new("copy-in-batch", rest[3].text.clone()));
    batch.push(Document::new(stored[0].id.clone(), rest[5].text.clone()));
    batch.push(Document::new("repeated", rest[7].text.clone()));
    batch.push(Document::new("repeated", rest[9].text.clone()));
    batch.push(Document::new("after-repeated", rest[9].text.clone()));
    batch.push(Document::new("no-words", "!!! ... ???"));
    let one_by_one = Index::new(Preset::Dup.params()).expect("new");
    let batched = Index::new(Preset::Dup.params()).expect("new");
    for d in stored {
        one_by_one.insert_or_match(d).expect("insert");
    }
    for result in batched.insert_batch(stored) {
        result.expect("insert");
    }
    let singly = decided_singly_and_together(&one_by_one, &batched, &batch);
    assert!(singly.iter().any(|d| d.contains("DuplicateId")));
    assert!(
        singly
            .iter()
            .filter(|d| d.contains("copy-in-batch"))
            .count()
            >= 1
    );
    let dir = scratch("batch-equals-singles");
    one_by_one.save(dir.join("a.idx")).expect("save");
    batched.save(dir.join("b.idx")).expect("save");
    assert_eq!(
        files_of(&dir.join("a.idx")),
        files_of(&dir.join("b.idx")),
        "the same index files"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_batch_over_committed_segments_decides_as_one_insert_after_another() {
    // A batch looks up its committed band entries band by band for all its documents at
    // once; that must change nothing. Two segments, a bucket crowded past what a lookup
    // keeps (near-copies of one text in every segment and in the batch), copies and ids
    // repeated within the batch, an id already committed.
    let docs = corpus();
    let crowd: Vec<Document> = (0..420)
        .map(|i| Document::new(format!("crowd-{i}"), format!("{} edit {i}", docs[0].text)))
        .collect();
    let (first, rest) = docs.split_at(docs.len() / 3);
    let (second, arriving) = rest.split_at(rest.len() / 2);
    let dir = scratch("batch-over-segments");
    let build = |name: &str| {
        let index = Index::create(dir.join(name), Preset::Dup.params(), None).expect("create");
        for d in first.iter().chain(&crowd[..150]) {
            index.insert_or_match(d).expect("insert");
        }
        index.commit().expect("commit");
        for d in second.iter().chain(&crowd[150..300]) {
            index.insert_or_match(d).expect("insert");
        }
        index.commit().expect("commit");
        index
    };
    let (one_by_one, batched) = (build("a.idx"), build("b.idx"));
    let mut batch: Vec<Document> = arriving.iter().chain(&crowd[300..]).cloned().collect();
    batch.push(Document::new("copy-in-batch", arriving[3].text.clone()));
    batch.push(Document::new(first[0].id.clone(), arriving[5].text.clone()));
    batch.push(Document::new("repeated", arriving[7].text.clone()));
    batch.push(Document::new("repeated", first[9].text.clone()));
    for (i, d) in [&first[9], &second[0]].into_iter().enumerate() {
        batch.push(Document::new(
            format!("near-{i}"),
            format!("{} again", d.text),
        ));
    }
    let singly = decided_singly_and_together(&one_by_one, &batched, &batch);
    // The committed documents were met: matches in both segments and in the crowd's
    // newest committed members.
    for stored in [&first[9].id, &second[0].id, &crowd[299].id] {
        let named = format!("id: {stored:?}");
        assert!(
            singly.iter().any(|d| d.contains(&named)),
            "{stored} matched"
        );
    }
    one_by_one.commit().expect("commit");
    batched.commit().expect("commit");
    assert_eq!(files_of(&dir.join("a.idx")), files_of(&dir.join("b.idx")));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A running writer's commits keep the committed ids and copy-group keys it had built
/// and add those of what each wrote: after two commits it answers ids and exact copies
/// of documents from before and between them as a writer opened afresh on a copy of the
/// index does, which reads every key from the segments.
#[test]
fn a_running_writer_answers_after_its_commits_as_a_fresh_writer_does() {
    let docs = corpus();
    let (first, rest) = docs.split_at(docs.len() / 2);
    let dir = scratch("keys-after-commits");
    let running = Index::create(dir.join("a.idx"), Preset::Dup.params(), None).expect("create");
    for d in first {
        running.insert_or_match(d).expect("insert");
    }
    running.commit().expect("commit");
    for d in &rest[..20] {
        running.insert_or_match(d).expect("insert");
    }
    running.commit().expect("commit");
    copy_index(&dir.join("a.idx"), &dir.join("b.idx"));
    let fresh = Index::open(dir.join("b.idx")).expect("open");
    // Ids already stored (refused), exact copies under new ids (copy groups), from the
    // first commit and from the second, and new documents.
    let mut probes: Vec<Document> = [&first[3], &first[40], &rest[2], &rest[19]]
        .into_iter()
        .flat_map(|d| {
            [
                Document::new(d.id.clone(), format!("{} changed", d.text)),
                Document::new(format!("copy-of-{}", d.id), d.text.clone()),
            ]
        })
        .collect();
    probes.extend(rest[20..30].iter().cloned());
    let answers = |index: &Index| -> Vec<String> {
        (probes.iter())
            .map(|d| format!("{:?}", index.insert_or_match(d)))
            .collect()
    };
    let (from_running, from_fresh) = (answers(&running), answers(&fresh));
    assert_eq!(from_running, from_fresh);
    let refused = from_running
        .iter()
        .filter(|a| a.contains("DuplicateId"))
        .count();
    assert_eq!(refused, 4, "{from_running:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_removed_document_is_never_matched_and_its_id_can_return() {
    let text = "the council approved the new budget for schools and roads on thursday evening";
    let copies: Vec<Document> = (0..3)
        .map(|i| Document::new(format!("c{i}"), format!("{text} {}", "y".repeat(i))))
        .collect();
    let dir = scratch("removed");
    let path = dir.join("index.shix");
    let index = Index::new(Preset::Dup.params()).expect("new");
    for d in &copies {
        index.insert(d).expect("insert");
    }
    index.remove("c1").expect("remove");
    let ids = |index: &Index| -> Vec<String> {
        let mut ids: Vec<String> = index
            .query(&copies[1])
            .expect("query")
            .into_iter()
            .map(|m| m.id)
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&index), ["c0", "c2"], "the removed copy is not matched");
    index.save(&path).expect("save");
    assert_eq!(ids(&Index::open(&path).expect("open")), ["c0", "c2"]);
    // Back under its id, in a new slot: matched again, and matching the others.
    let decision = index.insert(&copies[1]).expect("insert again");
    let mut matched: Vec<String> = decision.matches.into_iter().map(|m| m.id).collect();
    matched.sort();
    assert_eq!(matched, ["c0", "c2"]);
    assert_eq!(ids(&index), ["c0", "c1", "c2"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_interrupted_commit_leaves_the_previous_commit_readable_and_its_debris_is_removed() {
    let dir = scratch("interrupted");
    let path = dir.join("feed.idx");
    let docs = corpus();
    let index = Index::new(Preset::Dup.params()).expect("new");
    for d in &docs[..20] {
        index.insert(d).expect("insert");
    }
    index.save(&path).expect("first save");
    let manifest = std::fs::read(path.join("MANIFEST")).expect("manifest");
    // What a writer killed mid-commit leaves: a segment the manifest does not name, a
    // half-written temporary segment and a half-written temporary manifest.
    let segment = std::fs::read_dir(&path)
        .expect("list")
        .flatten()
        .find(|e| e.file_name().to_string_lossy().ends_with(".seg"))
        .expect("a segment")
        .path();
    let bytes = std::fs::read(&segment).expect("segment");
    std::fs::write(path.join("seg-0000000099.seg"), &bytes).expect("orphan");
    std::fs::write(
        path.join(".seg-0000000100.seg.tmp-99999-0"),
        &bytes[..bytes.len() / 2],
    )
    .expect("partial segment");
    std::fs::write(
        path.join(".MANIFEST.tmp-99999-1"),
        &manifest[..manifest.len() / 2],
    )
    .expect("partial manifest");
    let reopened = Index::open(&path).expect("the committed index opens");
    assert_eq!(reopened.len(), 20);
    // The next commit, under the lock, removes what no manifest names.
    for d in &docs[20..40] {
        reopened.insert(d).expect("insert");
    }
    reopened.save(&path).expect("second commit");
    assert_eq!(Index::open(&path).expect("opens").len(), 40);
    let mut names: Vec<String> = std::fs::read_dir(&path)
        .expect("list")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(
        names
            .iter()
            .all(|n| !n.contains("tmp") && n != "seg-0000000099.seg"),
        "{names:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_flipped_byte_of_a_single_file_index_is_detected() {
    let fixture = testdata().join("index/v5/seeds.shix");
    let bytes = std::fs::read(&fixture).expect("fixture");
    let path = std::path::Path::new("flipped.shix");
    assert!(Index::from_bytes(path, &bytes).is_ok());
    for i in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x01;
        assert!(
            Index::from_bytes(path, &bad).is_err(),
            "byte {i} flipped unnoticed"
        );
    }
    let err = Index::from_bytes(path, &bytes[..bytes.len() - 1]).expect_err("truncated");
    assert!(err.to_string().starts_with("flipped.shix: "), "{err}");
}

/// `testdata/index/v4/seeds.shix` was written by format version 4 from the seed articles
/// with the dup preset. Every later build must read it (or refuse it by name, if the
/// format is ever retired). `UPDATE_GOLDEN=1` writes it when missing: only when the
/// version changes, and then keep the old file under its version's folder.
#[test]
fn the_version_4_fixture_still_opens() {
    let fixture = testdata().join("index/v4/seeds.shix");
    let seeds = crate::seed_documents();
    if std::env::var_os("UPDATE_GOLDEN").is_some() && !fixture.exists() {
        let index = Index::new(Preset::Dup.params()).expect("new");
        for d in &seeds {
            index.insert(d).expect("insert");
        }
        std::fs::create_dir_all(fixture.parent().expect("folder")).expect("mkdir");
        index.save(&fixture).expect("write fixture");
    }
    let index = Index::open(&fixture).expect("version 4 fixture opens");
    assert_eq!(index.len(), 5);
    assert_eq!(index.params(), &Preset::Dup.params());
    for d in &seeds {
        let matches = index.query(d).expect("query");
        assert_eq!(matches.len(), 1, "{} matches only itself", d.id);
        assert_eq!(matches[0].id, d.id);
        assert_eq!(matches[0].jaccard, 1.0);
    }
}

/// `testdata/index/v5/seeds.shix` was written by format version 5 from the seed articles
/// and an exact copy of the first (stored by reference to it), with the dup preset.
/// Every later build must read it. `UPDATE_GOLDEN=1` writes it when missing.
#[test]
fn the_version_5_fixture_opens_with_its_copy_group() {
    let fixture = testdata().join("index/v5/seeds.shix");
    let mut docs = crate::seed_documents();
    let mut copy = docs[0].clone();
    copy.id = "copy-of-000".into();
    docs.push(copy);
    if std::env::var_os("UPDATE_GOLDEN").is_some() && !fixture.exists() {
        let index = Index::new(Preset::Dup.params()).expect("new");
        for d in &docs {
            index.insert(d).expect("insert");
        }
        std::fs::create_dir_all(fixture.parent().expect("folder")).expect("mkdir");
        index.save(&fixture).expect("write fixture");
    }
    let index = Index::open(&fixture).expect("version 5 fixture opens");
    assert_eq!(index.len(), 6);
    assert_eq!(
        index
            .cluster_of("copy-of-000")
            .expect("cluster_of")
            .as_deref(),
        Some(docs[0].id.as_str())
    );
    for d in &docs[..5] {
        let matches = index.query(d).expect("query");
        assert_eq!(matches.len(), 1, "{} matches its group's holder only", d.id);
        assert_eq!(matches[0].id, d.id);
        assert_eq!(matches[0].jaccard, 1.0);
    }
    // Written again as a directory by this build and read back, it keeps its groups
    // and clusters.
    let dir = scratch("upgraded-v5");
    index.save(dir.join("seeds.idx")).expect("upgrade");
    let again = Index::open(dir.join("seeds.idx")).expect("reopens");
    assert_eq!(
        again.clusters().expect("clusters"),
        index.clusters().expect("clusters")
    );
    let (mut a, mut b) = (again.stats().expect("stats"), index.stats().expect("stats"));
    (a.segments, a.uncommitted, b.segments, b.uncommitted) = (0, 0, 0, 0);
    assert_eq!(a, b);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The documents of the directory fixtures: the seed articles and an exact copy of the
/// first.
fn directory_fixture_documents() -> Vec<Document> {
    let mut docs = crate::seed_documents();
    let mut copy = docs[0].clone();
    copy.id = "copy-of-000".into();
    docs.push(copy);
    docs
}

/// Writes a directory fixture as this build writes indexes: `docs` and a removed
/// document in two commits (two segments, one deletion list), with story tracking, the
/// story lists of [`fixture_lists`], (from format 10) the line counts of the first six
/// documents, learned before they are added, and (from format 11) the beat's reports
/// as its background.
fn write_directory_fixture(path: &std::path::Path, docs: &[Document]) {
    std::fs::create_dir_all(path.parent().expect("folder")).expect("mkdir");
    let index = Index::create_with_story_lists(
        path,
        Preset::Dup.params(),
        Some(Granularity::Story.params()),
        fixture_lists(),
    )
    .expect("create");
    index
        .set_story_background(beat_background())
        .expect("background");
    let learned = index.learn_story_lines(&docs[..6]).expect("learn");
    assert!(learned.is_empty(), "six documents make no boilerplate");
    // A commit of six documents, then one of a single copy and a removal: too small to
    // merge with the first, so two segments and a deletion list.
    for d in &docs[..5] {
        index.insert(d).expect("insert");
    }
    index
        .insert(&Document::new(
            "removed",
            "a short text that is removed again",
        ))
        .expect("insert");
    index.commit().expect("first commit");
    index.insert(&docs[5]).expect("insert");
    index.remove("removed").expect("remove");
    index.commit().expect("second commit");
}

/// What every directory fixture answers: its segments, groups and matches, and a story
/// for every document.
fn check_directory_fixture(index: &Index, docs: &[Document]) {
    index.verify().expect("every byte checks");
    assert_eq!(index.stats().expect("stats").segments, 2);
    assert_eq!(index.len(), 6);
    assert_eq!(index.params(), &Preset::Dup.params());
    assert_eq!(
        index.cluster_of("copy-of-000").expect("cluster").as_deref(),
        Some(docs[0].id.as_str())
    );
    assert_eq!(index.cluster_of("removed").expect("cluster"), None);
    for d in &docs[..5] {
        let matches = index.query(d).expect("query");
        assert_eq!(matches.len(), 1, "{} matches its group's holder only", d.id);
        assert_eq!(matches[0].id, d.id);
        assert_eq!(matches[0].jaccard, 1.0);
        assert!(index.story_of(&d.id).expect("story").is_some());
    }
}

/// `testdata/index/v6/seeds.idx` was written by format version 6 (its manifest stores
/// the story threshold as a weighted Jaccard) by [`write_directory_fixture`]. Every later
/// build must open it and answer as it did.
#[test]
fn the_version_6_fixture_opens_and_answers_as_written() {
    let fixture = testdata().join("index/v6/seeds.idx");
    let index = Index::open(&fixture).expect("version 6 fixture opens");
    check_directory_fixture(&index, &directory_fixture_documents());
}

/// `testdata/index/v7/seeds.idx` was written by format version 7, whose story terms are
/// words unstemmed (in English), by [`write_directory_fixture`]. Every later build must
/// open it and answer as it did, keep its analysis through later commits, and refuse its
/// counts as the background of a clustering that stems.
#[test]
fn the_version_7_fixture_opens_and_keeps_its_analysis() {
    let fixture = testdata().join("index/v7/seeds.idx");
    let docs = directory_fixture_documents();
    let index = Index::open(&fixture).expect("version 7 fixture opens");
    check_directory_fixture(&index, &docs);
    assert_eq!(
        index.story_params().map(|p| (p.threshold, p.analysis)),
        Some((Granularity::Story.params().threshold, StoryAnalysis::Words)),
        "format 7 keeps the story threshold as written, and its terms are words"
    );
    let background = index
        .story_background()
        .expect("background")
        .expect("tracks stories");
    assert_eq!(background.analysis(), StoryAnalysis::Words);
    let lists = StoryLists {
        background,
        ..StoryLists::default()
    };
    let err = cluster_stories_with(
        &docs,
        &Granularity::Story.params(),
        KeepPolicy::First,
        &lists,
    )
    .expect_err("unstemmed counts under stemmed terms");
    assert!(err.to_string().contains("words analysis"), "{err}");

    // A commit to a copy writes the current manifest format, with the analysis kept.
    let dir = scratch("v7-commit");
    let copy = dir.join("seeds.idx");
    copy_index(&fixture, &copy);
    let index = Index::open(&copy).expect("open the copy");
    index
        .insert(&Document::new(
            "late",
            "Appointed senators appoint a leader",
        ))
        .expect("insert");
    index.commit().expect("commit");
    drop(index);
    let index = Index::open(&copy).expect("reopen");
    assert_eq!(
        index.story_params().map(|p| p.analysis),
        Some(StoryAnalysis::Words)
    );
    assert_eq!(index.len(), 7);
    std::fs::remove_dir_all(&dir).expect("clean");
}

/// The story lists of the directory fixtures from format 9 on: a stopword of the seeds
/// and a site's closing line ("follow us on social media").
fn fixture_lists() -> ExclusionLists {
    ExclusionLists {
        stopwords: vec!["موسكو".into()],
        boilerplate_lines: vec!["تابعونا على وسائل التواصل الاجتماعي".into()],
    }
}

/// `testdata/index/v8/seeds.idx` was written by format 8 (English story terms stemmed)
/// with segments of format 1 (8-byte band entries, every set stored whole), and
/// `testdata/index/segment-2/seeds.idx` by format 8 with segments of format 2 (packed
/// band entries, near copies' sets stored as deltas), both by [`write_directory_fixture`]
/// before it gave lists. Every later build must open both and answer as they did: their
/// documents' stories, and a copy of a stored article joining that article's story.
#[test]
fn the_version_8_fixtures_open_and_answer_as_written() {
    let docs = directory_fixture_documents();
    for fixture in [
        testdata().join("index/v8/seeds.idx"),
        testdata().join("index/segment-2/seeds.idx"),
    ] {
        let index = check_stories_fixture(&fixture, &docs);
        assert!(
            index.story_lists().is_empty(),
            "format 8 had no story lists"
        );
    }
}

/// `testdata/index/v9/seeds.idx` was written by format 9 (the manifest keeps the story
/// lists; segments of format 2), by [`write_directory_fixture`] before it learned line
/// counts. Every later build must open it and answer as it did, its lists kept.
#[test]
fn the_version_9_fixture_opens_and_keeps_its_story_lists() {
    let docs = directory_fixture_documents();
    let index = check_stories_fixture(&testdata().join("index/v9/seeds.idx"), &docs);
    assert_eq!(index.story_lists(), fixture_lists());
}

/// `testdata/index/v10/seeds.idx` was written by format 10 (the manifest names the line
/// counts learned), by [`write_directory_fixture`] before backgrounds. Every later build
/// must open it, answer as it did, keep its lists and go on from its counts: forty-five
/// pages of a closing line, too few alone, are fifty with the fixture's five articles
/// (of the same source, no address; the copy counted once), the line on 90%.
#[test]
fn the_version_10_fixture_opens_and_goes_on_from_its_line_counts() {
    let docs = directory_fixture_documents();
    let current = testdata().join("index/v10/seeds.idx");
    let index = check_stories_fixture(&current, &docs);
    assert_eq!(index.story_lists(), fixture_lists());
    drop(index);

    let dir = scratch("v10-learn");
    let copy = dir.join("seeds.idx");
    copy_index(&current, &copy);
    let index = Index::open_writer(&copy, |_| {}).expect("writer");
    let closing = "Read more from our correspondents every morning.";
    let pages: Vec<Document> = (0..45)
        .map(|i| {
            Document::new(
                format!("p{i}"),
                format!("Note {i} of {}.\n{closing}", i * 7),
            )
        })
        .collect();
    let learned = index.learn_story_lines(&pages).expect("learn");
    assert_eq!(learned.len(), 1, "{learned:?}");
    assert_eq!(learned[0].line, closing);
    assert_eq!(learned[0].share, 0.9);
    drop(index);
    std::fs::remove_dir_all(&dir).expect("clean");
}

/// `testdata/index/v11/seeds.idx` was written by format 11 (the manifest names the
/// background given before the first document) with segments of format 2, by
/// [`write_directory_fixture`] before segments kept headlines. Every later build must
/// open it, answer as it did and weigh later documents by its background: a preview
/// decides as in an index given the same background and the fixture's documents (not as
/// in one without it). Its stories list no headlines.
#[test]
fn the_version_11_fixture_opens_and_weighs_by_its_background() {
    let docs = directory_fixture_documents();
    let index = check_stories_fixture(&testdata().join("index/v11/seeds.idx"), &docs);
    let listed = index.story_list(None, 1).expect("list").expect("tracks");
    assert!(listed
        .iter()
        .all(|s| s.headlines.iter().all(Option::is_none)));
    assert_eq!(
        index.stats().expect("stats").story_background_documents,
        120
    );
    let replica = |background: Option<storyhash::story::Background>| {
        let replica = Index::with_story_lists(
            Preset::Dup.params(),
            Some(Granularity::Story.params()),
            fixture_lists(),
        )
        .expect("new");
        if let Some(background) = background {
            replica
                .set_story_background(background)
                .expect("background");
        }
        for d in &docs[..6] {
            replica.insert(d).expect("insert");
        }
        replica
    };
    let (given, plain) = (replica(Some(beat_background())), replica(None));
    // Two stored articles' first lines: no copy of either, it joins their story by
    // its terms' weights.
    let first_line = |d: &Document| d.text.lines().next().unwrap_or_default().to_owned();
    let probe = Document::new(
        "probe",
        [first_line(&docs[1]), first_line(&docs[2])].join("\n"),
    );
    let decision = index.preview(&probe).expect("preview");
    // Its segments kept no headlines, so its answers name the story by id alone.
    assert_eq!(decision.story_headline, None);
    let unnamed = |d: storyhash::Decision| storyhash::Decision {
        story_headline: None,
        ..d
    };
    assert_eq!(decision, unnamed(given.preview(&probe).expect("preview")));
    assert_ne!(decision, unnamed(plain.preview(&probe).expect("preview")));
}

/// `testdata/index/segment-3/seeds.idx` was written by format 11 with segments of
/// format 3, which keep each document's headline, by [`write_directory_fixture`] before
/// stored story trackers. Every later build must open it, answer as it did, and list
/// each story member's headline as the document gave it; a commit and a merge keep
/// them, beside a document added later.
#[test]
fn the_segment_3_fixture_lists_its_headlines() {
    let docs = directory_fixture_documents();
    let current = testdata().join("index/segment-3/seeds.idx");
    let index = check_stories_fixture(&current, &docs);
    let headlines = |index: &Index| -> Vec<(String, Option<String>)> {
        let mut all: Vec<_> = (index.story_list(None, 1).expect("list").expect("tracks"))
            .into_iter()
            .flat_map(|s| s.members.into_iter().zip(s.headlines))
            .collect();
        all.sort();
        all
    };
    // The seeds have no title: their first lines stand in, the long ones cut at a word.
    let listed = headlines(&index);
    let ids: Vec<&str> = listed.iter().map(|(id, _)| id.as_str()).collect();
    let mut want_ids: Vec<&str> = docs.iter().map(|d| d.id.as_str()).collect();
    want_ids.sort();
    assert_eq!(ids, want_ids);
    for (id, headline) in &listed {
        let whole = docs.iter().find(|d| &d.id == id).expect("doc").headline();
        let headline = headline.as_deref().expect("a headline");
        match headline.strip_suffix('…') {
            None => assert_eq!(headline, whole),
            Some(kept) => {
                assert!(whole.len() > MAX_HEADLINE_BYTES && headline.len() <= MAX_HEADLINE_BYTES);
                assert!(whole.starts_with(kept) && whole[kept.len()..].starts_with(' '));
            }
        }
    }
    assert!(listed
        .iter()
        .any(|(_, h)| h.as_deref().is_some_and(|h| h.ends_with('…'))));
    drop(index);
    let mut want = listed;

    let dir = scratch("segment-3-merge");
    let copy = dir.join("seeds.idx");
    copy_index(&current, &copy);
    let index = Index::open_writer(&copy, |_| {}).expect("writer");
    let mut late = Document::new("late", "Appointed senators appoint a leader");
    late.title = Some("Senators appoint a leader".into());
    index.insert(&late).expect("insert");
    index.commit().expect("commit");
    index.compact().expect("compact");
    drop(index);
    want.push(("late".into(), late.title.clone()));
    want.sort();
    let index = Index::open(&copy).expect("reopen");
    index.verify().expect("verifies");
    assert_eq!(index.stats().expect("stats").segments, 1);
    assert_eq!(headlines(&index), want);
    std::fs::remove_dir_all(&dir).expect("clean");
}

/// `testdata/index/v12/seeds.idx` is an index as this release writes it (format 12,
/// whose manifest names a stored story tracker, with segments of format 3), by
/// [`write_directory_fixture`] then [`Index::commit_story_tracker`]. Every later build
/// must open it, answer as it did, and read its tracker: a new article is answered as
/// by a copy whose tracker file is gone (which `verify` reports, and which building
/// the tracker passes over, replaying the stored terms). `UPDATE_GOLDEN=1` writes it
/// when missing: only when a format changes, and then keep the old directory under its
/// version's folder.
#[test]
fn the_version_12_fixture_reads_its_stored_tracker() {
    let docs = directory_fixture_documents();
    let current = testdata().join("index/v12/seeds.idx");
    if std::env::var_os("UPDATE_GOLDEN").is_some() && !current.exists() {
        write_directory_fixture(&current, &docs);
        let index = Index::open_writer(&current, |_| {}).expect("writer");
        index.commit_story_tracker().expect("store the tracker");
    }
    let index = check_stories_fixture(&current, &docs);
    assert_eq!(index.stats().expect("stats").story_tracker_documents, 6);
    drop(index);

    let dir = scratch("v12-tracker");
    let (kept, lost) = (dir.join("kept.idx"), dir.join("lost.idx"));
    copy_index(&current, &kept);
    copy_index(&current, &lost);
    let tracker = files_of(&lost)
        .into_keys()
        .find(|name| name.starts_with("tracker-"))
        .expect("a stored tracker");
    std::fs::remove_file(lost.join(&tracker)).expect("remove");
    let err = Index::open(&lost)
        .expect("opens")
        .verify()
        .expect_err("reported");
    assert!(err.to_string().contains(&tracker), "{err}");
    let first_line = |d: &Document| d.text.lines().next().unwrap_or_default().to_owned();
    let probe = Document::new(
        "probe",
        [first_line(&docs[1]), first_line(&docs[2])].join("\n"),
    );
    let answer = |path: &std::path::Path| {
        let index = Index::open_writer(path, |_| {}).expect("writer");
        (
            index.preview(&probe).expect("preview"),
            index.insert(&probe).expect("insert"),
        )
    };
    assert_eq!(answer(&kept), answer(&lost));
    std::fs::remove_dir_all(&dir).expect("clean");
}

/// An answer names what it found by headline as well as by id: each match's stored
/// headline, and the headline of the story joined (the new document's own when it
/// starts one), before and after a commit and in a preview; an index without stories
/// keeps none.
#[test]
fn answers_carry_the_headlines_of_their_matches_and_story() {
    let (dir, path, index) = new_story_index("answer-headlines");
    let titled = |id: &str, title: &str, text: &str| {
        let mut doc = Document::new(id, text);
        doc.title = Some(title.into());
        doc
    };
    let visit = "The Syrian foreign minister Asaad al-Shaibani arrived in Moscow on Monday \
                 for talks with Sergei Lavrov on energy, grain and the reconstruction of \
                 Syria's power stations, the ministry said in a statement.";
    let first = index
        .insert(&titled("a", "Shaibani arrives in Moscow", visit))
        .expect("insert");
    assert_eq!(
        first.story_headline.as_deref(),
        Some("Shaibani arrives in Moscow")
    );
    let copy = index
        .insert(&titled("b", "Syrian minister in Moscow for talks", visit))
        .expect("insert");
    assert_eq!(copy.story.as_deref(), Some("a"));
    assert_eq!(
        copy.story_headline.as_deref(),
        Some("Shaibani arrives in Moscow")
    );
    let m = &copy.matches[0];
    assert_eq!(
        (m.id.as_str(), m.headline.as_deref()),
        ("a", Some("Shaibani arrives in Moscow"))
    );
    index.commit().expect("commit");
    drop(index);

    // From the committed segment, untitled: the first line is the headline.
    let index = Index::open_writer(&path, |_| {}).expect("writer");
    let storm = "A storm closed the port of Tartus\nShips waited offshore for two days.";
    let preview = index.preview(&Document::new("c", storm)).expect("preview");
    assert_eq!(
        preview.story_headline.as_deref(),
        Some("A storm closed the port of Tartus")
    );
    let again = index.preview(&Document::new("d", visit)).expect("preview");
    assert_eq!(
        again.story_headline.as_deref(),
        Some("Shaibani arrives in Moscow")
    );
    assert_eq!(
        again.matches[0].headline.as_deref(),
        Some("Shaibani arrives in Moscow")
    );
    drop(index);

    let plain = dir.join("plain.idx");
    let index = Index::create(&plain, Preset::Dup.params(), None).expect("create");
    index
        .insert(&titled("a", "Shaibani arrives in Moscow", visit))
        .expect("insert");
    let copy = index.insert(&titled("b", "Copy", visit)).expect("insert");
    assert_eq!(
        (copy.story.as_deref(), copy.story_headline.as_deref()),
        (None, None)
    );
    assert_eq!(copy.matches[0].headline, None);
    std::fs::remove_dir_all(&dir).expect("clean");
}

/// A story index names each listed story's heaviest terms as its headlines write
/// them: for the seeds' visit, the minister and the city among them; every term is a
/// headline's word; an index opened again (its tracker replayed from the stored terms)
/// names the same.
#[test]
fn listed_stories_name_their_heaviest_terms() {
    let (dir, path, index) = new_story_index("story-terms");
    for doc in crate::seed_documents() {
        index.insert(&doc).expect("insert");
    }
    let listed = |index: &Index| index.story_list(None, 2).expect("list").expect("tracks");
    let stories = listed(&index);
    let visit = (stories.iter())
        .find(|s| s.members.iter().any(|m| m.starts_with("000_")))
        .expect("the visit's story");
    assert_eq!(
        visit.clusters, visit.members,
        "rewrites, none a copy of another"
    );
    let terms = &visit.top_terms;
    assert!(!terms.is_empty() && terms.len() <= 8, "{terms:?}");
    for name in ["موسكو", "الشيباني"] {
        assert!(terms.iter().any(|t| t == name), "{name} in {terms:?}");
    }
    let headlines: Vec<String> = (visit.headlines.iter().flatten())
        .map(|h| storyhash::normalize::normalize(h))
        .collect();
    for term in terms {
        assert!(
            headlines.iter().any(|h| h.contains(term.as_str())),
            "{term}"
        );
    }
    index.commit().expect("commit");
    drop(index);
    let reopened = Index::open(&path).expect("open");
    assert_eq!(listed(&reopened), stories);
    std::fs::remove_dir_all(&dir).expect("clean");
}

/// The beat's reports counted as a background of story terms.
fn beat_background() -> storyhash::story::Background {
    let mut background =
        storyhash::story::Background::with_analysis(Granularity::Story.params().analysis);
    background.add_documents(&beat_reports());
    background
}

/// Opens a directory fixture of format 8 or later and checks what they all answer.
fn check_stories_fixture(fixture: &std::path::Path, docs: &[Document]) -> Index {
    let index = Index::open(fixture).expect("fixture opens");
    check_directory_fixture(&index, docs);
    assert_eq!(
        index.story_of("copy-of-000").expect("story"),
        index.story_of(&docs[0].id).expect("story")
    );
    assert_eq!(
        index.story_params(),
        Some(&Granularity::Story.params()),
        "the story parameters as written"
    );
    index
}

/// A merge rewrites segments of format 1 in the current format and the index answers as
/// before: the same matches, clusters and stories.
#[test]
fn a_merge_rewrites_format_1_segments_and_answers_as_before() {
    let docs = directory_fixture_documents();
    let dir = scratch("format-1-merge");
    let copy = dir.join("seeds.idx");
    copy_index(&testdata().join("index/v8/seeds.idx"), &copy);
    let versions = |dir: &std::path::Path| -> Vec<u32> {
        files_of(dir)
            .iter()
            .filter(|(name, _)| name.ends_with(".seg"))
            .map(|(_, b)| u32::from_le_bytes(b[8..12].try_into().expect("4 bytes")))
            .collect()
    };
    assert_eq!(versions(&copy), [1, 1]);
    let answers = |index: &Index| -> Vec<String> {
        docs.iter()
            .map(|d| {
                format!(
                    "{:?} {:?} {:?}",
                    index.query(d).expect("query"),
                    index.cluster_of(&d.id).expect("cluster"),
                    index.story_of(&d.id).expect("story")
                )
            })
            .collect()
    };
    let index = Index::open_writer(&copy, |_| {}).expect("open");
    let before = answers(&index);
    index.compact().expect("compact");
    index.verify().expect("verifies");
    assert_eq!(answers(&index), before);
    drop(index);
    assert_eq!(versions(&copy), [3]);
    assert_eq!(answers(&Index::open(&copy).expect("reopen")), before);
    std::fs::remove_dir_all(&dir).expect("clean");
}

/// Near copies linked to an article are stored as deltas against its set; every query
/// answers the same before the commit, after it, after reopening and after a merge.
#[test]
fn near_copies_stored_as_deltas_answer_as_before_the_commit() {
    let docs = corpus();
    let mut arriving: Vec<Document> = docs[..40].to_vec();
    for (i, d) in docs[..10].iter().enumerate() {
        for copy in 0..3 {
            let text = d
                .text
                .replacen(' ', &format!(" edit {i} {copy} "), copy + 1);
            arriving.push(Document::new(format!("near-{i}-{copy}"), text));
        }
    }
    let dir = scratch("deltas");
    let path = dir.join("d.idx");
    let index = Index::create(&path, Preset::Dup.params(), None).expect("create");
    let (first, second) = arriving.split_at(25);
    for d in first {
        index.insert(d).expect("insert");
    }
    index.commit().expect("commit");
    for d in second {
        index.insert(d).expect("insert");
    }
    let answers = |index: &Index| -> Vec<Vec<(String, f64)>> {
        arriving
            .iter()
            .chain(&docs[40..60])
            .map(|d| {
                let mut m: Vec<(String, f64)> = index
                    .query(d)
                    .expect("query")
                    .into_iter()
                    .map(|m| (m.id, m.jaccard))
                    .collect();
                m.sort_by(|a, b| a.0.cmp(&b.0));
                m
            })
            .collect()
    };
    let before = answers(&index);
    assert!(
        before.iter().filter(|m| m.len() > 1).count() >= 30,
        "near copies match their articles"
    );
    index.commit().expect("commit");
    assert_eq!(answers(&index), before);
    drop(index);
    let index = Index::open_writer(&path, |_| {}).expect("reopen");
    assert_eq!(answers(&index), before);
    index.compact().expect("compact");
    index.verify().expect("verifies");
    assert_eq!(answers(&index), before);
    assert_eq!(index.stats().expect("stats").segments, 1);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Versions 1 to 3 hashed some texts differently; their sets and band keys would
/// silently fail to match, so they are refused with advice instead.
#[test]
fn the_retired_version_fixtures_are_refused_with_advice() {
    for version in [1, 2, 3] {
        let fixture = testdata().join(format!("index/v{version}/seeds.shix"));
        let err = Index::open(&fixture).expect_err("retired");
        let message = err.to_string();
        assert!(message.contains("seeds.shix"), "{message}");
        assert!(
            message.contains(&format!("version {version} is not supported")),
            "{message}"
        );
        assert!(message.contains("older storyhash: rebuild it"), "{message}");
    }
}

#[test]
fn foreign_files_are_refused() {
    let path = testdata().join("seeds/000_06492c2b52d2f1b0.txt");
    let err = Index::open(&path).expect_err("a text file is not an index");
    assert!(err.to_string().contains("not a storyhash index"), "{err}");
}

#[test]
fn index_is_send_and_sync_and_serves_readers_during_writes() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Index>();
    let docs = corpus();
    let index = Index::new(Preset::Dup.params()).expect("new");
    for d in &docs[..100] {
        index.insert(d).expect("insert");
    }
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for d in &docs[100..] {
                index.insert(d).expect("insert");
            }
        });
        for _ in 0..2 {
            scope.spawn(|| {
                for d in &docs[..100] {
                    assert!(
                        !index.query(d).expect("query").is_empty(),
                        "a stored document finds itself"
                    );
                }
            });
        }
    });
    assert_eq!(index.len(), docs.len());
}

/// Stories tracked by the index as documents arrive: rewrites of one event end in one
/// story, copies join their original's story, and a saved index keeps its stories.
/// Articles on unrelated happenings under one site's footer, the footer a line of its
/// own: its words are in every article.
fn footed_articles() -> (Vec<Document>, String) {
    let footer = "Subscribe to the Harbour Courier newsletter for breaking updates from our \
                  county reporters."
        .to_string();
    let bodies = [
        "Firefighters contained a warehouse blaze near the rail depot overnight.",
        "The orchestra announced its winter season with three premieres.",
        "Farmers expect a late barley harvest after weeks of heavy rain.",
        "A new ferry timetable adds evening crossings to the island.",
    ];
    let docs = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| Document::new(format!("site-{i}"), format!("{body}\n{footer}")))
        .collect();
    (docs, footer)
}

/// The story of each document, numbered by first appearance.
fn numbered<T: Eq + std::hash::Hash>(names: impl IntoIterator<Item = T>) -> Vec<usize> {
    let mut numbering = HashMap::new();
    names
        .into_iter()
        .map(|name| {
            let next = numbering.len();
            *numbering.entry(name).or_insert(next)
        })
        .collect()
}

/// An index given the user's boilerplate lines and stopwords leaves them out of every
/// added document's story terms, as `stories` does with the same lists, and keeps them:
/// a later writer applies them too. Without them, a site's footer joins unrelated
/// articles into one story.
#[test]
fn an_index_keeps_its_story_lists_and_applies_them_as_stories_does() {
    let (docs, footer) = footed_articles();
    let params = Granularity::Story.params();
    let index_stories = |index: &Index, docs: &[Document]| {
        for d in docs {
            index.insert(d).expect("insert");
        }
        numbered(docs.iter().map(|d| index.story_of(&d.id).expect("story")))
    };
    let batch_stories = |lists: &StoryLists| {
        let clustering =
            cluster_stories_with(&docs, &params, KeepPolicy::First, lists).expect("stories");
        story_of_documents(&clustering, docs.len())
    };

    let plain = Index::with_stories(Preset::Dup.params(), Some(params.clone())).expect("new");
    let (first, later) = docs.split_at(3);
    let plain_stories = index_stories(&plain, first);
    assert_eq!(plain_stories, [0, 0, 0], "the footer joins them");
    assert_eq!(batch_stories(&StoryLists::default()), [0, 0, 0, 0]);

    let lists = ExclusionLists {
        stopwords: vec!["Harbour".into()],
        boilerplate_lines: vec![footer.clone()],
    };
    let story_lists = StoryLists {
        stopwords: lists.stopwords.clone(),
        boilerplate_lines: lists.boilerplate_lines.clone(),
        ..StoryLists::default()
    };
    assert_eq!(batch_stories(&story_lists), [0, 1, 2, 3]);
    let dir = scratch("story-lists");
    let path = dir.join("lists.idx");
    let index = Index::create_with_story_lists(
        &path,
        Preset::Dup.params(),
        Some(params.clone()),
        lists.clone(),
    )
    .expect("create");
    assert_eq!(index_stories(&index, first), [0, 1, 2]);
    index.commit().expect("commit");
    drop(index);

    // A later writer reads the lists from the manifest and applies them.
    let index = Index::open_writer(&path, |_| {}).expect("reopen");
    assert_eq!(index.story_lists(), lists);
    assert_eq!(index.stats().expect("stats").story_lists, lists);
    index.insert(&later[0]).expect("insert");
    let stories: BTreeSet<_> = docs
        .iter()
        .map(|d| index.story_of(&d.id).expect("story"))
        .collect();
    assert_eq!(stories.len(), 4, "every article its own story: {stories:?}");
    index.commit().expect("commit");
    assert_eq!(Index::open(&path).expect("open").story_lists(), lists);

    // Lists weigh story terms only: without story tracking they are refused.
    let err = Index::with_story_lists(Preset::Dup.params(), None, lists)
        .expect_err("lists without stories");
    assert!(err.to_string().contains("story tracking"), "{err}");
    // Lists are rewritten with every manifest: more than 8 MiB of them is refused.
    let huge = ExclusionLists {
        boilerplate_lines: vec!["x".repeat(9 << 20)],
        ..ExclusionLists::default()
    };
    let err =
        Index::with_story_lists(Preset::Dup.params(), Some(params), huge).expect_err("huge lists");
    assert!(err.to_string().contains("story lists of"), "{err}");
    std::fs::remove_dir_all(&dir).expect("clean");
}

/// A writer can replace an index's story lists (a footer found after the index was
/// made): a commit keeps them though nothing was added, documents added afterwards
/// leave the listed lines out, and documents stored before keep their stories.
#[test]
fn replaced_story_lists_apply_to_documents_added_afterwards() {
    let (docs, footer) = footed_articles();
    let params = Granularity::Story.params();
    let dir = scratch("replaced-lists");
    let path = dir.join("lists.idx");
    let index = Index::create(&path, Preset::Dup.params(), Some(params.clone())).expect("create");
    for d in &docs[..2] {
        index.insert(d).expect("insert");
    }
    index.commit().expect("commit");
    drop(index);

    let lists = ExclusionLists {
        boilerplate_lines: vec![footer],
        ..ExclusionLists::default()
    };
    let index = Index::open_writer(&path, |_| {}).expect("writer");
    index.set_story_lists(lists.clone()).expect("set lists");
    index.commit().expect("commit the lists alone");
    drop(index);
    assert_eq!(Index::open(&path).expect("open").story_lists(), lists);

    let index = Index::open_writer(&path, |_| {}).expect("writer");
    for d in &docs[2..] {
        index.insert(d).expect("insert");
    }
    let stories = numbered(docs.iter().map(|d| index.story_of(&d.id).expect("story")));
    assert_eq!(
        stories,
        [0, 0, 1, 2],
        "the footer no longer joins later articles"
    );
    drop(index);

    // Without story tracking lists are refused, and the index keeps none.
    let plain = Index::new(Preset::Dup.params()).expect("new");
    let err = plain
        .set_story_lists(lists)
        .expect_err("lists without stories");
    assert!(err.to_string().contains("story tracking"), "{err}");
    assert!(plain.story_lists().is_empty());
    std::fs::remove_dir_all(&dir).expect("clean");
}

/// A writer learns a batch's boilerplate lines as `stories` does and lists them before
/// adding the batch: the four articles under one site's footer, with sixty more of the
/// site's pages, are four stories; the footer is listed once however often it is
/// learned, beside the user's stopwords; an index without story tracking learns none.
#[test]
fn a_writer_learns_a_batchs_boilerplate_lines_before_adding_it() {
    let (mut docs, footer) = footed_articles();
    docs.extend((0..60).map(|i| {
        Document::new(
            format!("page-{i}"),
            format!("Item{i} gamma{i} delta{i} omega{i}.\n{footer}"),
        )
    }));
    let lists = ExclusionLists {
        stopwords: vec!["harbour".into()],
        ..ExclusionLists::default()
    };
    let index = Index::with_story_lists(
        Preset::Dup.params(),
        Some(Granularity::Story.params()),
        lists.clone(),
    )
    .expect("index");
    let learned = index.learn_story_lines(&docs).expect("learn");
    let lines: Vec<&str> = learned.iter().map(|l| l.line.as_str()).collect();
    assert_eq!(lines, [footer.as_str()]);
    assert_eq!(learned[0].share, 1.0);
    let expected = ExclusionLists {
        boilerplate_lines: vec![footer.clone()],
        ..lists
    };
    assert_eq!(index.story_lists(), expected);
    assert!(index.learn_story_lines(&docs).expect("again").is_empty());
    assert_eq!(index.story_lists(), expected, "listed once");

    let decisions: Vec<_> = index.insert_batch(&docs[..4]).into_iter().collect();
    let stories = numbered(decisions.into_iter().map(|d| d.expect("insert").story));
    assert_eq!(stories, [0, 1, 2, 3]);

    let plain = Index::new(Preset::Dup.params()).expect("new");
    let err = plain
        .learn_story_lines(&docs)
        .expect_err("no story tracking");
    assert!(err.to_string().contains("story tracking"), "{err}");
}

/// Pages `range` of one site, each a few words of its own above the site's footer.
fn site_pages(site: &str, footer: &str, range: std::ops::Range<usize>) -> Vec<Document> {
    range
        .map(|i| {
            let mut doc = Document::new(
                format!("{site}-{i}"),
                format!("Item{i} gamma{i} delta{i} omega{i}.\n{footer}"),
            );
            doc.url = Some(format!("https://{site}/news/{i}"));
            doc
        })
        .collect()
}

/// A site's closing line.
const GAZETTE_FOOTER: &str =
    "Follow the Harbour Gazette on social media for the latest local news.";

/// A scratch directory `name` and a new story index directory in it.
fn new_story_index(name: &str) -> (PathBuf, PathBuf, Index) {
    let dir = scratch(name);
    let path = dir.join("feed.idx");
    let index = Index::create(
        &path,
        Preset::Dup.params(),
        Some(Granularity::Story.params()),
    )
    .expect("create");
    (dir, path, index)
}

/// The `lines-*.tally` files of an index directory.
fn tally_files(path: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(path)
        .expect("read dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tally"))
        .collect();
    names.sort();
    names
}

/// A feed learned five pages at a time, committed and opened again between batches,
/// lists a site's footer at its fiftieth page, as `stories` would on the fifty; a page
/// republished sixty times counts once, so its own lines are never learned.
#[test]
fn a_writer_counts_lines_across_batches_and_commits() {
    let footer = GAZETTE_FOOTER;
    let pages = site_pages("gazette.example", footer, 0..60);
    let copy = "The council approved the new harbour wall after a long debate.\n\
                Work starts in spring and lasts two years.";
    let copies: Vec<Document> = (0..60)
        .map(|i| {
            let mut doc = Document::new(format!("copy-{i}"), copy);
            doc.url = Some(format!("https://copies.example/{i}"));
            doc
        })
        .collect();
    let (dir, path, index) = new_story_index("tally");
    let mut learned_at = Vec::new();
    let mut index = Some(index);
    for (b, (batch, copied)) in pages.chunks(5).zip(copies.chunks(5)).enumerate() {
        let writer = index.take().expect("writer");
        let mut both = batch.to_vec();
        both.extend_from_slice(copied);
        for line in writer.learn_story_lines(&both).expect("learn") {
            learned_at.push((b, line.line, line.source));
        }
        for decision in writer.insert_batch(&both) {
            decision.expect("insert");
        }
        writer.commit().expect("commit");
        // Every other batch, the writer ends and a new one opens the directory.
        index = Some(if b % 2 == 1 {
            drop(writer);
            Index::open_writer(&path, |_| {}).expect("writer")
        } else {
            writer
        });
    }
    assert_eq!(
        learned_at,
        [(9, footer.to_owned(), "gazette.example".to_owned())],
        "learned with the fiftieth page, nothing of the copies"
    );
    assert_eq!(
        Index::open(&path)
            .expect("open")
            .story_lists()
            .boilerplate_lines,
        [footer]
    );
    // Twelve commits wrote counts; each removes what the one before replaced.
    let files = tally_files(&path);
    assert!(files.len() <= 2, "{files:?}");
    drop(index);
    std::fs::remove_dir_all(&dir).expect("clean");
}

/// Line counts a writer reads are checked like every other file of an index: a counter
/// above its site's documents, resealed with a valid checksum, and a truncated file are
/// refused by name when a writer learns and by `verify`; a manifest naming a file
/// outside the index is refused on opening; saving to a new path keeps the counts.
#[test]
fn damaged_line_counts_are_refused_by_name() {
    let footer = GAZETTE_FOOTER;
    let (dir, path, index) = new_story_index("tally-damaged");
    index
        .learn_story_lines(&site_pages("gazette.example", footer, 0..10))
        .expect("learn");
    index.commit().expect("commit");
    let copy = dir.join("copy.idx");
    index.save(&copy).expect("save to a new path");
    drop(index);
    // The copy counts the ten pages already: forty more reach fifty.
    let copied = Index::open_writer(&copy, |_| {}).expect("writer");
    let learned = copied
        .learn_story_lines(&site_pages("gazette.example", footer, 10..50))
        .expect("learn");
    assert_eq!(learned.len(), 1, "{learned:?}");
    drop(copied);

    let [name] = <[String; 1]>::try_from(tally_files(&path)).expect("one tally file");
    let file = path.join(&name);
    let original = std::fs::read(&file).expect("read");
    let learn = || {
        let index = Index::open_writer(&path, |_| {}).expect("a writer opens");
        index.learn_story_lines(&site_pages("gazette.example", footer, 10..12))
    };
    // Header (24 bytes), section length (8), site count (4), the site's key, documents
    // and counter count (20), its first counter's key (8): its count.
    let mut forged = original.clone();
    forged[64..68].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(storyhash::index::forge::reseal_container(&mut forged));
    std::fs::write(&file, &forged).expect("write");
    let err = learn().expect_err("a counter above its site's documents");
    let message = err.to_string();
    assert!(
        message.contains(&name) && message.contains("counter"),
        "{message}"
    );
    let err = Index::open(&path).expect("opens").verify();
    assert!(err.expect_err("checked").to_string().contains(&name));
    std::fs::write(&file, &original[..original.len() - 9]).expect("write");
    let err = learn().expect_err("truncated");
    assert!(err.to_string().contains(&name), "{err}");
    std::fs::write(&file, &original).expect("write");
    learn().expect("the original reads");

    let manifest = std::fs::read(path.join("MANIFEST")).expect("manifest");
    let mut fields = storyhash::index::forge::decode_manifest(&manifest).expect("decodes");
    fields["line_tally"] = serde_json::json!("../../../etc/passwd");
    let bytes = storyhash::index::forge::encode_manifest(fields).expect("encodes");
    std::fs::write(path.join("MANIFEST"), bytes).expect("write");
    let err = Index::open(&path).expect_err("a file outside the index");
    assert!(err.to_string().contains("line count"), "{err}");
    std::fs::remove_dir_all(&dir).expect("clean");
}

/// A hundred and twenty reports of one beat: the beat's words on every one, around
/// names of its own.
fn beat_reports() -> Vec<Document> {
    (0..120)
        .map(|i| {
            Document::new(
                format!("beat-{i}"),
                format!(
                    "Mine{i} gold mines ltd reports grade and tonnage at site{i}, chief{i} says"
                ),
            )
        })
        .collect()
}

/// Two companies' reports in the beat's words, then a follow-up on the first.
fn mine_news() -> Vec<Document> {
    [
        ("alpha", "Alpha gold mines ltd reports grade and tonnage at Lakeview shaft, chief Ada Novak says output rose"),
        ("beta", "Beta gold mines ltd reports grade and tonnage at Hillcrest pit, director Omar Ruiz expects lower costs"),
        ("alpha-2", "Alpha's Lakeview shaft: Ada Novak tells shareholders output rose on deeper veins"),
    ]
    .into_iter()
    .map(|(id, text)| Document::new(id, text))
    .collect()
}

/// The story of each of `docs` inserted one by one into `index`.
fn stories_inserted(index: &Index, docs: &[Document]) -> Vec<String> {
    docs.iter()
        .map(|d| {
            let decision = index.insert_or_match(d).expect("insert");
            assert!(!decision.is_duplicate(), "{} copies nothing", d.id);
            decision.story.expect("stories are tracked")
        })
        .collect()
}

/// A new index weighs its first articles by the few before it, where the beat's words
/// are as rare as a company's name: two companies' reports join. Given the beat's
/// reports as its background, it leaves the beat's words out as `stories` does with that
/// background, keeps the companies apart and joins the follow-up to its company; the
/// background is written with the index and weighs every later document, after a
/// reopening as before it.
#[test]
fn a_new_index_given_a_background_weighs_its_first_articles_by_it() {
    let params = Granularity::Story.params();
    let news = mine_news();
    let plain = Index::with_stories(Preset::Dup.params(), Some(params.clone())).expect("new");
    assert_eq!(stories_inserted(&plain, &news[..2]), ["alpha", "alpha"]);

    let mut background = storyhash::story::Background::with_analysis(params.analysis);
    background.add_documents(&beat_reports());
    let dir = scratch("background");
    let path = dir.join("feed.idx");
    let index = Index::with_stories(Preset::Dup.params(), Some(params.clone())).expect("new");
    index
        .set_story_background(background.clone())
        .expect("background");
    index.save(&path).expect("save");
    assert_eq!(stories_inserted(&index, &news), ["alpha", "beta", "alpha"]);
    let lists = StoryLists {
        background: background.clone(),
        ..StoryLists::default()
    };
    let batch = cluster_stories_with(&news, &params, KeepPolicy::First, &lists).expect("stories");
    assert_eq!(story_of_documents(&batch, news.len()), [0, 1, 0]);
    index.commit().expect("commit");

    // Reopened, the index weighs by the background it was given: the next report
    // decides exactly as in the index that never closed.
    let gamma = Document::new(
        "gamma",
        "Gamma gold mines ltd reports grade and tonnage at Ridgeway, chief Lena Park says",
    );
    let reopened = Index::open_writer(&path, |_| {}).expect("writer");
    let stats = reopened.stats().expect("stats");
    assert_eq!(stats.story_background_documents, 120);
    let decision = reopened.insert_or_match(&gamma).expect("insert");
    assert_eq!(decision, index.insert_or_match(&gamma).expect("insert"));
    assert_eq!(decision.story.as_deref(), Some("gamma"));
    // Its counts, as a background for `stories`, hold the background's and its own.
    let counts = reopened
        .story_background()
        .expect("counts")
        .expect("tracked");
    assert_eq!(counts.documents(), 124);
    // A copy saved to a new path keeps the background.
    let copy = dir.join("copy.idx");
    reopened.save(&copy).expect("save a copy");
    let copied = Index::open(&copy).expect("open");
    assert_eq!(
        copied.stats().expect("stats").story_background_documents,
        120
    );
    std::fs::remove_dir_all(&dir).expect("clean");
}

/// A background is given once, before the first document, to a story-tracking index,
/// in the index's analysis; a damaged background file is refused by name.
#[test]
fn a_background_is_refused_after_the_first_document_and_when_damaged() {
    let params = Granularity::Story.params();
    let mut background = storyhash::story::Background::with_analysis(params.analysis);
    background.add_documents(&beat_reports());
    let refused = |index: &Index, background: storyhash::story::Background| {
        index
            .set_story_background(background)
            .expect_err("refused")
            .to_string()
    };
    let untracked = Index::new(Preset::Dup.params()).expect("new");
    assert!(refused(&untracked, background.clone()).contains("story tracking"));
    let started = Index::with_stories(Preset::Dup.params(), Some(params.clone())).expect("new");
    started.insert(&mine_news()[0]).expect("insert");
    let message = refused(&started, background.clone());
    assert!(message.contains("before its first document"), "{message}");
    let mut words = storyhash::story::Background::with_analysis(StoryAnalysis::Words);
    words.add_documents(&beat_reports());
    let fresh = Index::with_stories(Preset::Dup.params(), Some(params.clone())).expect("new");
    assert!(refused(&fresh, words).contains("analysis"));
    fresh
        .set_story_background(background.clone())
        .expect("once");
    assert!(refused(&fresh, background).contains("has one"));

    let dir = scratch("background-damaged");
    let path = dir.join("feed.idx");
    fresh.save(&path).expect("save");
    fresh.insert(&mine_news()[0]).expect("insert");
    fresh.commit().expect("commit");
    let name = "background-0000000001.df";
    let file = path.join(name);
    let original = std::fs::read(&file).expect("a background file");
    let add = || -> storyhash::Result<()> {
        let index = Index::open_writer(&path, |_| {})?;
        index.insert(&mine_news()[1])?;
        Ok(())
    };
    // Header (24 bytes), then sections (each its length, 8 bytes, and its bytes): the
    // documents and analysis, the term hashes, their counts. The first count set to 0.
    let section = |bytes: &[u8], at: usize| {
        let len = u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        (at + 8, at + 8 + len as usize)
    };
    let (_, meta_end) = section(&original, 24);
    let (_, hashes_end) = section(&original, meta_end);
    let (counts, _) = section(&original, hashes_end);
    let mut forged = original.clone();
    forged[counts..counts + 4].copy_from_slice(&0u32.to_le_bytes());
    assert!(storyhash::index::forge::reseal_container(&mut forged));
    std::fs::write(&file, &forged).expect("write");
    let message = add()
        .expect_err("a term counted in no document")
        .to_string();
    assert!(
        message.contains(name) && message.contains("inconsistent background"),
        "{message}"
    );
    let err = Index::open(&path).expect("opens").verify();
    assert!(err.expect_err("checked").to_string().contains(name));
    std::fs::write(&file, &original[..original.len() - 9]).expect("write");
    assert!(add().expect_err("truncated").to_string().contains(name));
    std::fs::write(&file, &original).expect("write");
    add().expect("the original reads");

    // The manifest counts the background's documents (`stats` reads no file): a count
    // that differs from the file's, or a name outside the index, is refused.
    let manifest_path = path.join("MANIFEST");
    let manifest = std::fs::read(&manifest_path).expect("manifest");
    let forge_manifest = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut fields = storyhash::index::forge::decode_manifest(&manifest).expect("decodes");
        edit(&mut fields);
        let bytes = storyhash::index::forge::encode_manifest(fields).expect("encodes");
        std::fs::write(&manifest_path, bytes).expect("write");
    };
    forge_manifest(&|m| m["story_background"]["documents"] = serde_json::json!(7));
    assert_eq!(
        Index::open(&path)
            .expect("opens")
            .stats()
            .expect("stats")
            .story_background_documents,
        7
    );
    let message = add().expect_err("counts that differ").to_string();
    assert!(message.contains("where the manifest says 7"), "{message}");
    forge_manifest(&|m| m["story_background"]["name"] = serde_json::json!("../MANIFEST"));
    let message = Index::open(&path).expect_err("outside").to_string();
    assert!(message.contains("not a background"), "{message}");
    std::fs::remove_dir_all(&dir).expect("clean");
}

/// Adds `generated` to a new story index at `granularity` in time order, as a feed
/// arrives, checking that each copy stays in its original's story; returns the index,
/// the documents in the order added with their labels, each one's story numbered in
/// order of first appearance, and the stories' agreement with the labels.
fn stories_as_they_arrive(
    generated: Vec<storyhash::synth::SynthDoc>,
    granularity: Granularity,
) -> (
    Index,
    Vec<(Document, u32)>,
    Vec<usize>,
    storyhash::story::Agreement,
) {
    let mut docs: Vec<(Document, u32)> = generated
        .into_iter()
        .map(|d| {
            let mut doc = Document::new(d.id, d.text);
            doc.published = d.published;
            (doc, d.label)
        })
        .collect();
    // A feed arrives in time order.
    docs.sort_by(|a, b| a.0.published.cmp(&b.0.published).then(a.0.id.cmp(&b.0.id)));
    let story = Some(granularity.params());
    let index = Index::with_stories(Preset::Dup.params(), story).expect("new");
    let mut story_names = Vec::new();
    for (doc, _) in &docs {
        let decision = index.insert_or_match(doc).expect("insert");
        if decision.is_duplicate() {
            let original = &decision.matches[0].id;
            assert_eq!(
                decision.story,
                index.story_of(original).expect("story_of"),
                "a copy left its story"
            );
        }
        story_names.push(decision.story.expect("stories are tracked"));
    }
    let mut numbering = HashMap::new();
    let predicted: Vec<usize> = story_names
        .iter()
        .map(|name| {
            let next = numbering.len();
            *numbering.entry(name.clone()).or_insert(next)
        })
        .collect();
    let labels: Vec<u32> = docs.iter().map(|(_, l)| *l).collect();
    let a = storyhash::story::agreement(&predicted, &labels);
    eprintln!(
        "index stories: {} docs, {} stories; precision {:.3} recall {:.3} ARI {:.3}, {} misplaced",
        docs.len(),
        numbering.len(),
        a.precision,
        a.recall,
        a.adjusted_rand,
        a.misplaced_documents
    );
    (index, docs, predicted, a)
}

#[test]
fn the_index_assigns_stories_as_documents_arrive() {
    use storyhash::synth::StoryCorpus;
    let generated = StoryCorpus {
        seed: 51,
        ..StoryCorpus::default()
    }
    .generate();
    let (index, docs, predicted, a) = stories_as_they_arrive(generated, Granularity::Story);
    assert!(a.precision >= 0.95 && a.recall >= 0.85, "{a:?}");

    let dir = scratch("stories");
    let path = dir.join("feed.shix");
    index.save(&path).expect("save");
    let reopened = Index::open(&path).expect("open");
    for (doc, _) in &docs {
        assert_eq!(
            reopened.story_of(&doc.id).expect("story_of"),
            index.story_of(&doc.id).expect("story_of"),
            "{}",
            doc.id
        );
    }
    // The stats count the stories the documents are in, before and after reopening.
    let mut sizes = vec![0usize; predicted.iter().max().map_or(0, |&s| s + 1)];
    for &s in &predicted {
        sizes[s] += 1;
    }
    let expected = storyhash::index::StoryCounts {
        stories: sizes.len(),
        multi_document_stories: sizes.iter().filter(|&&n| n > 1).count(),
        largest: sizes.iter().copied().max().unwrap_or(0),
    };
    assert!(expected.multi_document_stories > 0, "{expected:?}");
    assert_eq!(index.stats().expect("stats").story_counts, Some(expected));
    assert_eq!(
        reopened.stats().expect("stats").story_counts,
        Some(expected)
    );
    // The listed stories are those of two or more documents, largest first.
    let listed = reopened.stories().expect("stories").expect("tracked");
    let mut multi: Vec<usize> = sizes.iter().copied().filter(|&n| n > 1).collect();
    multi.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(
        listed.iter().map(|(_, m)| m.len()).collect::<Vec<_>>(),
        multi
    );
    for (name, members) in &listed {
        for member in members {
            assert_eq!(
                reopened.story_of(member).expect("story_of").as_ref(),
                Some(name)
            );
        }
    }
    // With their times: every story down to one document, and from a time on those with
    // a member published since, each member's time its document's.
    let published: HashMap<&str, Option<i64>> = docs
        .iter()
        .map(|(doc, _)| (doc.id.as_str(), doc.published_time()))
        .collect();
    let every = reopened
        .story_list(None, 1)
        .expect("list")
        .expect("tracked");
    assert_eq!(every.len(), sizes.len());
    for story in &every {
        let times: Vec<_> = story
            .members
            .iter()
            .map(|m| published[m.as_str()])
            .collect();
        assert_eq!(story.published, times, "{}", story.story);
    }
    let mut times: Vec<i64> = published.values().flatten().copied().collect();
    times.sort_unstable();
    let since = times[times.len() / 2];
    let running = reopened
        .story_list(Some(since), 2)
        .expect("list")
        .expect("tracked");
    let expected: Vec<&str> = every
        .iter()
        .filter(|s| s.members.len() >= 2 && s.last_published().is_some_and(|t| t >= since))
        .map(|s| s.story.as_str())
        .collect();
    assert!(
        !expected.is_empty() && expected.len() < multi.len(),
        "{expected:?}"
    );
    assert_eq!(
        running.iter().map(|s| s.story.as_str()).collect::<Vec<_>>(),
        expected
    );
    for story in &running {
        assert!(story.first_published() <= story.last_published());
        assert!(story.published.iter().flatten().any(|&t| t >= since));
    }
    let plain = Index::new(Preset::Dup.params()).expect("new");
    assert_eq!(plain.stats().expect("stats").story_counts, None);
    assert_eq!(plain.stories().expect("stories"), None);
    assert_eq!(plain.story_list(None, 1).expect("list"), None);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A feed of events of up to 20 reports: the index decides by the same candidate rule
/// as `stories`, so an event's later reports, whose names are by then in more than 10
/// documents, still find its story, as in `stories` (its test of such events).
#[test]
fn events_reported_more_than_ten_times_in_a_small_feed_stay_one_story() {
    let generated = crate::events_of_up_to_twenty_reports();
    let (_, _, _, a) = stories_as_they_arrive(generated, Granularity::Event);
    assert!(a.recall >= 0.95 && a.precision >= 0.9, "{a:?}");
}

/// A story republished a thousand times under new headlines: every copy shares every
/// band with the others. Each new copy is compared with the newest members of each
/// bucket only (`lsh::MAX_BUCKET_PIVOTS` of them), so links grow with the copies, not
/// with their pairs (half a million links without the limit), and they still form one
/// cluster.
#[test]
fn near_copies_of_one_story_cost_links_in_proportion_to_the_copies() {
    let story = storyhash::synth::DupCorpus {
        seed: 41,
        originals: 1,
        copied_fraction: 0.0,
        ..storyhash::synth::DupCorpus::default()
    }
    .generate()
    .remove(0)
    .text;
    let copies = 1_000;
    let index = Index::new(Preset::Dup.params()).expect("index");
    let docs: Vec<Document> = (0..copies)
        .map(|n| Document::new(format!("c{n}"), format!("Edition {n} reports\n{story}")))
        .collect();
    for chunk in docs.chunks(250) {
        for decision in index.insert_batch(chunk) {
            decision.expect("stored");
        }
    }
    let stats = index.stats().expect("stats");
    assert_eq!(stats.multi_member_clusters, 1);
    assert_eq!(stats.clustered_documents, copies);
    let limit = storyhash::lsh::MAX_BUCKET_PIVOTS;
    assert!(
        stats.links <= limit * copies,
        "{} links for {copies} copies",
        stats.links
    );
}

/// `insert_all` stores a batch whole or not at all: an id already stored, an id repeated
/// in the batch, or an unreadable date anywhere in it leaves the index as it was.
#[test]
fn insert_all_is_all_or_nothing() {
    let index = Index::new(Preset::Dup.params()).expect("new");
    let doc = |id: &str, text: &str| Document::new(id, text);
    index
        .insert(&doc(
            "stored",
            "the harbour reopened after the storm on monday",
        ))
        .expect("insert");
    let mut bad_date = doc("late", "a market report with an impossible date");
    bad_date.published = Some("2025-02-31".into());
    for (case, batch) in [
        (
            "stored id",
            vec![
                doc("new-1", "the council approved the budget for schools"),
                doc("stored", "another text under a stored id"),
            ],
        ),
        (
            "repeated id",
            vec![
                doc("twice", "the council approved the budget for schools"),
                doc("new-2", "a strike closed the railway for two days"),
                doc("twice", "a third text"),
            ],
        ),
        (
            "bad date",
            vec![
                doc("new-3", "the railway reopened on friday"),
                bad_date.clone(),
            ],
        ),
    ] {
        assert!(index.insert_all(&batch).is_err(), "{case}");
        assert_eq!(index.len(), 1, "{case}: nothing stored");
        for d in &batch {
            if d.id != "stored" {
                assert!(
                    index.cluster_of(&d.id).expect("cluster_of").is_none(),
                    "{case}: {}",
                    d.id
                );
            }
        }
    }
    let decisions = index
        .insert_all(&[
            doc("copy", "the harbour reopened after the storm on monday"),
            doc("other", "a strike closed the railway for two days"),
        ])
        .expect("a clean batch");
    assert!(decisions[0].is_duplicate() && !decisions[1].is_duplicate());
    assert_eq!(index.len(), 3);
}

/// A story-tracking index answers alike whether it stays in memory, commits every few
/// documents (the tracker carried across each commit and merge that keeps every
/// document), or is opened again between batches (its tracker rebuilt from the stored
/// terms on the first insertion after opening): the same story and score for every
/// document.
#[test]
fn stories_are_the_same_across_commits_and_reopening() {
    use storyhash::synth::StoryCorpus;
    let mut docs = crate::dated_documents(
        &StoryCorpus {
            seed: 52,
            ..StoryCorpus::default()
        }
        .generate(),
    );
    docs.sort_by(|a, b| a.published.cmp(&b.published).then(a.id.cmp(&b.id)));
    assert!(docs.len() > 100, "{} documents", docs.len());
    let story = Some(Granularity::Story.params());
    let answers = |index: &Index, d: &Document| {
        let decision = index.insert_or_match(d).expect("insert");
        (decision.story.expect("tracked"), decision.story_score)
    };
    let memory = Index::with_stories(Preset::Dup.params(), story.clone()).expect("new");
    let expected: Vec<_> = docs.iter().map(|d| answers(&memory, d)).collect();
    assert!(
        expected.iter().any(|(_, score)| *score != Some(1.0)),
        "some documents join a story by similarity"
    );

    let dir = scratch("stories-across-commits");
    let committing =
        Index::create(dir.join("c.idx"), Preset::Dup.params(), story.clone()).expect("create");
    let mut got = Vec::new();
    for (i, d) in docs.iter().enumerate() {
        got.push(answers(&committing, d));
        if i % 10 == 9 {
            committing.commit().expect("commit");
        }
    }
    // Commits were merged too.
    assert!(committing.stats().expect("stats").segments < docs.len() / 10);
    assert_eq!(got, expected, "committing every 10 documents");

    let path = dir.join("r.idx");
    let mut reopened = Index::create(&path, Preset::Dup.params(), story).expect("create");
    let mut got = Vec::new();
    for chunk in docs.chunks(35) {
        got.extend(chunk.iter().map(|d| answers(&reopened, d)));
        reopened.commit().expect("commit");
        // The writer's lock goes with it, for the next writer to take.
        drop(reopened);
        reopened = Index::open_writer(&path, |_| {}).expect("reopen");
    }
    assert_eq!(got, expected, "opened again every 35 documents");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_reopened_writer_rebuilds_the_stories_of_thousands_of_documents() {
    use storyhash::synth::StoryCorpus;
    // More documents than the rebuild reads at a time (1,024), so that reading and
    // weighing one chunk runs beside adding the chunk before to its stories. Without
    // publication times every story stays a candidate, and the arriving documents
    // (every eighth) have stored rewrites throughout the index.
    let docs = crate::dated_documents(
        &StoryCorpus {
            seed: 53,
            events: 700,
            words: (60, 120),
            events_per_topic: 3,
            days: 0,
            ..StoryCorpus::default()
        }
        .generate(),
    );
    let (mut arriving, mut stored) = (Vec::new(), Vec::new());
    for (i, d) in docs.into_iter().enumerate() {
        if i % 8 == 7 {
            arriving.push(d);
        } else {
            stored.push(d);
        }
    }
    assert!(stored.len() > 2 * 1024, "{} documents", stored.len());
    let story = Some(Granularity::Story.params());
    let answers = |index: &Index, docs: &[Document]| -> Vec<(String, Option<f64>)> {
        index
            .insert_batch(docs)
            .into_iter()
            .map(|d| {
                let d = d.expect("insert");
                (d.story.expect("tracked"), d.story_score)
            })
            .collect()
    };
    let memory = Index::with_stories(Preset::Dup.params(), story.clone()).expect("new");
    answers(&memory, &stored);
    let expected = answers(&memory, &arriving);
    let joined = expected.iter().filter(|(_, s)| *s != Some(1.0)).count();
    assert!(
        joined > 100,
        "{joined} arriving documents join a story by similarity"
    );

    let dir = scratch("stories-rebuilt");
    let path = dir.join("s.idx");
    let writer = Index::create(&path, Preset::Dup.params(), story).expect("create");
    answers(&writer, &stored);
    writer.commit().expect("commit");
    drop(writer);
    let reopened = Index::open_writer(&path, |_| {}).expect("reopen");
    assert_eq!(answers(&reopened, &arriving), expected);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `preview` answers what `insert` then does: the same matches, cluster, story and
/// score, for every document of a feed of events with near copies, exact copies and a
/// copy republished after the story window, in memory, from committed segments and
/// after reopening (the story tracker rebuilt from the stored terms). And it changes
/// nothing: an index whose every insertion was previewed first answers as one without
/// previews.
#[test]
fn preview_answers_what_insert_then_does_and_changes_nothing() {
    let mut docs = crate::dated_documents(&crate::events_of_up_to_twenty_reports());
    docs.sort_by(|a, b| a.published.cmp(&b.published).then(a.id.cmp(&b.id)));
    // Exact copies of earlier reports, a day later and a fortnight later (another
    // event: it may not join the story of what it copies).
    for (n, at) in [(3, 100), (250, 300)] {
        let mut copy = docs[n].clone();
        copy.id = format!("copy-{n}");
        copy.published = docs[at].published.clone();
        docs.insert(at + 1, copy);
    }
    let mut late = docs[5].clone();
    late.id = "copy-late".into();
    late.published = Some("2026-06-01T00:00:00Z".into());
    docs.push(late);

    let dir = scratch("preview");
    let story = Some(Granularity::Event.params());
    let previewed = dir.join("previewed");
    let mut index = Index::create(&previewed, Preset::Dup.params(), story.clone()).expect("new");
    let plain = Index::with_stories(Preset::Dup.params(), story).expect("new");
    let (mut copies, mut joined) = (0, 0);
    for (n, doc) in docs.iter().enumerate() {
        let preview = index.preview(doc).expect("preview");
        let decision = index.insert(doc).expect("insert");
        assert_eq!(preview, decision, "{}", doc.id);
        assert_eq!(plain.insert(doc).expect("insert"), decision, "{}", doc.id);
        copies += usize::from(decision.is_duplicate());
        joined += usize::from(decision.story.as_deref() != Some(doc.id.as_str()));
        match n {
            150 => index.commit().expect("commit"),
            300 => {
                index.commit().expect("commit");
                drop(index);
                index = Index::open_writer(&previewed, |_| {}).expect("reopen");
            }
            _ => {}
        }
    }
    // The feed exercised what the answers are made of.
    assert!(
        copies >= 50 && joined >= 300,
        "{copies} copies, {joined} joined"
    );
    assert_eq!(
        index.stories().expect("stories"),
        plain.stories().expect("stories")
    );

    // A stored document previewed again matches itself and names its own story.
    let stored = &docs[10];
    let again = index.preview(stored).expect("preview");
    assert_eq!(again.matches[0].id, stored.id);
    assert_eq!(again.story, index.story_of(&stored.id).expect("story_of"));
    // An index opened only to read answers alike.
    index.commit().expect("commit");
    let reader = Index::open(&previewed).expect("open");
    assert_eq!(reader.preview(stored).expect("preview"), again);
    let _ = std::fs::remove_dir_all(&dir);
}
