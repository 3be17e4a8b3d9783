//! Python bindings: `storyhash.Index` (the persistent incremental index) and the batch
//! functions `cluster` and `dedup`, taking and returning plain Python types. Long calls
//! release the interpreter lock, so other Python threads run meanwhile.

use std::collections::HashMap;

mod kernels;

use pyo3::exceptions::{
    PyFileExistsError, PyFileNotFoundError, PyIsADirectoryError, PyOSError, PyPermissionError,
    PyValueError,
};
use pyo3::prelude::*;
use storyhash_core::doc::parse_published;
use storyhash_core::pipeline::{self, Overrides};
use storyhash_core::story::{
    self as story, cluster_stories_with, explain_pair, Background, BoilerplateLine, ExclusionLists,
    Granularity, StoryAnalysis, StoryLists,
};
use storyhash_core::{DocIndex, Document, KeepPolicy, Params, Preset};

/// The exception of a library error: OSError for a file that cannot be read or written,
/// ValueError for everything a caller passed (parameters, documents, ids, a damaged
/// index file). No input reaches a panic.
fn to_py_err(e: storyhash_core::Error) -> PyErr {
    match &e {
        storyhash_core::Error::Io { path, source } => {
            // The OSError subclass Python code catches (FileNotFoundError,
            // PermissionError, IsADirectoryError...), with errno, message and file name.
            let args = (
                source.raw_os_error().unwrap_or(0),
                e.to_string(),
                path.display().to_string(),
            );
            match source.kind() {
                std::io::ErrorKind::NotFound => PyFileNotFoundError::new_err(args),
                std::io::ErrorKind::PermissionDenied => PyPermissionError::new_err(args),
                std::io::ErrorKind::IsADirectory => PyIsADirectoryError::new_err(args),
                std::io::ErrorKind::AlreadyExists => PyFileExistsError::new_err(args),
                _ => PyOSError::new_err(args),
            }
        }
        _ => PyValueError::new_err(e.to_string()),
    }
}

/// Parameters a Python call may override, as the CLI's flags do.
#[derive(Default)]
struct Tuning<'a> {
    threshold: Option<f64>,
    keep: Option<&'a str>,
    num_perm: Option<usize>,
    shingle: Option<&'a str>,
    bands: Option<&'a str>,
    stopwords: Option<&'a str>,
    stem: Option<bool>,
    seed: Option<u64>,
}

impl<'a> Tuning<'a> {
    /// What `cluster` and `dedup` let a caller set.
    fn batch(threshold: Option<f64>, keep: &'a str) -> Self {
        Tuning {
            threshold,
            keep: Some(keep),
            ..Tuning::default()
        }
    }
}

fn params(preset: &str, tuning: Tuning<'_>) -> PyResult<Params> {
    let preset: Preset = preset.parse().map_err(PyValueError::new_err)?;
    let overrides = Overrides {
        threshold: tuning.threshold,
        keep: tuning
            .keep
            .map(str::parse::<KeepPolicy>)
            .transpose()
            .map_err(PyValueError::new_err)?,
        num_perm: tuning.num_perm,
        shingle: tuning
            .shingle
            .map(str::parse)
            .transpose()
            .map_err(PyValueError::new_err)?,
        bands: tuning
            .bands
            .map(str::parse)
            .transpose()
            .map_err(PyValueError::new_err)?,
        stopwords: tuning
            .stopwords
            .map(storyhash_core::stopwords::parse_languages)
            .transpose()
            .map_err(PyValueError::new_err)?,
        stem_arabic: tuning.stem,
        seed: tuning.seed,
        ..Overrides::default()
    };
    Params::with_overrides(preset, &overrides).map_err(to_py_err)
}

/// A document from a Python dict with `id` and `text`, optional `published`, `title` and
/// `url` (whose host is the source the story engine learns boilerplate lines per).
#[derive(FromPyObject)]
struct PyDoc {
    #[pyo3(item)]
    id: String,
    #[pyo3(item)]
    text: String,
    #[pyo3(item, default)]
    published: Option<String>,
    #[pyo3(item, default)]
    title: Option<String>,
    #[pyo3(item, default)]
    url: Option<String>,
}

impl From<PyDoc> for Document {
    fn from(d: PyDoc) -> Document {
        let mut doc = Document::new(d.id, d.text);
        doc.published = d.published;
        doc.title = d.title;
        doc.url = d.url;
        doc
    }
}

/// The documents of `cluster` and `dedup` from any iterable of dicts (a list, a
/// generator), refused as the CLI refuses them (ValueError naming the document): an
/// unreadable publication time, an id seen before, a text with nothing but whitespace.
fn batch_documents(docs: &Bound<'_, PyAny>) -> PyResult<Vec<Document>> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for item in docs.try_iter()? {
        let d: PyDoc = item?.extract()?;
        if let Some(Err(problem)) = d.published.as_deref().map(parse_published) {
            return Err(PyValueError::new_err(format!(
                "document {:?}: {problem}",
                d.id
            )));
        }
        if d.text.trim().is_empty() {
            return Err(PyValueError::new_err(format!(
                "document {:?}: empty text",
                d.id
            )));
        }
        if !seen.insert(d.id.clone()) {
            return Err(PyValueError::new_err(format!(
                "document {:?}: the id is used by an earlier document",
                d.id
            )));
        }
        out.push(Document::from(d));
    }
    Ok(out)
}

/// A document of `insert`, `insert_or_match` and `preview`: what a dict of
/// `insert_batch` gives, field by field.
fn document(
    id: String,
    text: String,
    published: Option<String>,
    title: Option<String>,
    url: Option<String>,
) -> Document {
    Document::from(PyDoc {
        id,
        text,
        published,
        title,
        url,
    })
}

/// A stored document similar to a query.
#[pyclass(frozen, get_all, skip_from_py_object, module = "storyhash")]
#[derive(Clone)]
struct Match {
    id: String,
    jaccard: f64,
    containment_of_query: f64,
    containment_of_stored: f64,
    cluster: String,
    headline: Option<String>,
}

#[pymethods]
impl Match {
    fn __repr__(&self) -> String {
        format!(
            "Match(id={:?}, jaccard={:.4}, cluster={:?})",
            self.id, self.jaccard, self.cluster
        )
    }
}

impl From<storyhash_core::Match> for Match {
    fn from(m: storyhash_core::Match) -> Match {
        Match {
            id: m.id,
            jaccard: m.jaccard,
            containment_of_query: m.containment_of_query,
            containment_of_stored: m.containment_of_stored,
            cluster: m.cluster,
            headline: m.headline,
        }
    }
}

/// What inserting a document found and did.
#[pyclass(frozen, get_all, skip_from_py_object, module = "storyhash")]
#[derive(Clone)]
struct Decision {
    id: String,
    matches: Vec<Match>,
    cluster: String,
    story: Option<String>,
    story_score: Option<f64>,
    story_headline: Option<String>,
    is_duplicate: bool,
}

#[pymethods]
impl Decision {
    fn __repr__(&self) -> String {
        format!(
            "Decision(id={:?}, is_duplicate={}, cluster={:?}, matches={})",
            self.id,
            if self.is_duplicate { "True" } else { "False" },
            self.cluster,
            self.matches.len()
        )
    }
}

impl From<storyhash_core::Decision> for Decision {
    fn from(d: storyhash_core::Decision) -> Decision {
        Decision {
            is_duplicate: d.is_duplicate(),
            id: d.id,
            cluster: d.cluster,
            story: d.story,
            story_score: d.story_score,
            story_headline: d.story_headline,
            matches: d.matches.into_iter().map(Match::from).collect(),
        }
    }
}

/// How a story-tracking index groups stories: its granularity ("story" or "event"),
/// threshold (mean cosine), time window in seconds, title weight, and the analysis its
/// terms are made by ("stems", or "words" for an index created before English stems,
/// which it keeps).
#[pyclass(frozen, get_all, skip_from_py_object, module = "storyhash")]
#[derive(Clone)]
struct StoryParams {
    granularity: String,
    threshold: f64,
    window_seconds: i64,
    title_weight: f64,
    analysis: String,
}

#[pymethods]
impl StoryParams {
    fn __repr__(&self) -> String {
        format!(
            "StoryParams(granularity={:?}, threshold={}, window_seconds={}, analysis={:?})",
            self.granularity, self.threshold, self.window_seconds, self.analysis
        )
    }
}

impl From<&storyhash_core::story::StoryParams> for StoryParams {
    fn from(p: &storyhash_core::story::StoryParams) -> StoryParams {
        StoryParams {
            granularity: p.granularity.to_string(),
            threshold: p.threshold,
            window_seconds: p.window_seconds,
            title_weight: p.title_weight,
            analysis: p.analysis.to_string(),
        }
    }
}

/// The persistent, incremental near-duplicate index.
#[pyclass(frozen, module = "storyhash")]
struct Index {
    inner: storyhash_core::Index,
}

impl Index {
    /// The stories of `stories` and `story_list`, their arguments checked as Python
    /// callers are told: ValueError for a time it cannot read or a size below 1. Listed
    /// without the GIL: naming a large index's stories reads every stored document's
    /// terms (seconds on 100,000), which other Python threads need not wait for.
    fn listed_stories(
        &self,
        py: Python<'_>,
        since: Option<&str>,
        min_size: i64,
    ) -> PyResult<Option<Vec<storyhash_core::index::IndexStory>>> {
        let (since, min_size) = listing_bounds(since, min_size)?;
        py.detach(|| self.inner.story_list(since, min_size))
            .map_err(to_py_err)
    }
}

/// A listing's `since` and `min_size` as Python callers are told to give them: a time in
/// any form `published` takes and a size of at least 1, else ValueError.
fn listing_bounds(since: Option<&str>, min_size: i64) -> PyResult<(Option<i64>, usize)> {
    let min_size = usize::try_from(min_size)
        .ok()
        .filter(|&n| n >= 1)
        .ok_or_else(|| {
            PyValueError::new_err(format!("min_size must be at least 1, got {min_size}"))
        })?;
    let since = since
        .map(|t| {
            storyhash_core::doc::parse_published(t)
                .map_err(|e| PyValueError::new_err(format!("since: {e}")))
        })
        .transpose()?;
    Ok((since, min_size))
}

/// Listed stories or clusters, each serialized as the CLI's JSON gives it, as Python
/// dicts.
fn listed_dicts(
    py: Python<'_>,
    listed: impl Iterator<Item = serde_json::Result<String>>,
) -> PyResult<Vec<Py<PyAny>>> {
    listed
        .map(|text| from_json(py, text.map_err(|e| PyValueError::new_err(e.to_string()))?))
        .collect()
}

#[pymethods]
impl Index {
    /// A new, empty index. `preset` and the keyword arguments set its parameters as the
    /// CLI's flags do (`num_perm`, `shingle` such as "word:5", `bands` such as "32x4",
    /// `stopwords` such as "ar,en", `stem`, `seed`); `stories`: None (no story
    /// tracking), "story" or "event"; with stories, `story_stopwords` (terms) and
    /// `story_boilerplate` (lines or sentences) every added document's story terms
    /// leave out, as the CLI's `--stopwords-file` and `--boilerplate-file`, and
    /// `background` (documents or a story-tracking `Index`) the document frequencies
    /// added to its own, as `index create --background`; kept by the index when saved.
    #[new]
    #[pyo3(signature = (preset = "dup", threshold = None, stories = None, *, num_perm = None,
                        shingle = None, bands = None, stopwords = None, stem = None, seed = None,
                        story_stopwords = None, story_boilerplate = None, background = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        preset: &str,
        threshold: Option<f64>,
        stories: Option<&str>,
        num_perm: Option<usize>,
        shingle: Option<&str>,
        bands: Option<&str>,
        stopwords: Option<&str>,
        stem: Option<bool>,
        seed: Option<u64>,
        story_stopwords: Option<Vec<String>>,
        story_boilerplate: Option<Vec<String>>,
        background: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Index> {
        let stories = stories
            .map(|g| {
                g.parse::<storyhash_core::story::Granularity>()
                    .map(|g| g.params())
            })
            .transpose()
            .map_err(PyValueError::new_err)?;
        let tuning = Tuning {
            threshold,
            num_perm,
            shingle,
            bands,
            stopwords,
            stem,
            seed,
            ..Tuning::default()
        };
        let lists = ExclusionLists {
            stopwords: story_stopwords.unwrap_or_default(),
            boilerplate_lines: story_boilerplate.unwrap_or_default(),
        };
        if background.is_some() && stories.is_none() {
            // Refused before an iterable of documents is read through.
            return Err(PyValueError::new_err(
                "background= weighs story terms: it needs story tracking (stories=)",
            ));
        }
        let analysis = stories.as_ref().map(|s| s.analysis).unwrap_or_default();
        let inner =
            storyhash_core::Index::with_story_lists(params(preset, tuning)?, stories, lists)
                .map_err(to_py_err)?;
        if let Some(background) = &background {
            let counts = background_of(background, analysis)?;
            let py = background.py();
            py.detach(|| inner.set_story_background(counts))
                .map_err(to_py_err)?;
        }
        Ok(Index { inner })
    }

    fn __repr__(&self) -> String {
        let p = self.inner.params();
        format!(
            "Index(documents={}, preset={:?}, threshold={}, shingle={:?})",
            self.inner.len(),
            p.preset.map_or("custom".to_owned(), |p| p.to_string()),
            p.threshold,
            p.shingle.to_string()
        )
    }

    /// Opens an index (a directory, or a single file of format 4 or 5). With
    /// `writer=True`, waits for and holds the directory's writer lock until the index is
    /// dropped (as the CLI's `index add` does), so no other process commits meanwhile.
    #[staticmethod]
    #[pyo3(signature = (path, writer = false))]
    fn open(py: Python<'_>, path: std::path::PathBuf, writer: bool) -> PyResult<Index> {
        let inner = py
            .detach(|| {
                if writer {
                    storyhash_core::Index::open_writer(&path, |_| {})
                } else {
                    storyhash_core::Index::open(&path)
                }
            })
            .map_err(to_py_err)?;
        Ok(Index { inner })
    }

    /// Writes the index: to the directory it was opened from, commits what changed
    /// (taking its writer lock for the commit); to a new path, writes a new index
    /// directory, which the index then belongs to. Crash-safe at every step.
    fn save(&self, py: Python<'_>, path: std::path::PathBuf) -> PyResult<()> {
        py.detach(|| self.inner.save(&path)).map_err(to_py_err)
    }

    /// Commits to the index's own directory.
    fn commit(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.inner.commit()).map_err(to_py_err)
    }

    /// Commits, storing the story tracker as it stands: the next writer or reader
    /// reads it instead of replaying the documents counted since it was last stored.
    /// ValueError for an index without story tracking.
    fn commit_story_tracker(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.inner.commit_story_tracker())
            .map_err(to_py_err)
    }

    /// Commits, then merges every segment into one and drops removed documents.
    fn compact(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.inner.compact()).map_err(to_py_err)
    }

    /// Reads and checks every byte of the committed segments; raises ValueError on
    /// damage.
    fn verify(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.inner.verify()).map_err(to_py_err)
    }

    /// The directory the index belongs to, or None for an index never saved.
    #[getter]
    fn path(&self) -> Option<std::path::PathBuf> {
        self.inner.path()
    }

    /// Stores a document and returns what it duplicates. `title` and `url` are as in a
    /// dict of `insert_batch`: a story-tracking index weighs the title's terms and keeps
    /// it as the headline `story_list` shows.
    #[pyo3(signature = (id, text, published = None, title = None, url = None))]
    fn insert_or_match(
        &self,
        py: Python<'_>,
        id: String,
        text: String,
        published: Option<String>,
        title: Option<String>,
        url: Option<String>,
    ) -> PyResult<Decision> {
        let doc = document(id, text, published, title, url);
        py.detach(|| self.inner.insert_or_match(&doc))
            .map(Decision::from)
            .map_err(to_py_err)
    }

    /// Same as `insert_or_match`.
    #[pyo3(signature = (id, text, published = None, title = None, url = None))]
    fn insert(
        &self,
        py: Python<'_>,
        id: String,
        text: String,
        published: Option<String>,
        title: Option<String>,
        url: Option<String>,
    ) -> PyResult<Decision> {
        self.insert_or_match(py, id, text, published, title, url)
    }

    /// What `insert` would answer for the document, storing nothing: the stored
    /// documents it duplicates, the cluster it would be in and, in a story-tracking
    /// index, the story it would join and the score. The id need not be new.
    #[pyo3(signature = (id, text, published = None, title = None, url = None))]
    fn preview(
        &self,
        py: Python<'_>,
        id: String,
        text: String,
        published: Option<String>,
        title: Option<String>,
        url: Option<String>,
    ) -> PyResult<Decision> {
        let doc = document(id, text, published, title, url);
        py.detach(|| self.inner.preview(&doc))
            .map(Decision::from)
            .map_err(to_py_err)
    }

    /// Stored documents similar to `text`, most similar first; the index is unchanged.
    /// `threshold` keeps only matches at least that similar (above the index's own
    /// threshold, which decides what is a match at all); `top_k` keeps the first k.
    #[pyo3(signature = (text, threshold = None, top_k = None))]
    fn query(
        &self,
        py: Python<'_>,
        text: String,
        threshold: Option<f64>,
        top_k: Option<usize>,
    ) -> PyResult<Vec<Match>> {
        if let Some(t) = threshold.filter(|t| !(0.0..=1.0).contains(t)) {
            return Err(PyValueError::new_err(format!(
                "threshold must be in [0, 1], got {t}"
            )));
        }
        let doc = Document::new("query", text);
        Ok(py
            .detach(|| self.inner.query(&doc))
            .map_err(to_py_err)?
            .into_iter()
            .filter(|m| threshold.is_none_or(|t| m.jaccard >= t))
            .take(top_k.unwrap_or(usize::MAX))
            .map(Match::from)
            .collect())
    }

    /// Inserts many documents (dicts with `id`, `text`, optional `published`), using
    /// every core. All or nothing: an id already stored or repeated in the batch, or an
    /// unreadable date, raises ValueError and stores none of the batch.
    fn insert_batch(&self, py: Python<'_>, docs: &Bound<'_, PyAny>) -> PyResult<Vec<Decision>> {
        let docs: Vec<Document> = docs
            .try_iter()?
            .map(|item| Ok(Document::from(item?.extract::<PyDoc>()?)))
            .collect::<PyResult<_>>()?;
        py.detach(|| self.inner.insert_all(&docs))
            .map(|decisions| decisions.into_iter().map(Decision::from).collect())
            .map_err(to_py_err)
    }

    /// Queries many texts, using every core.
    fn query_batch(&self, py: Python<'_>, texts: Vec<String>) -> PyResult<Vec<Vec<Match>>> {
        let docs: Vec<Document> = texts
            .into_iter()
            .enumerate()
            .map(|(i, t)| Document::new(format!("query-{i}"), t))
            .collect();
        Ok(py
            .detach(|| self.inner.query_batch(&docs))
            .map_err(to_py_err)?
            .into_iter()
            .map(|ms| ms.into_iter().map(Match::from).collect())
            .collect())
    }

    /// Removes a document by id.
    fn remove(&self, py: Python<'_>, id: &str) -> PyResult<()> {
        py.detach(|| self.inner.remove(id)).map_err(to_py_err)
    }

    /// Drops documents published more than `seconds` before the newest one; a
    /// negative window raises ValueError.
    fn evict_window(&self, py: Python<'_>, seconds: i64) -> PyResult<usize> {
        py.detach(|| self.inner.evict_window(seconds))
            .map_err(to_py_err)
    }

    /// The story parameters, or None when the index does not track stories.
    fn story_params(&self) -> Option<StoryParams> {
        self.inner.story_params().map(StoryParams::from)
    }

    /// The terms the story terms leave out, as last given.
    #[getter]
    fn story_stopwords(&self) -> Vec<String> {
        self.inner.story_lists().stopwords
    }

    /// The lines or sentences the story terms leave out, as last given.
    #[getter]
    fn story_boilerplate(&self) -> Vec<String> {
        self.inner.story_lists().boilerplate_lines
    }

    /// Replaces the story stopwords and boilerplate lines (a list not given is kept):
    /// documents added from now on leave them out; stored documents keep their terms.
    /// The next save or commit keeps them. Raises ValueError on an index without story
    /// tracking.
    #[pyo3(signature = (*, stopwords = None, boilerplate = None))]
    fn set_story_lists(
        &self,
        stopwords: Option<Vec<String>>,
        boilerplate: Option<Vec<String>>,
    ) -> PyResult<()> {
        let mut lists = self.inner.story_lists();
        if let Some(stopwords) = stopwords {
            lists.stopwords = stopwords;
        }
        if let Some(boilerplate) = boilerplate {
            lists.boilerplate_lines = boilerplate;
        }
        self.inner.set_story_lists(lists).map_err(to_py_err)
    }

    /// Learns boilerplate lines from `docs` (dicts as for `insert_batch`) as `stories`
    /// does, counting them with every batch learned before (the index keeps per-site
    /// counts, written at commit), and adds those not yet listed to the story
    /// boilerplate list: give each batch once, before inserting it, and the batch and
    /// every later document leave them out. Returns the lines added, as
    /// `boilerplate_lines` gives them. Raises ValueError on an index without story
    /// tracking.
    fn learn_story_lines(
        &self,
        py: Python<'_>,
        docs: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<Py<PyAny>>> {
        let docs = batch_documents(docs)?;
        let lines = py
            .detach(|| self.inner.learn_story_lines(&docs))
            .map_err(to_py_err)?;
        lines.iter().map(|line| line_dict(py, line)).collect()
    }

    /// The story of a stored document (named by its first document), or None.
    fn story_of(&self, id: &str) -> PyResult<Option<String>> {
        self.inner.story_of(id).map_err(to_py_err)
    }

    /// The cluster of a stored document, or None.
    fn cluster_of(&self, id: &str) -> PyResult<Option<String>> {
        self.inner.cluster_of(id).map_err(to_py_err)
    }

    /// Clusters of two or more: {cluster name: [member ids]}.
    fn clusters(&self, py: Python<'_>) -> PyResult<HashMap<String, Vec<String>>> {
        let clusters = py.detach(|| self.inner.clusters()).map_err(to_py_err)?;
        Ok(clusters.into_iter().collect())
    }

    /// Every story of at least `min_size` documents as (story name, member ids in
    /// insertion order), largest first; with `since` (a time, in any form `published`
    /// takes), only those with a member published at or after it. None when the index
    /// does not track stories; ValueError for a time it cannot read or a size below 1.
    #[pyo3(signature = (since = None, min_size = 2))]
    fn stories(
        &self,
        py: Python<'_>,
        since: Option<&str>,
        min_size: i64,
    ) -> PyResult<Option<storyhash_core::index::NamedGroups>> {
        let listed = self.listed_stories(py, since, min_size)?;
        Ok(listed.map(|stories| stories.into_iter().map(|s| (s.story, s.members)).collect()))
    }

    /// The stories `stories` lists, each a dict as `storyhash index stories --format
    /// json` prints it: `story`, `size`, `headline`, `top_terms`, `members`,
    /// `published` (each member's time, RFC 3339, None where it gave none), `headlines`
    /// (each member's title or first line, None where the index kept none), `clusters`
    /// (each member's near-duplicate cluster: its own id unless it is a copy or near
    /// copy of an earlier document), `first_published` and `last_published`. None when
    /// the index does not track stories.
    #[pyo3(signature = (since = None, min_size = 2))]
    fn story_list(
        &self,
        py: Python<'_>,
        since: Option<&str>,
        min_size: i64,
    ) -> PyResult<Option<Vec<Py<PyAny>>>> {
        let Some(listed) = self.listed_stories(py, since, min_size)? else {
            return Ok(None);
        };
        listed_dicts(py, listed.iter().map(serde_json::to_string)).map(Some)
    }

    /// The clusters of at least `min_size` documents (1: every document), largest first;
    /// with `since` (a time, in any form `published` takes), only those with a member
    /// published at or after it. Each a dict as `storyhash index clusters --format json`
    /// prints it: `cluster`, `size`, `headline`, `min_jaccard`, `members`, `published`
    /// (each member's time, RFC 3339, None where it gave none), `headlines` (None where
    /// the index kept none: only story-tracking indexes keep them), `matched` (per
    /// member, the member it matched best on arriving as a dict of `member`, `jaccard`
    /// and `copy`, or None), `first_published` and `last_published`. ValueError for a
    /// time it cannot read or a size below 1.
    #[pyo3(signature = (since = None, min_size = 2))]
    fn cluster_list(
        &self,
        py: Python<'_>,
        since: Option<&str>,
        min_size: i64,
    ) -> PyResult<Vec<Py<PyAny>>> {
        let (since, min_size) = listing_bounds(since, min_size)?;
        let listed = py
            .detach(|| self.inner.cluster_list(since, min_size))
            .map_err(to_py_err)?;
        listed_dicts(py, listed.iter().map(serde_json::to_string))
    }

    /// Counts: documents, multi_member_clusters, clustered_documents, shingles, links,
    /// segments (committed), uncommitted (documents inserted since the last commit); with
    /// story tracking also stories, multi_document_stories, largest_story,
    /// story_background_documents (0 when it was given no background) and
    /// story_tracker_documents (0 when no story tracker is stored).
    fn stats(&self, py: Python<'_>) -> PyResult<HashMap<String, usize>> {
        let s = py.detach(|| self.inner.stats()).map_err(to_py_err)?;
        let mut stats = HashMap::from([
            ("documents".to_string(), s.documents),
            ("multi_member_clusters".to_string(), s.multi_member_clusters),
            ("clustered_documents".to_string(), s.clustered_documents),
            ("shingles".to_string(), s.shingles),
            ("links".to_string(), s.links),
            ("segments".to_string(), s.segments),
            ("uncommitted".to_string(), s.uncommitted),
        ]);
        if let Some(counts) = s.story_counts {
            stats.insert("stories".to_string(), counts.stories);
            stats.insert(
                "multi_document_stories".to_string(),
                counts.multi_document_stories,
            );
            stats.insert("largest_story".to_string(), counts.largest);
            stats.insert(
                "story_background_documents".to_string(),
                s.story_background_documents as usize,
            );
            stats.insert(
                "story_tracker_documents".to_string(),
                s.story_tracker_documents as usize,
            );
        }
        Ok(stats)
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __contains__(&self, id: &str) -> PyResult<bool> {
        Ok(self.inner.cluster_of(id).map_err(to_py_err)?.is_some())
    }
}

/// A cluster of documents: its members (ids, representative first, then input order),
/// the representative, and each member's exact Jaccard similarity to it. A story (from
/// `stories`, or `cluster` with the story preset) lists its groups of copies in the
/// order they joined, founding group first, and gives each member its group's mean
/// cosine to the story's members when the group joined (1 for the founding group).
/// Iterating it gives the member ids.
#[pyclass(frozen, get_all, skip_from_py_object, module = "storyhash")]
#[derive(Clone)]
struct Cluster {
    members: Vec<String>,
    representative: String,
    similarities: HashMap<String, f64>,
}

#[pymethods]
impl Cluster {
    fn __len__(&self) -> usize {
        self.members.len()
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let members = pyo3::types::PyList::new(py, &slf.members)?;
        Ok(members.try_iter()?.into_any().unbind())
    }

    fn __repr__(&self) -> String {
        format!(
            "Cluster(size={}, representative={:?})",
            self.members.len(),
            self.representative
        )
    }
}

/// Clusters documents (an iterable of dicts with `id` and `text`, optional `published`
/// and `title`); returns Cluster objects, largest first, every document in exactly one.
/// With `preset="story"` the documents are grouped by the story engine, as `storyhash
/// cluster --preset story` does: `stories(docs, "story", threshold, keep)`.
#[pyfunction]
#[pyo3(signature = (docs, preset = "dup", threshold = None, keep = "first"))]
fn cluster(
    py: Python<'_>,
    docs: &Bound<'_, PyAny>,
    preset: &str,
    threshold: Option<f64>,
    keep: &str,
) -> PyResult<Vec<Cluster>> {
    if preset.parse::<Preset>().map_err(PyValueError::new_err)? == Preset::Story {
        return stories(
            py, docs, "story", threshold, keep, None, None, None, None, "stems",
        );
    }
    let params = params(preset, Tuning::batch(threshold, keep))?;
    let docs = batch_documents(docs)?;
    let result = py
        .detach(|| pipeline::run(&docs, &params))
        .map_err(to_py_err)?;
    Ok(result
        .clusters
        .iter()
        .map(|c| {
            let rep = c.representative;
            let mut members = vec![docs[rep as usize].id.clone()];
            members.extend(
                c.members
                    .iter()
                    .filter(|&&m| m != rep)
                    .map(|&m| docs[m as usize].id.clone()),
            );
            Cluster {
                similarities: c
                    .members
                    .iter()
                    .map(|&m| (docs[m as usize].id.clone(), result.similarity(m, rep)))
                    .collect(),
                representative: docs[rep as usize].id.clone(),
                members,
            }
        })
        .collect())
}

/// The keywords `stories` and `explain_story` share, besides the documents.
struct StoryKeywords<'py> {
    granularity: &'py str,
    threshold: Option<f64>,
    keep: &'py str,
    window_seconds: Option<i64>,
    stopwords: Option<Vec<String>>,
    boilerplate: Option<Vec<String>>,
    background: Option<Bound<'py, PyAny>>,
    analysis: &'py str,
}

impl StoryKeywords<'_> {
    /// The story parameters, representative policy and lists they give.
    fn setup(self) -> PyResult<(storyhash_core::story::StoryParams, KeepPolicy, StoryLists)> {
        let granularity: Granularity = self.granularity.parse().map_err(PyValueError::new_err)?;
        let mut params = granularity.params();
        if let Some(t) = self.threshold {
            params.threshold = t;
        }
        if let Some(w) = self.window_seconds {
            params.window_seconds = w;
        }
        params.analysis = self.analysis.parse().map_err(PyValueError::new_err)?;
        let keep: KeepPolicy = self.keep.parse().map_err(PyValueError::new_err)?;
        let lists = StoryLists {
            stopwords: self.stopwords.unwrap_or_default(),
            boilerplate_lines: self.boilerplate.unwrap_or_default(),
            background: match &self.background {
                Some(background) => background_of(background, params.analysis)?,
                None => Background::with_analysis(params.analysis),
            },
        };
        Ok((params, keep, lists))
    }
}

/// Documents counted in a background at a time: one block of text held, however many
/// an iterable yields.
const BACKGROUND_BLOCK: usize = 4096;

/// The document frequencies of `--background`: a story-tracking `Index`'s counts, or
/// those of documents (dicts as `cluster` takes them; their title and text are counted,
/// a blank text is skipped as the CLI skips such a record), of terms by `analysis`.
fn background_of(value: &Bound<'_, PyAny>, analysis: StoryAnalysis) -> PyResult<Background> {
    let py = value.py();
    let mut background = Background::with_analysis(analysis);
    if let Ok(index) = value.cast::<Index>() {
        let index = &index.get().inner;
        let counts = py.detach(|| index.story_background()).map_err(to_py_err)?;
        let counts = counts.ok_or_else(|| {
            PyValueError::new_err(
                "background: this index does not track stories, so it counts no story \
                 terms (an index created with stories= does)",
            )
        })?;
        background.merge(&counts).map_err(to_py_err)?;
        return Ok(background);
    }
    let mut block: Vec<Document> = Vec::with_capacity(BACKGROUND_BLOCK);
    for item in value.try_iter()? {
        let d: PyDoc = item?.extract()?;
        if d.text.trim().is_empty() {
            continue;
        }
        block.push(Document::from(d));
        if block.len() == BACKGROUND_BLOCK {
            py.detach(|| background.add_documents(&block));
            block.clear();
        }
    }
    py.detach(|| background.add_documents(&block));
    Ok(background)
}

/// Why documents `a` and `b` (ids) are in one story or not, as `storyhash explain
/// --granularity` says: groups `docs` as `stories` does (the same keywords) and returns
/// the explanation as a dict (the fields of `explain --granularity --format json`).
#[pyfunction]
#[pyo3(signature = (docs, a, b, granularity = "story", threshold = None, keep = "first", *,
                    window_seconds = None, stopwords = None, boilerplate = None,
                    background = None, analysis = "stems"))]
#[allow(clippy::too_many_arguments)]
fn explain_story<'py>(
    py: Python<'py>,
    docs: &Bound<'py, PyAny>,
    a: &str,
    b: &str,
    granularity: &'py str,
    threshold: Option<f64>,
    keep: &'py str,
    window_seconds: Option<i64>,
    stopwords: Option<Vec<String>>,
    boilerplate: Option<Vec<String>>,
    background: Option<Bound<'py, PyAny>>,
    analysis: &'py str,
) -> PyResult<Py<PyAny>> {
    // The documents are checked before a background is counted: a bad one is reported
    // without first reading the whole background.
    let docs = batch_documents(docs)?;
    let (params, keep, lists) = StoryKeywords {
        granularity,
        threshold,
        keep,
        window_seconds,
        stopwords,
        boilerplate,
        background,
        analysis,
    }
    .setup()?;
    let position = |id: &str| {
        docs.iter()
            .position(|d| d.id == id)
            .and_then(|d| DocIndex::try_from(d).ok())
            .ok_or_else(|| PyValueError::new_err(format!("no document with id {id:?}")))
    };
    let (a, b) = (position(a)?, position(b)?);
    let explanation = py
        .detach(|| explain_pair(&docs, a, b, &params, keep, &lists))
        .map_err(to_py_err)?;
    let text =
        serde_json::to_string(&explanation).map_err(|e| PyValueError::new_err(e.to_string()))?;
    from_json(py, text)
}

/// JSON text as the Python value `json.loads` makes of it.
fn from_json(py: Python<'_>, text: String) -> PyResult<Py<PyAny>> {
    let json = pyo3::types::PyModule::import(py, "json")?;
    Ok(json.call_method1("loads", (text,))?.unbind())
}

/// Groups documents (as `cluster` takes them) into stories, as `storyhash stories`
/// does: `granularity` "story" (a topic thread, 7 days) or "event" (one happening, 2
/// days); `threshold` (mean cosine), `keep` and `window_seconds` override the
/// granularity's; `stopwords` and `boilerplate` (lines or sentences) are the lists of
/// `--stopwords-file` and `--boilerplate-file`, `background` (documents or a
/// story-tracking `Index`) is `--background` and `analysis` is `--analysis`. Returns one
/// Cluster per story, largest first, every document in exactly one.
#[pyfunction]
#[pyo3(signature = (docs, granularity = "story", threshold = None, keep = "first", *,
                    window_seconds = None, stopwords = None, boilerplate = None,
                    background = None, analysis = "stems"))]
#[allow(clippy::too_many_arguments)]
fn stories<'py>(
    py: Python<'py>,
    docs: &Bound<'py, PyAny>,
    granularity: &'py str,
    threshold: Option<f64>,
    keep: &'py str,
    window_seconds: Option<i64>,
    stopwords: Option<Vec<String>>,
    boilerplate: Option<Vec<String>>,
    background: Option<Bound<'py, PyAny>>,
    analysis: &'py str,
) -> PyResult<Vec<Cluster>> {
    // The documents are checked before a background is counted: a bad one is reported
    // without first reading the whole background.
    let docs = batch_documents(docs)?;
    let (params, keep, lists) = StoryKeywords {
        granularity,
        threshold,
        keep,
        window_seconds,
        stopwords,
        boilerplate,
        background,
        analysis,
    }
    .setup()?;
    let clustering = py
        .detach(|| cluster_stories_with(&docs, &params, keep, &lists))
        .map_err(to_py_err)?;
    let id = |d: &DocIndex| docs[*d as usize].id.clone();
    Ok(clustering
        .stories
        .iter()
        .map(|story| {
            let mut members = Vec::with_capacity(story.len());
            let mut similarities = HashMap::with_capacity(story.len());
            for (group, &score) in story.groups.iter().zip(&story.attached_with) {
                for d in group {
                    members.push(id(d));
                    similarities.insert(id(d), score);
                }
            }
            Cluster {
                representative: members.first().cloned().unwrap_or_default(),
                members,
                similarities,
            }
        })
        .collect())
}

/// The lines and sentences `stories` leaves out of `docs`' story terms, as `storyhash
/// stories --save-boilerplate` writes them: those of `boilerplate` found, then those
/// learned (repeated on more than a fifth of one site's pages, by the host of `url`),
/// each a dict of `source`, `line`, `share` and `listed`, most widespread first. For
/// `Index.set_story_lists(boilerplate=[l["line"] for l in lines])`.
#[pyfunction]
#[pyo3(signature = (docs, *, boilerplate = None))]
fn boilerplate_lines(
    py: Python<'_>,
    docs: &Bound<'_, PyAny>,
    boilerplate: Option<Vec<String>>,
) -> PyResult<Vec<Py<PyAny>>> {
    let lists = StoryLists {
        boilerplate_lines: boilerplate.unwrap_or_default(),
        ..StoryLists::default()
    };
    let docs = batch_documents(docs)?;
    let lines = py
        .detach(|| story::boilerplate_lines(&docs, StoryAnalysis::default(), &lists))
        .map_err(to_py_err)?;
    lines.iter().map(|line| line_dict(py, line)).collect()
}

/// The article of a news page, as the CLI reads `.html` files and records holding pages:
/// a dict of `text` (the main text, paragraphs separated by blank lines), `title`,
/// `published` (as the page writes it) and `url`, each None where the page states none.
/// `url` is the address the page was fetched from: it dates a page stating no time of its
/// own when it holds a date (`/2024/03/05/`), and is the address of a page stating none.
/// Never raises: a page without a recognisable article gives its body's text.
#[pyfunction]
#[pyo3(signature = (html, url = None))]
fn extract_article(py: Python<'_>, html: String, url: Option<String>) -> PyResult<Py<PyAny>> {
    let article =
        py.detach(|| storyhash_core::extract::extract_article_from(&html, url.as_deref()));
    let dict = pyo3::types::PyDict::new(py);
    dict.set_item("text", article.text)?;
    dict.set_item("title", article.title)?;
    dict.set_item("published", article.published)?;
    dict.set_item("url", article.url)?;
    Ok(dict.into_any().unbind())
}

/// A boilerplate line as a dict of `source`, `line`, `share` and `listed`.
fn line_dict(py: Python<'_>, line: &BoilerplateLine) -> PyResult<Py<PyAny>> {
    let dict = pyo3::types::PyDict::new(py);
    dict.set_item("source", &line.source)?;
    dict.set_item("line", &line.line)?;
    dict.set_item("share", line.share)?;
    dict.set_item("listed", line.listed)?;
    Ok(dict.into_any().unbind())
}

/// Removes near-duplicates.
///
/// Given documents (an iterable of dicts), returns (kept ids in input order, {removed id:
/// (kept id, exact Jaccard)}). Given a path (a JSONL or text file, or a directory, as
/// the CLI reads them), deduplicates it as `storyhash dedup` does, streaming with bounded
/// memory: `output` receives the kept records unchanged, `removed` and `clusters` the
/// lists the CLI writes, each atomically; returns the run's summary as a dict. `fields`
/// names the record fields read (keys `id`, `text`, `title`, `url`, `published`, as the
/// CLI's `--id-field` … `--published-field`).
#[pyfunction]
#[pyo3(signature = (docs, preset = "dup", threshold = None, keep = "first", *, output = None,
                    removed = None, clusters = None, fields = None))]
#[allow(clippy::too_many_arguments)]
fn dedup(
    py: Python<'_>,
    docs: &Bound<'_, PyAny>,
    preset: &str,
    threshold: Option<f64>,
    keep: &str,
    output: Option<std::path::PathBuf>,
    removed: Option<std::path::PathBuf>,
    clusters: Option<std::path::PathBuf>,
    fields: Option<HashMap<String, String>>,
) -> PyResult<Py<PyAny>> {
    let params = params(preset, Tuning::batch(threshold, keep))?;
    if let Ok(path) = docs.extract::<std::path::PathBuf>() {
        let read = read_options(fields.unwrap_or_default())?;
        let summary = py.detach(|| dedup_file(&path, params, read, [output, removed, clusters]))?;
        return from_json(py, summary);
    }
    if output.is_some() || removed.is_some() || clusters.is_some() || fields.is_some() {
        return Err(PyValueError::new_err(
            "output, removed, clusters and fields are for a file or directory given by its \
             path",
        ));
    }
    let docs = batch_documents(docs)?;
    let result = py
        .detach(|| pipeline::run(&docs, &params))
        .map_err(to_py_err)?;
    let mut kept = Vec::new();
    let mut gone = HashMap::new();
    for (i, k) in (0..).zip(result.kept_of()) {
        if i == k {
            kept.push(docs[i as usize].id.clone());
        } else {
            let j = result.similarity(i, k);
            gone.insert(
                docs[i as usize].id.clone(),
                (docs[k as usize].id.clone(), j),
            );
        }
    }
    Ok((kept, gone).into_pyobject(py)?.into_any().unbind())
}

/// How files are read, with the field names `fields` gives by what they hold.
fn read_options(fields: HashMap<String, String>) -> PyResult<storyhash_core::input::ReadOptions> {
    let mut read = storyhash_core::input::ReadOptions::default();
    for (field, name) in fields {
        let slot = match field.as_str() {
            "id" => &mut read.id_field,
            "text" => &mut read.text_field,
            "title" => &mut read.title_field,
            "url" => &mut read.url_field,
            "published" => &mut read.published_field,
            _ => {
                return Err(PyValueError::new_err(format!(
                    "fields: unknown field {field:?} (known: id, text, title, url, published)"
                )))
            }
        };
        *slot = name;
    }
    Ok(read)
}

/// `dedup` of a file or directory: the streaming engine, its outputs written atomically;
/// the summary as JSON text.
fn dedup_file(
    path: &std::path::Path,
    params: Params,
    read: storyhash_core::input::ReadOptions,
    [output, removed, clusters]: [Option<std::path::PathBuf>; 3],
) -> PyResult<String> {
    use storyhash_core::dedup::{DedupOptions, DedupOutputs, KeptFormat, OutputNames};
    use storyhash_core::input::{resolve_sources, Source};
    use storyhash_core::output::{
        check_destination, is_parquet_path, refuse_shared_destinations, AtomicFile, ListFile,
    };
    use storyhash_core::tables::Table;
    let named: Vec<(&str, &std::path::Path)> = [
        ("output", &output),
        ("removed", &removed),
        ("clusters", &clusters),
    ]
    .into_iter()
    .filter_map(|(name, p)| Some((name, p.as_deref()?)))
    .collect();
    refuse_shared_destinations(named.iter().copied()).map_err(to_py_err)?;
    for (_, p) in &named {
        check_destination(p).map_err(to_py_err)?;
    }
    let files =
        resolve_sources(&[Source::Path(path.to_path_buf())], &mut Vec::new()).map_err(to_py_err)?;
    let options = DedupOptions {
        memory_limit: storyhash_core::dedup::available_memory(),
        ..DedupOptions::new(params, read)
    };
    let mut kept = output
        .as_ref()
        .map(AtomicFile::create)
        .transpose()
        .map_err(to_py_err)?;
    // The lists are Parquet when their names end in .parquet, as the CLI's are.
    let list = |p: &Option<std::path::PathBuf>, table| {
        p.as_ref()
            .map(|p| ListFile::create(p, table))
            .transpose()
            .map_err(to_py_err)
    };
    let (mut gone, mut groups) = (
        list(&removed, Table::Removed)?,
        list(&clusters, Table::Clusters)?,
    );
    let name = |p: &Option<std::path::PathBuf>| p.clone().unwrap_or_default();
    let outputs = DedupOutputs {
        kept: kept
            .as_mut()
            .map(|f| f.writer() as &mut (dyn std::io::Write + Send)),
        removed: gone.as_mut().map(ListFile::writer),
        clusters: groups.as_mut().map(ListFile::writer),
        pairs: None,
        bands: None,
        kept_format: match &output {
            Some(p) if is_parquet_path(p) => KeptFormat::Parquet,
            _ => KeptFormat::JsonLines,
        },
        names: OutputNames {
            kept: name(&output),
            removed: name(&removed),
            clusters: name(&clusters),
            ..OutputNames::default()
        },
    };
    let summary = storyhash_core::dedup::dedup(files, &options, outputs, &mut |_| {}, &mut |_| {})
        .map_err(to_py_err)?;
    if let Some(file) = kept {
        file.commit().map_err(to_py_err)?;
    }
    for list in [gone, groups].into_iter().flatten() {
        list.commit().map_err(to_py_err)?;
    }
    serde_json::to_string(&summary).map_err(|e| PyValueError::new_err(e.to_string()))
}

#[pymodule]
#[pyo3(name = "_storyhash")]
fn storyhash(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Index>()?;
    m.add_class::<Match>()?;
    m.add_class::<Decision>()?;
    m.add_class::<StoryParams>()?;
    m.add_class::<Cluster>()?;
    m.add_class::<kernels::Signer>()?;
    m.add_function(wrap_pyfunction!(cluster, m)?)?;
    m.add_function(wrap_pyfunction!(stories, m)?)?;
    m.add_function(wrap_pyfunction!(boilerplate_lines, m)?)?;
    m.add_function(wrap_pyfunction!(explain_story, m)?)?;
    m.add_function(wrap_pyfunction!(dedup, m)?)?;
    m.add_function(wrap_pyfunction!(extract_article, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
