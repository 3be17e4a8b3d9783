"""Near-duplicate and story clustering for news articles (storyhash)."""

from os import PathLike
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple, TypedDict, Union, overload

__version__: str

class _DocRequired(TypedDict):
    id: str
    text: str

class Doc(_DocRequired, total=False):
    published: str
    title: str
    url: str

class Match:
    """A stored document similar to a query."""

    @property
    def id(self) -> str: ...
    @property
    def jaccard(self) -> float: ...
    @property
    def containment_of_query(self) -> float: ...
    @property
    def containment_of_stored(self) -> float: ...
    @property
    def cluster(self) -> str: ...
    @property
    def headline(self) -> Optional[str]: ...

class Decision:
    """What inserting a document found and did."""

    @property
    def id(self) -> str: ...
    @property
    def matches(self) -> List[Match]: ...
    @property
    def cluster(self) -> str: ...
    @property
    def story(self) -> Optional[str]: ...
    @property
    def story_score(self) -> Optional[float]: ...
    @property
    def story_headline(self) -> Optional[str]: ...
    @property
    def is_duplicate(self) -> bool: ...

class StoryParams:
    """How a story-tracking index groups stories."""

    @property
    def granularity(self) -> str: ...
    @property
    def threshold(self) -> float: ...
    @property
    def window_seconds(self) -> int: ...
    @property
    def title_weight(self) -> float: ...
    @property
    def analysis(self) -> str: ...

class Index:
    """The persistent, incremental near-duplicate index."""

    def __init__(
        self,
        preset: str = "dup",
        threshold: Optional[float] = None,
        stories: Optional[str] = None,
        *,
        num_perm: Optional[int] = None,
        shingle: Optional[str] = None,
        bands: Optional[str] = None,
        stopwords: Optional[str] = None,
        stem: Optional[bool] = None,
        seed: Optional[int] = None,
        story_stopwords: Optional[List[str]] = None,
        story_boilerplate: Optional[List[str]] = None,
        background: Optional[Union[Iterable[Doc], "Index"]] = None,
    ) -> None:
        """Parameters as the CLI's flags: shingle "word:5", bands "32x4", stopwords
        "ar,en", "all" or "none". With stories, story_stopwords and story_boilerplate
        (lines or sentences) are left out of every added document's story terms, as
        `stories --stopwords-file` and `--boilerplate-file` do, and background (documents
        or a story-tracking Index) adds its document frequencies to the index's own, as
        `index create --background` does; the index keeps them. Invalid values, or lists
        or a background without stories, raise ValueError."""
        ...
    @staticmethod
    def open(path: Union[str, PathLike[str]], writer: bool = False) -> "Index":
        """An index directory (or a single file of format 4 or 5). FileNotFoundError
        (an OSError) for a missing path, ValueError for a damaged or foreign one. With
        writer=True, holds the directory's writer lock until the index is dropped."""
        ...
    def save(self, path: Union[str, PathLike[str]]) -> None:
        """To the index's own directory: commit. To a new path: a new index directory.
        ValueError for another index or an existing file, or when another writer
        committed since this index was opened."""
        ...
    def commit(self) -> None: ...
    def commit_story_tracker(self) -> None:
        """Commits, storing the story tracker as it stands: the next writer or reader
        reads it instead of replaying the documents counted since it was last stored
        (a commit stores it by itself once that is 10,000 documents and an eighth of
        the live ones). ValueError for an index without story tracking."""
        ...
    def compact(self) -> None: ...
    def verify(self) -> None: ...
    @property
    def path(self) -> Optional[Path]: ...
    def insert_or_match(
        self,
        id: str,
        text: str,
        published: Optional[str] = None,
        title: Optional[str] = None,
        url: Optional[str] = None,
    ) -> Decision:
        """title and url as in a dict of insert_batch: a story-tracking index weighs the
        title's terms and keeps it as the headline story_list shows."""
        ...
    def insert(
        self,
        id: str,
        text: str,
        published: Optional[str] = None,
        title: Optional[str] = None,
        url: Optional[str] = None,
    ) -> Decision: ...
    def preview(
        self,
        id: str,
        text: str,
        published: Optional[str] = None,
        title: Optional[str] = None,
        url: Optional[str] = None,
    ) -> Decision:
        """What `insert` would answer, storing nothing; the id need not be new."""
        ...
    def query(
        self, text: str, threshold: Optional[float] = None, top_k: Optional[int] = None
    ) -> List[Match]: ...
    def insert_batch(self, docs: Iterable[Doc]) -> List[Decision]:
        """All or nothing: a stored or repeated id, or an unreadable date, raises
        ValueError and stores none of the batch."""
        ...
    def query_batch(self, texts: List[str]) -> List[List[Match]]: ...
    def remove(self, id: str) -> None: ...
    def evict_window(self, seconds: int) -> int:
        """Raises ValueError for a negative window."""
        ...
    def cluster_of(self, id: str) -> Optional[str]: ...
    @property
    def story_stopwords(self) -> List[str]: ...
    @property
    def story_boilerplate(self) -> List[str]: ...
    def set_story_lists(
        self,
        *,
        stopwords: Optional[List[str]] = None,
        boilerplate: Optional[List[str]] = None,
    ) -> None:
        """Replaces the lists given, for documents added from now on; raises
        ValueError without story tracking."""
        ...
    def learn_story_lines(self, docs: Iterable[Doc]) -> List[Dict[str, Any]]:
        """Learns boilerplate lines from a batch as stories does, counted with every
        batch learned before, and lists those not yet listed, for the batch and later
        documents; returns them as boilerplate_lines does. Give each batch once, before
        inserting it. Raises ValueError without story tracking."""
        ...
    def story_params(self) -> Optional[StoryParams]: ...
    def story_of(self, id: str) -> Optional[str]: ...
    def clusters(self) -> Dict[str, List[str]]: ...
    def cluster_list(
        self, since: Optional[str] = None, min_size: int = 2
    ) -> List[Dict[str, Any]]:
        """Clusters of at least min_size documents, largest first, each a dict as
        `index clusters --format json` prints it: cluster, size, headline, min_jaccard,
        members, published, headlines, matched (per member: member, jaccard, copy, or
        None), first_published, last_published; with since, only those with a member
        published at or after it. ValueError for an unreadable time or a size below 1."""
        ...
    def stories(
        self, since: Optional[str] = None, min_size: int = 2
    ) -> Optional[List[Tuple[str, List[str]]]]:
        """Stories of at least min_size documents, largest first; with since (a time as
        published takes it), only those with a member published at or after it. None
        without story tracking; ValueError for an unreadable time or a size below 1."""
        ...
    def story_list(
        self, since: Optional[str] = None, min_size: int = 2
    ) -> Optional[List[Dict[str, Any]]]:
        """The stories `stories` lists, each a dict as `index stories --format json`
        prints it: story, size, headline, top_terms, members, published (RFC 3339 or
        None per member), headlines (None where none was kept), clusters (each
        member's near-duplicate cluster), first_published, last_published."""
        ...
    def stats(self) -> Dict[str, int]:
        """Counts; with story tracking also stories, multi_document_stories,
        largest_story, story_background_documents and story_tracker_documents (live
        documents the stored story tracker counts; 0 when none is stored)."""
        ...
    def __len__(self) -> int: ...
    def __contains__(self, id: str) -> bool: ...

class Cluster:
    """A cluster: members (representative first), the representative, and each
    member's exact Jaccard similarity to it. Iterating gives the member ids."""

    @property
    def members(self) -> List[str]: ...
    @property
    def representative(self) -> str: ...
    @property
    def similarities(self) -> Dict[str, float]: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[str]: ...

class Signer:
    """The Arrow kernels of `storyhash dedup` (what `storyhash.spark` runs in mapInArrow):
    record batches in and out through the Arrow C data interface."""

    def __init__(self, preset: str = "dup", threshold: Optional[float] = None, keep: str = "first") -> None: ...
    @property
    def bands(self) -> int: ...
    @property
    def num_perm(self) -> int: ...
    @property
    def threshold(self) -> float: ...
    @property
    def keep(self) -> str: ...
    def sign(self, batch: Any) -> Any:
        """(id, text[, published]) -> id, document, rank, fingerprint, shingles,
        prefiltered, text_len, published, keys, low, set."""
        ...
    def band_rows(self, batch: Any) -> Any:
        """(id, text) -> (id, band, key) for every document with shingles."""
        ...
    def bucket_pairs(self, batch: Any) -> Any:
        """(members: list of positions ordered by rank) -> candidate pairs (a, b)."""
        ...
    def verify(self, batch: Any) -> Any:
        """(a, b, prefiltered_*, low_*, set_*) -> verified edges (a, b, jaccard)."""
        ...

def cluster(
    docs: Iterable[Doc], preset: str = "dup", threshold: Optional[float] = None, keep: str = "first"
) -> List[Cluster]:
    """Documents with an empty text, a repeated id or an unreadable date raise ValueError.
    preset="story" groups them with the story engine, as stories(docs) does."""
    ...
def stories(
    docs: Iterable[Doc],
    granularity: str = "story",
    threshold: Optional[float] = None,
    keep: str = "first",
    *,
    window_seconds: Optional[int] = None,
    stopwords: Optional[List[str]] = None,
    boilerplate: Optional[List[str]] = None,
    background: Optional[Union[Iterable[Doc], Index]] = None,
    analysis: str = "stems",
) -> List[Cluster]:
    """As `storyhash stories`: one Cluster per story, its groups of copies in the order
    they joined, each member's similarity its group's mean cosine to the story when it
    joined. granularity "story" or "event"; invalid values raise ValueError. background
    is `--background`: documents whose frequencies are added to docs' (their title and
    text; blank ones skipped), or a story-tracking Index's counts; analysis "stems" or
    "words" is `--analysis` (an index of the other analysis raises ValueError)."""
    ...
def explain_story(
    docs: Iterable[Doc],
    a: str,
    b: str,
    granularity: str = "story",
    threshold: Optional[float] = None,
    keep: str = "first",
    *,
    window_seconds: Optional[int] = None,
    stopwords: Optional[List[str]] = None,
    boilerplate: Optional[List[str]] = None,
    background: Optional[Union[Iterable[Doc], Index]] = None,
    analysis: str = "stems",
) -> Dict[str, Any]:
    """As `storyhash explain A B --granularity G --format json`: why a and b are in one
    story or not, with the keywords of stories(). An id not in docs raises ValueError."""
    ...
def extract_article(html: str, url: Optional[str] = None) -> Dict[str, Optional[str]]:
    """The article of a news page, as the CLI reads pages: {"text", "title", "published",
    "url"}, None where the page states none. url, the address the page was fetched from,
    dates a page stating no time of its own when it holds a date (/2024/03/05/) and is
    the address of a page stating none. Never raises: a page without a recognisable
    article gives its body's text."""
    ...
def boilerplate_lines(
    docs: Iterable[Doc], *, boilerplate: Optional[List[str]] = None
) -> List[Dict[str, Any]]:
    """The lines stories leaves out (those of boilerplate found, then those learned per
    url host), each {"source", "line", "share", "listed"}, as `stories
    --save-boilerplate` writes them."""
    ...
@overload
def dedup(
    docs: Iterable[Doc], preset: str = "dup", threshold: Optional[float] = None, keep: str = "first"
) -> Tuple[List[str], Dict[str, Tuple[str, float]]]: ...
@overload
def dedup(
    docs: Union[str, PathLike[str]],
    preset: str = "dup",
    threshold: Optional[float] = None,
    keep: str = "first",
    *,
    output: Optional[Union[str, PathLike[str]]] = None,
    removed: Optional[Union[str, PathLike[str]]] = None,
    clusters: Optional[Union[str, PathLike[str]]] = None,
    fields: Optional[Dict[str, str]] = None,
) -> Dict[str, Any]:
    """A file or directory, streamed as `storyhash dedup` does; returns its summary.
    fields names the record fields read by what they hold (keys id, text, title, url,
    published; as --id-field ... --published-field); an unknown key raises ValueError."""
    ...
