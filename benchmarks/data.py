"""Benchmark data: where the shared corpora are, query sets and seeded samples.

Every sample is drawn with :class:`random.Random` and a fixed seed, so every
engine, and every run, sees the same documents and queries.

Vocabulary queries are made of *clean* words: runs of 3 to 30 letters that
stand alone in the text (not glued to a digit, an apostrophe, a hyphen or a
dot inside a word, like ``aujourd'hui`` or ``www.exemple.fr``) and are not a
stop word for any engine. Every engine indexes such a word as the same term it
makes of it at query time, so a query of clean corpus words must find at least
one document in every engine: that is the correctness check of the latency
benchmark.
"""

from __future__ import annotations

import json
import os
import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from whoosh.analysis import STOP_WORDS as STOP_WORDS_EN
from whoosh.lang import stopwords_for_language

from searchlib.analysis.stopwords import FRENCH_STOP_WORDS
from searchlib.app.evaluate import load_qrels, load_queries, load_topics
from searchlib.corpus.loaders import load_jsonl
from searchlib.documents import Document

REPO = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    """``../shared`` beside the repository (``$SEARCHLIB_SHARED`` overrides it)."""
    env = os.environ.get("SEARCHLIB_SHARED")
    return Path(env) if env else REPO.parent / "shared"


def corpus_path(name: str) -> Path:
    """A corpus by name (``fr-small``, ``fr-medium``, ``fr-large``) or by path.

    ``fr-large`` is not stored in shared/: it is looked up in
    ``$FR_CORPORA_DIR`` (default ``/tmp/fr-corpora``, where
    ``shared/corpora/build_corpora.sh`` writes it).
    """
    if name in {"fr-small", "fr-medium"}:
        return shared_dir() / "corpora" / "prebuilt" / f"{name}.jsonl.gz"
    if name == "fr-large":
        return Path(os.environ.get("FR_CORPORA_DIR", "/tmp/fr-corpora")) / "fr-large.jsonl"
    return Path(name)


def collection_dir(name: str) -> Path:
    """An evaluation collection folder: ``cdtn`` or ``piaf`` (or a path)."""
    known = {"cdtn": "cdtn-requetes", "piaf": "piaf-v1.1-passages"}
    if name in known:
        return shared_dir() / "eval-public" / known[name]
    return Path(name)


def load_docs(path: Path) -> list[Document]:
    """All documents of a JSONL corpus, NFC-normalised by searchlib's loader."""
    return list(load_jsonl(path))


def text_bytes(docs: Iterable[Document]) -> int:
    """UTF-8 bytes of titles and texts."""
    return sum(len(d.title.encode()) + len(d.text.encode()) for d in docs)


# -- clean words -------------------------------------------------------------------------

_CLEAN = re.compile(r"(?<![\w'’ʼ.\-])[^\W\d_]{3,30}(?![\w'’ʼ\-]|\.\w)")
_QUOTED = re.compile(r"\"[^\"]*\"|«[^»]*»")

WHOOSH_ENGLISH_STOP_WORDS = frozenset(STOP_WORDS_EN)
"""Whoosh's ``StandardAnalyzer`` list (English)."""

SNOWBALL_FRENCH_STOP_WORDS = frozenset(stopwords_for_language("fr"))
"""Snowball's French list, used by Whoosh's ``LanguageAnalyzer("fr")`` (tantivy's is the same)."""


def _bm25s_stop_words() -> frozenset[str]:
    """bm25s's French list (empty when bm25s is not installed: it is then not benchmarked)."""
    try:
        from bm25s.stopwords import STOPWORDS_FRENCH
    except ImportError:
        return frozenset()
    return frozenset(STOPWORDS_FRENCH)


BM25S_FRENCH_STOP_WORDS = _bm25s_stop_words()
"""bm25s's French list (bm25s 0.3.16: every word of three letters or more is in the lists above)."""

STOP_WORDS = (
    FRENCH_STOP_WORDS
    | WHOOSH_ENGLISH_STOP_WORDS
    | SNOWBALL_FRENCH_STOP_WORDS
    | BM25S_FRENCH_STOP_WORDS
)
"""A word in any engine's stop list never makes a vocabulary query."""


def clean_words(text: str) -> list[str]:
    """Lowercase clean words of ``text`` (see the module docstring).

    >>> clean_words("L'URL d'aujourd'hui : www.exemple.fr, la Cour fédérale et 3e.")
    ['cour', 'fédérale']
    """
    return [w for w in (m.group().lower() for m in _CLEAN.finditer(text)) if w not in STOP_WORDS]


def document_frequencies(docs: Iterable[Document]) -> Counter[str]:
    """Clean word -> number of documents holding it (tantivy's stop words left out)."""
    df: Counter[str] = Counter()
    for d in docs:
        df.update(set(clean_words(d.title)) | set(clean_words(d.text)))
    for word in tantivy_stop_words(df):
        del df[word]
    return df


def tantivy_stop_words(words: Iterable[str]) -> set[str]:
    """The ``words`` tantivy's French analyzer drops (its list is not Snowball's).

    Empty when tantivy is not installed (it is then not benchmarked either).
    """
    try:
        from benchmarks.engines import tantivy_analyzer

        analyzer = tantivy_analyzer()
    except ImportError:
        return set()
    return {w for w in words if not analyzer.analyze(w)}


# -- query sets -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BenchQuery:
    """A latency query; ``expect_hits`` is true when every engine must find something."""

    id: str
    text: str
    kind: str
    expect_hits: bool

    def to_json(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "text": self.text,
            "kind": self.kind,
            "expect_hits": self.expect_hits,
        }


BANDS = {"frequent": (0.0, 0.02), "middle": (0.4, 0.6), "rare": (0.8, 1.0)}
"""Vocabulary bands: slices of the clean words seen in >= 2 documents, most frequent first."""


def vocabulary_queries(df: Counter[str], per_cell: int, seed: int) -> list[BenchQuery]:
    """``per_cell`` queries of 1, 2 and 3 words from each band of :data:`BANDS`."""
    rng = random.Random(seed)
    ranked = sorted((w for w, n in df.items() if n >= 2), key=lambda w: (-df[w], w))
    out: list[BenchQuery] = []
    for band, (lo, hi) in BANDS.items():
        pool = ranked[int(lo * len(ranked)) : max(int(hi * len(ranked)), int(lo * len(ranked)) + 3)]
        for n_words in (1, 2, 3):
            for i in range(per_cell):
                words = rng.sample(pool, n_words)
                out.append(
                    BenchQuery(
                        f"{band}-{n_words}w-{i}", " ".join(words), f"{band}-{n_words}w", True
                    )
                )
    return out


def expects_hits(text: str, vocabulary: Counter[str] | set[str]) -> bool:
    """True when a clean word of ``text``, outside quotes, is in the corpus."""
    return any(w in vocabulary for w in clean_words(_QUOTED.sub(" ", text)))


def sample(items: Sequence[tuple[str, str]], n: int | None, seed: int) -> list[tuple[str, str]]:
    """A seeded sample of ``n`` items in their original order (all when ``n`` is None)."""
    if n is None or n >= len(items):
        return list(items)
    keep = set(random.Random(seed).sample(range(len(items)), n))
    return [x for i, x in enumerate(items) if i in keep]


def latency_queries(
    df: Counter[str], cdtn_queries: int, per_cell: int, seed: int
) -> list[BenchQuery]:
    """A seeded sample of cdtn queries, then the vocabulary queries."""
    queries = load_queries(collection_dir("cdtn") / "queries.jsonl")
    picked = sample(queries, cdtn_queries, seed)
    out = [BenchQuery(qid, text, "cdtn", expects_hits(text, df)) for qid, text in picked]
    return out + vocabulary_queries(df, per_cell, seed)


# -- relevance collections ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Collection:
    """An evaluation collection, possibly reduced for quick runs.

    Attributes:
        name: ``cdtn`` or ``piaf``.
        queries: the evaluated ``(qid, text)`` pairs.
        qrels: judgments.
        topics: qid -> topic (empty when the collection has none).
        doc_ids: the documents to index, or ``None`` for the whole corpus.
        note: how it was reduced, for the report.
    """

    name: str
    queries: list[tuple[str, str]]
    qrels: dict[str, dict[str, int]]
    topics: dict[str, str]
    doc_ids: list[str] | None
    note: str

    @property
    def corpus(self) -> Path:
        """The collection's corpus file."""
        return collection_dir(self.name) / "corpus.jsonl"


def load_collection(name: str, n_queries: int | None, n_docs: int | None, seed: int) -> Collection:
    """A collection with a seeded query sample and, if ``n_docs``, a reduced corpus.

    The reduced corpus holds every document judged for a sampled query, then
    seeded random others up to ``n_docs``: fewer distractors than the full
    corpus, so its scores are higher than full-corpus scores, but every engine
    sees the same documents.
    """
    folder = collection_dir(name)
    qrels = load_qrels(folder / "qrels.tsv")
    queries = [q for q in load_queries(folder / "queries.jsonl") if qrels.get(q[0])]
    topics_file = folder / "topics.tsv"
    topics = load_topics(topics_file) if topics_file.is_file() else {}
    picked = sample(queries, n_queries, seed)
    note = f"{len(picked):,} of {len(queries):,} queries"
    doc_ids: list[str] | None = None
    if n_docs:
        all_ids = [
            json.loads(line)["id"] for line in (folder / "corpus.jsonl").open(encoding="utf-8")
        ]
        judged = {d for qid, _ in picked for d in qrels[qid]} & set(all_ids)
        others = [d for d in all_ids if d not in judged]
        extra = random.Random(seed).sample(others, max(0, min(len(others), n_docs - len(judged))))
        doc_ids = sorted(judged | set(extra))
        note += (
            f"; corpus reduced to {len(doc_ids):,} of {len(all_ids):,} documents "
            f"({len(judged):,} judged for these queries + random others)"
        )
    return Collection(name, picked, qrels, topics, doc_ids, note)
