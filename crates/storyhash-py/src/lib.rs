//! Python bindings: `storyhash.Index` (the persistent incremental index) and the batch
//! functions `cluster` and `dedup`, taking and returning plain Python types. Long calls
//! release the interpreter lock, so other Python threads run meanwhile.

use std::collections::HashMap;

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use storyhash_core::doc::parse_published;
use storyhash_core::pipeline::{self, Overrides};
use storyhash_core::{Document, KeepPolicy, Params, Preset};

/// The exception of a library error: OSError for a file that cannot be read or written,
/// ValueError for everything a caller passed (parameters, documents, ids, a damaged
/// index file). No input reaches a panic.
fn to_py_err(e: storyhash_core::Error) -> PyErr {
    match e {
        storyhash_core::Error::Io { .. } => PyOSError::new_err(e.to_string()),
        _ => PyValueError::new_err(e.to_string()),
    }
}

fn params(preset: &str, threshold: Option<f64>, keep: Option<&str>) -> PyResult<Params> {
    let preset: Preset = preset.parse().map_err(PyValueError::new_err)?;
    let overrides = Overrides {
        threshold,
        keep: keep
            .map(str::parse::<KeepPolicy>)
            .transpose()
            .map_err(PyValueError::new_err)?,
        ..Overrides::default()
    };
    Params::with_overrides(preset, &overrides).map_err(to_py_err)
}

/// A document from a Python dict with `id` and `text`, optional `published` and `title`.
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
}

impl From<PyDoc> for Document {
    fn from(d: PyDoc) -> Document {
        let mut doc = Document::new(d.id, d.text);
        doc.published = d.published;
        doc.title = d.title;
        doc
    }
}

/// The documents of `cluster` and `dedup`, refusing an unreadable publication time
/// (ValueError naming the document) rather than treating the document as undated.
fn batch_documents(docs: Vec<PyDoc>) -> PyResult<Vec<Document>> {
    docs.into_iter()
        .map(|d| {
            if let Some(Err(problem)) = d.published.as_deref().map(parse_published) {
                return Err(PyValueError::new_err(format!(
                    "document {:?}: {problem}",
                    d.id
                )));
            }
            Ok(Document::from(d))
        })
        .collect()
}

fn document(id: String, text: String, published: Option<String>) -> Document {
    let mut doc = Document::new(id, text);
    doc.published = published;
    doc
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
            matches: d.matches.into_iter().map(Match::from).collect(),
        }
    }
}

/// The persistent, incremental near-duplicate index.
#[pyclass(frozen, module = "storyhash")]
struct Index {
    inner: storyhash_core::Index,
}

#[pymethods]
impl Index {
    /// `stories`: None (no story tracking), "story" or "event".
    #[new]
    #[pyo3(signature = (preset = "dup", threshold = None, stories = None))]
    fn new(preset: &str, threshold: Option<f64>, stories: Option<&str>) -> PyResult<Index> {
        let stories = stories
            .map(|g| {
                g.parse::<storyhash_core::story::Granularity>()
                    .map(|g| g.params())
            })
            .transpose()
            .map_err(PyValueError::new_err)?;
        let inner = storyhash_core::Index::with_stories(params(preset, threshold, None)?, stories)
            .map_err(to_py_err)?;
        Ok(Index { inner })
    }

    /// Opens an index file.
    #[staticmethod]
    fn open(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Index> {
        let inner = py
            .detach(|| storyhash_core::Index::open(&path))
            .map_err(to_py_err)?;
        Ok(Index { inner })
    }

    /// Saves atomically.
    fn save(&self, py: Python<'_>, path: std::path::PathBuf) -> PyResult<()> {
        py.detach(|| self.inner.save(&path)).map_err(to_py_err)
    }

    /// Stores a document and returns what it duplicates.
    #[pyo3(signature = (id, text, published = None))]
    fn insert_or_match(
        &self,
        py: Python<'_>,
        id: String,
        text: String,
        published: Option<String>,
    ) -> PyResult<Decision> {
        let doc = document(id, text, published);
        py.detach(|| self.inner.insert_or_match(&doc))
            .map(Decision::from)
            .map_err(to_py_err)
    }

    /// Same as `insert_or_match`.
    #[pyo3(signature = (id, text, published = None))]
    fn insert(
        &self,
        py: Python<'_>,
        id: String,
        text: String,
        published: Option<String>,
    ) -> PyResult<Decision> {
        self.insert_or_match(py, id, text, published)
    }

    /// Stored documents similar to `text`, most similar first; the index is unchanged.
    fn query(&self, py: Python<'_>, text: String) -> Vec<Match> {
        let doc = Document::new("query", text);
        py.detach(|| self.inner.query(&doc))
            .into_iter()
            .map(Match::from)
            .collect()
    }

    /// Inserts many documents (dicts with `id`, `text`, optional `published`), using
    /// every core. All or nothing: an id already stored or repeated in the batch, or an
    /// unreadable date, raises ValueError and stores none of the batch.
    fn insert_batch(&self, py: Python<'_>, docs: Vec<PyDoc>) -> PyResult<Vec<Decision>> {
        let docs: Vec<Document> = docs.into_iter().map(Document::from).collect();
        py.detach(|| self.inner.insert_all(&docs))
            .map(|decisions| decisions.into_iter().map(Decision::from).collect())
            .map_err(to_py_err)
    }

    /// Queries many texts, using every core.
    fn query_batch(&self, py: Python<'_>, texts: Vec<String>) -> Vec<Vec<Match>> {
        let docs: Vec<Document> = texts
            .into_iter()
            .enumerate()
            .map(|(i, t)| Document::new(format!("query-{i}"), t))
            .collect();
        py.detach(|| self.inner.query_batch(&docs))
            .into_iter()
            .map(|ms| ms.into_iter().map(Match::from).collect())
            .collect()
    }

    /// Removes a document by id.
    fn remove(&self, id: &str) -> PyResult<()> {
        self.inner.remove(id).map_err(to_py_err)
    }

    /// Drops documents published more than `seconds` before the newest one; a
    /// negative window raises ValueError.
    fn evict_window(&self, seconds: i64) -> PyResult<usize> {
        self.inner.evict_window(seconds).map_err(to_py_err)
    }

    /// The story of a stored document (named by its first document), or None.
    fn story_of(&self, id: &str) -> Option<String> {
        self.inner.story_of(id)
    }

    /// The cluster of a stored document, or None.
    fn cluster_of(&self, id: &str) -> Option<String> {
        self.inner.cluster_of(id)
    }

    /// Clusters of two or more: {cluster name: [member ids]}.
    fn clusters(&self) -> HashMap<String, Vec<String>> {
        self.inner.clusters().into_iter().collect()
    }

    /// Counts: documents, multi_member_clusters, clustered_documents, shingles, links.
    fn stats(&self) -> HashMap<String, usize> {
        let s = self.inner.stats();
        HashMap::from([
            ("documents".to_string(), s.documents),
            ("multi_member_clusters".to_string(), s.multi_member_clusters),
            ("clustered_documents".to_string(), s.clustered_documents),
            ("shingles".to_string(), s.shingles),
            ("links".to_string(), s.links),
        ])
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __contains__(&self, id: &str) -> bool {
        self.inner.cluster_of(id).is_some()
    }
}

/// Clusters documents (dicts with `id` and `text`); returns lists of ids, largest
/// first, every document in exactly one list.
#[pyfunction]
#[pyo3(signature = (docs, preset = "dup", threshold = None))]
fn cluster(
    py: Python<'_>,
    docs: Vec<PyDoc>,
    preset: &str,
    threshold: Option<f64>,
) -> PyResult<Vec<Vec<String>>> {
    let params = params(preset, threshold, None)?;
    let docs = batch_documents(docs)?;
    let result = py
        .detach(|| pipeline::run(&docs, &params))
        .map_err(to_py_err)?;
    Ok(result
        .member_ids(&docs)
        .into_iter()
        .map(|ids| ids.into_iter().map(str::to_owned).collect())
        .collect())
}

/// Removes near-duplicates: returns (kept ids in input order, {removed id: (kept id,
/// exact Jaccard)}).
#[pyfunction]
#[pyo3(signature = (docs, preset = "dup", threshold = None, keep = "first"))]
#[allow(clippy::type_complexity)]
fn dedup(
    py: Python<'_>,
    docs: Vec<PyDoc>,
    preset: &str,
    threshold: Option<f64>,
    keep: &str,
) -> PyResult<(Vec<String>, HashMap<String, (String, f64)>)> {
    let params = params(preset, threshold, Some(keep))?;
    let docs = batch_documents(docs)?;
    let result = py
        .detach(|| pipeline::run(&docs, &params))
        .map_err(to_py_err)?;
    let mut kept = Vec::new();
    let mut removed = HashMap::new();
    for (i, k) in (0..).zip(result.kept_of()) {
        if i == k {
            kept.push(docs[i as usize].id.clone());
        } else {
            let j = result.similarity(i, k);
            removed.insert(
                docs[i as usize].id.clone(),
                (docs[k as usize].id.clone(), j),
            );
        }
    }
    Ok((kept, removed))
}

#[pymodule]
fn storyhash(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Index>()?;
    m.add_class::<Match>()?;
    m.add_class::<Decision>()?;
    m.add_function(wrap_pyfunction!(cluster, m)?)?;
    m.add_function(wrap_pyfunction!(dedup, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
