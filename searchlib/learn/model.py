"""What an index learned from relevance judgments, and its file ``learned.json``.

A :class:`LearnedModel` holds:

* :class:`Associations`: for a query term (a stem), the document terms that
  the relevant documents of the training topics whose queries held it
  share, each with a score (see :mod:`searchlib.learn.train`); a query is
  expanded with the best-scored terms, weighted, as acronyms are;
* a document prior: the share of training topics for which each judged
  document was relevant;
* the sources of documents (the prefix of their id, ``cdt`` in ``cdt:L1234``)
  seen most in the corpus, as features;
* optionally a reranker (:class:`~searchlib.learn.trees.Forest`, trained by
  LightGBM's lambdarank) over the features of the best candidates (see
  :mod:`searchlib.learn.features`).

The file is JSON (the reranker inside it is LightGBM's own text format), read
by :func:`searchlib._files.read_json` (at most :data:`MAX_MODEL_BYTES`, nested
at most 32 deep, numbers finite) and checked field by field: every number in
its range, every list of the shape it should have, the reranker over exactly
the features searchlib computes (:func:`feature_names`) and small enough to
run within a search (see :mod:`searchlib.learn.trees`). Nothing in it is
executed or unpickled. It records the analyzer and index format versions and
the searchlib version it was learned with; a model of another analyzer or
format, or malformed, does not load (:class:`ModelMismatchWarning`, the index
searches without it).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from searchlib._files import parse_json, read_json, replace_text
from searchlib.errors import SearchlibWarning
from searchlib.learn.trees import FloatArray, Forest, ForestFormatError

MODEL_FILE = "learned.json"
"""The file of the learned model in an index folder."""

MODEL_FORMAT = "searchlib-learned"
MODEL_VERSION = 1
"""Version of the layout of :data:`MODEL_FILE` (a file of another version is not read)."""

MAX_MODEL_BYTES = 32 << 20
"""Largest :data:`MODEL_FILE` read, about a second to read and check
(searchlib's own, for thousands of judged queries, hold a few megabytes)."""

BASE_FEATURES = (
    "score",
    "rank",
    "score_ratio",
    "bm25_text",
    "bm25_title",
    "coverage",
    "title_coverage",
    "association",
    "log_doc_length",
    "log_title_length",
    "prior",
    "query_terms",
)
"""The features of every candidate (see :mod:`searchlib.learn.features`)."""

MAX_SOURCES = 8
"""At most this many id prefixes get a feature of their own."""

# Ranges of the numbers of a model (what searchlib learns is well inside).
MAX_EXPANSION_WEIGHT = 100.0
MAX_EXPANSION_TERMS = 1000
MAX_ASSOCIATED = 1000
"""Most document terms associated with one query term (searchlib keeps 40)."""
MAX_ASSOCIATION = 1e6
MAX_RERANK_DEPTH = 10_000
MIN_SCALE, MAX_SCALE = 1e-3, 1e3
MAX_RERANK_WORK = 1 << 23
"""Most candidates × tree nodes a reranker may evaluate per search, about a
quarter of a second (searchlib's default model: 200 candidates × 100 trees ×
5 levels = 100,000)."""
_MAX_NAME = 200  # characters of a source, a library, a version


def feature_names(sources: Sequence[str]) -> tuple[str, ...]:
    """The features of a model whose frequent sources are ``sources``.

    >>> feature_names(("cdt",))[-2:]
    ('source=cdt', 'source=other')
    """
    return (*BASE_FEATURES, *(f"source={s}" for s in sources), "source=other")


class ModelMismatchWarning(SearchlibWarning):
    """A learned model was not used: unreadable, or learned for another index
    (analyzer, format or corpus); searches run without it."""


class ModelFormatError(ValueError):
    """The model file is not a learned model of this version."""


_Indexed = tuple[list[str], dict[str, tuple[npt.NDArray[np.intp], FloatArray]]]
"""Document terms in alphabetical order, and per query term the numbers of its
document terms and their scores."""


@dataclass(frozen=True, slots=True)
class Associations:
    """Query term -> document terms, and how a query is expanded with them.

    Attributes:
        table: for each query term, document terms with their association
            score, best first.
        weight: the weight of the added terms together, per query term (as
            RM3 mixes an expansion into a query: at 0.5 the added terms weigh
            half as much as the query's own).
        terms: at most this many terms added to a query.

    Example:
        >>> a = Associations({"cong": (("conge", 0.25), ("pai", 0.25)), "pai": (("pai", 0.5),)},
        ...                  weight=0.5, terms=2)
        >>> a.expand(["cong", "pai"])  # 2 query terms: the added ones weigh 1 in all
        [('pai', 0.75), ('conge', 0.25)]
    """

    table: Mapping[str, tuple[tuple[str, float], ...]]
    weight: float
    terms: int
    _arrays: dict[str, _Indexed] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    """The table as arrays, made at the first :meth:`best` (see :meth:`_indexed`)."""
    _last: dict[tuple[tuple[str, ...], int], list[tuple[str, float]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    """The last :meth:`best` only: a search's expansion and its reranker's
    ``association`` feature ask it for the same terms, one after the other."""

    def expand(self, terms: Sequence[str]) -> list[tuple[str, float]]:
        """The document terms associated with the query's ``terms``: the
        :attr:`terms` best by summed score (ties by term, for a stable
        order), weighted in proportion to it, ``weight × len(terms)`` in all."""
        if self.weight <= 0 or self.terms <= 0:
            return []
        unique = list(dict.fromkeys(terms))
        best = self.best(unique, self.terms)
        total = sum(s for _, s in best)
        if total <= 0:
            return []
        mass = self.weight * len(unique)
        return [(d, mass * s / total) for d, s in best]

    def best(self, terms: Sequence[str], most: int) -> list[tuple[str, float]]:
        """The ``most`` document terms of highest score summed over ``terms``
        (in their order, term after term), above 0, with it; ties by term.

        >>> a = Associations({"a": (("x", 1.0), ("y", 2.0)), "b": (("x", 1.0),)}, 1.0, 2)
        >>> a.best(["a", "b"], 5), a.best(["a", "b"], 1)
        ([('x', 2.0), ('y', 2.0)], [('x', 2.0)])
        """
        key = (tuple(terms), most)
        last = self._last.get(key)
        if last is not None:
            return list(last)
        found = self._best(key[0], most)
        self._last.clear()  # (another thread's entry lost at worst: it is computed again)
        self._last[key] = found
        return list(found)

    def _best(self, terms: Sequence[str], most: int) -> list[tuple[str, float]]:
        vocabulary, rows = self._indexed()
        found = [rows[t] for t in terms if t in rows]
        if not found or most <= 0:
            return []
        where = np.concatenate([f[0] for f in found]) if len(found) > 1 else found[0][0]
        scores = np.concatenate([f[1] for f in found]) if len(found) > 1 else found[0][1]
        # bincount adds each term's scores in the order given, from 0: the
        # same sums as adding them one by one.
        summed = np.bincount(where, weights=scores, minlength=len(vocabulary))
        kept = np.flatnonzero(summed > 0)  # (numbered alphabetically: ties by number, by term)
        order = np.lexsort((kept, -summed[kept]))[:most]
        return [
            (vocabulary[i], s)
            for i, s in zip(kept[order].tolist(), summed[kept[order]].tolist(), strict=True)
        ]

    def _indexed(self) -> _Indexed:
        """The document terms in order, and for each query term the numbers
        of its document terms and their scores (made once)."""
        made = self._arrays.get("indexed")
        if made is None:
            vocabulary = sorted({d for pairs in self.table.values() for d, _ in pairs})
            number = {d: i for i, d in enumerate(vocabulary)}
            rows = {
                q: (
                    np.array([number[d] for d, _ in pairs], dtype=np.intp),
                    np.array([s for _, s in pairs], dtype=np.float64),
                )
                for q, pairs in self.table.items()
            }
            made = self._arrays["indexed"] = (vocabulary, rows)
        return made

    def with_params(self, weight: float, terms: int) -> Associations:
        other = Associations(self.table, weight, terms)
        other._arrays.update(self._arrays)  # the same table
        return other


@dataclass(frozen=True, slots=True)
class Reranker:
    """A learned ranking of the best candidates.

    Attributes:
        forest: the trees (LightGBM's lambdarank).
        depth: how many of the best documents (or passages) it reorders.
        scale: the trees were fitted on top of ``scale × score / best score``
            of the lexical ranking: a candidate's score becomes its lexical
            score plus ``best score / scale ×`` the trees' output.
        library: what trained it (``lightgbm 4.7.0``).
    """

    forest: Forest
    depth: int
    scale: float
    library: str

    def __post_init__(self) -> None:
        if not 1 <= self.depth <= MAX_RERANK_DEPTH:
            raise ModelFormatError(
                f"reranker depth {self.depth}, not from 1 to {MAX_RERANK_DEPTH:,}"
            )
        if not MIN_SCALE <= self.scale <= MAX_SCALE:
            raise ModelFormatError(
                f"reranker scale {self.scale!r}, not from {MIN_SCALE:g} to {MAX_SCALE:g}"
            )
        work = self.depth * self.forest.steps
        if work > MAX_RERANK_WORK:
            raise ModelFormatError(
                f"reranker too slow to search with: {self.depth:,} candidates × "
                f"{self.forest.steps:,} tree nodes each, over {MAX_RERANK_WORK:,}"
            )


@dataclass(frozen=True, slots=True)
class LearnedModel:
    """Everything learned, and where it came from (see the module docstring).

    Attributes:
        associations: the query expansion.
        prior: share of training topics for which a document was relevant.
        sources: document id prefixes used as features (most frequent first).
        reranker: the learned ranking of the best candidates, or ``None``.
        analyzer_version: the analyzer of the index it was learned on.
        format_version: the index format it was learned on.
        info: what it was learned from and when (queries, topics, judgments,
            problems found, seconds, searchlib version...), for ``stats``.
    """

    associations: Associations
    prior: Mapping[str, float]
    sources: tuple[str, ...]
    reranker: Reranker | None
    analyzer_version: str
    format_version: int
    info: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """The model as the JSON of :data:`MODEL_FILE`."""
        body: dict[str, Any] = {
            "format": MODEL_FORMAT,
            "version": MODEL_VERSION,
            "analyzer_version": self.analyzer_version,
            "format_version": self.format_version,
            "info": dict(self.info),
            "expansion": {
                "weight": self.associations.weight,
                "terms": self.associations.terms,
                "associations": {
                    q: [[d, round(s, 6)] for d, s in pairs]
                    for q, pairs in sorted(self.associations.table.items())
                },
            },
            "prior": {d: round(p, 6) for d, p in sorted(self.prior.items())},
            "sources": list(self.sources),
            "reranker": None,
        }
        if self.reranker is not None:
            body["reranker"] = {
                "library": self.reranker.library,
                "depth": self.reranker.depth,
                "scale": self.reranker.scale,
                "features": list(self.reranker.forest.feature_names),
                "model": self.reranker.forest.text,
            }
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n"

    @classmethod
    def from_json(cls, text: str) -> LearnedModel:
        """Read a model from its JSON.

        Raises:
            ModelFormatError: not a model of this version, or malformed.
        """
        return cls._from_data(parse_json(text, max_bytes=MAX_MODEL_BYTES, error=_not_json))

    @classmethod
    def _from_data(cls, data: object) -> LearnedModel:
        """A model from the parsed JSON, every field checked."""
        if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
            raise ModelFormatError("not a searchlib learned model")
        if data.get("version") != MODEL_VERSION:
            raise ModelFormatError(
                f"model version {_shown(data.get('version'))}, this searchlib reads {MODEL_VERSION}"
            )
        try:
            expansion = _dict(data["expansion"], "expansion")
            table = {
                _str(q, "associations"): _pairs(pairs)
                for q, pairs in _dict(expansion["associations"], "associations").items()
            }
            associations = Associations(
                table,
                _number(expansion["weight"], "expansion weight", 0.0, MAX_EXPANSION_WEIGHT),
                _int(expansion["terms"], "expansion terms", 0, MAX_EXPANSION_TERMS),
            )
            found = _dict(data["prior"], "prior")  # JSON keys are strings
            prior = dict(zip(found, _numbers(found.values(), "prior", 0.0, 1.0), strict=True))
            sources = _sources(data["sources"])
            reranker = None
            if data.get("reranker") is not None:
                r = _dict(data["reranker"], "reranker")
                names = feature_names(sources)
                given = tuple(_str(n, "features") for n in _list(r["features"], "features"))
                if given != names:
                    raise ModelFormatError(
                        f"the reranker's features are not searchlib's: {len(given)} features, "
                        f"{len(names)} expected ({', '.join(names[:3])}...)"
                    )
                depth = _int(r["depth"], "reranker depth", 1, MAX_RERANK_DEPTH)
                scale = _number(r["scale"], "reranker scale", MIN_SCALE, MAX_SCALE)
                library = _name(r["library"], "reranker library")
                forest = Forest.from_text(_str(r["model"], "reranker model"), features=names)
                reranker = Reranker(forest, depth, scale, library)
            return cls(
                associations,
                prior,
                sources,
                reranker,
                _name(data["analyzer_version"], "analyzer_version"),
                _int(data["format_version"], "format_version", 0, 1 << 31),
                _info(data.get("info", {})),
            )
        except KeyError as e:
            raise ModelFormatError(f"missing {_shown(e.args[0])}") from None
        except ForestFormatError as e:
            raise ModelFormatError(f"reranker: {e}") from None

    def save(self, folder: Path) -> None:
        """Write the model into index folder ``folder`` atomically (a temporary
        file with the mode of the index's ``searchlib.json``, then ``os.replace``)."""
        replace_text(folder, MODEL_FILE, self.to_json())

    @classmethod
    def load(cls, folder: Path) -> LearnedModel | None:
        """The model saved in index folder ``folder``, ``None`` when there is none.

        Raises:
            ModelFormatError: the file is there but is not a model of this
                version: unreadable, not a regular file, larger than
                :data:`MAX_MODEL_BYTES`, not JSON, or malformed.
        """
        try:
            data = read_json(folder / MODEL_FILE, max_bytes=MAX_MODEL_BYTES, error=_not_json)
        except FileNotFoundError:
            return None
        return cls._from_data(data)

    def summary(self) -> dict[str, Any]:
        """What the model holds, for ``stats`` (JSON-ready)."""
        out: dict[str, Any] = dict(self.info)
        out["associations"] = len(self.associations.table)
        out["expansion"] = {"weight": self.associations.weight, "terms": self.associations.terms}
        out["prior_documents"] = len(self.prior)
        out["sources"] = list(self.sources)
        if self.reranker is not None:
            out["reranker"] = {
                "library": self.reranker.library,
                "trees": len(self.reranker.forest.trees),
                "depth": self.reranker.depth,
                "features": list(self.reranker.forest.feature_names),
            }
        else:
            out["reranker"] = None
        return out


def remove(folder: Path) -> bool:
    """Delete the model of index folder ``folder``, never reading it; whether
    there was one (a folder put in its place is left, and is an error)."""
    try:
        os.remove(folder / MODEL_FILE)
    except FileNotFoundError:
        return False
    return True


def _not_json(message: str) -> ModelFormatError:
    return ModelFormatError(message)


def _shown(value: object, most: int = 40) -> str:
    """``repr(value)``, cut to ``most`` characters (error messages stay one short line)."""
    text = repr(value)
    return text if len(text) <= most else text[: most - 3] + "..."


def _dict(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ModelFormatError(f"{what}: expected an object, not {type(value).__name__}")
    return value


def _list(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ModelFormatError(f"{what}: expected a list, not {type(value).__name__}")
    return value


def _str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ModelFormatError(f"{what}: expected a string, not {type(value).__name__}")
    return value


def _name(value: object, what: str) -> str:
    """A short string (a version, a library)."""
    text = _str(value, what)
    if len(text) > _MAX_NAME:
        raise ModelFormatError(f"{what}: longer than {_MAX_NAME} characters")
    return text


def _number(value: object, what: str, low: float, high: float) -> float:
    """A number (not a boolean) from ``low`` to ``high``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ModelFormatError(f"{what}: expected a number, not {_shown(value)}")
    if not low <= value <= high:  # NaN too (an int beyond floats is out of range)
        raise ModelFormatError(f"{what} {_shown(value)}, not from {low:g} to {high:g}")
    return float(value)


def _numbers(values: Iterable[object], what: str, low: float, high: float) -> list[float]:
    """:func:`_number` of each of ``values`` (at once when they are all floats)."""
    given = list(values)
    if all(type(v) is float for v in given):
        array = np.fromiter(given, dtype=np.float64, count=len(given))
        if ((array >= low) & (array <= high)).all():  # NaN is neither
            return cast("list[float]", given)
    return [_number(v, what, low, high) for v in given]


def _int(value: object, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ModelFormatError(f"{what}: expected an integer, not {_shown(value)}")
    if not low <= value <= high:
        raise ModelFormatError(f"{what} {_shown(value)}, not from {low:,} to {high:,}")
    return value


def _pairs(value: object) -> tuple[tuple[str, float], ...]:
    """A query term's associations: ``[[document term, score], ...]``."""
    pairs = _list(value, "associations")
    if len(pairs) > MAX_ASSOCIATED:
        raise ModelFormatError(f"associations: more than {MAX_ASSOCIATED} terms for one")
    out = []
    for pair in pairs:
        if not isinstance(pair, list) or len(pair) != 2:
            raise ModelFormatError(
                f"associations: expected [term, score] pairs, not {_shown(pair)}"
            )
        out.append(
            (
                _str(pair[0], "association"),
                _number(pair[1], "association score", 0.0, MAX_ASSOCIATION),
            )
        )
    return tuple(out)


def _sources(value: object) -> tuple[str, ...]:
    """The frequent sources: distinct id prefixes (no spaces, no ``:``), at most
    :data:`MAX_SOURCES`."""
    sources = tuple(_name(s, "sources") for s in _list(value, "sources"))
    if len(sources) > MAX_SOURCES or len(set(sources)) != len(sources):
        raise ModelFormatError(f"sources: at most {MAX_SOURCES} distinct ones")
    for s in sources:
        if not s or ":" in s or any(c.isspace() for c in s):
            raise ModelFormatError(f"sources: {_shown(s)} is not a source of document ids")
    return sources


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 63


_INFO: dict[str, Callable[[object], bool]] = {
    "learned_at": lambda v: isinstance(v, str) and len(v) <= _MAX_NAME,
    "searchlib_version": lambda v: isinstance(v, str) and len(v) <= _MAX_NAME,
    "queries": _count,
    "topics": _count,
    "judgments": _count,
    "seconds": lambda v: (
        isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v < math.inf
    ),
    "problems": lambda v: (
        isinstance(v, dict)
        and len(v) <= 100
        and all(len(k) <= _MAX_NAME and _count(n) for k, n in v.items())
    ),
    "parts": lambda v: (  # what learning kept: part -> status (see learn.train.PartStatus)
        isinstance(v, dict)
        and len(v) <= 10
        and all(isinstance(s, str) and max(len(k), len(s)) <= _MAX_NAME for k, s in v.items())
    ),
}


def _info(value: object) -> dict[str, Any]:
    """What the model was learned from (the fields searchlib writes, checked;
    others left out)."""
    info = _dict(value, "info")
    for key, ok in _INFO.items():
        if key in info and not ok(info[key]):
            raise ModelFormatError(f"info: malformed {key} {_shown(info[key])}")
    return {key: value for key, value in info.items() if key in _INFO}
