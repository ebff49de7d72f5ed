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
with :func:`json.loads` and checked field by field: nothing in it is
executed or unpickled. It records the analyzer and index format versions and
the searchlib version it was learned with; a model of another analyzer or
format does not load (:class:`ModelMismatchWarning`, the index searches
without it).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from searchlib._files import replace_text
from searchlib.errors import SearchlibWarning
from searchlib.learn.trees import Forest, ForestFormatError

MODEL_FILE = "learned.json"
"""The file of the learned model in an index folder."""

MODEL_FORMAT = "searchlib-learned"
MODEL_VERSION = 1
"""Version of the layout of :data:`MODEL_FILE` (a file of another version is not read)."""


class ModelMismatchWarning(SearchlibWarning):
    """A learned model was not used: unreadable, or learned for another index
    (analyzer, format or corpus); searches run without it."""


class ModelFormatError(ValueError):
    """The model file is not a learned model of this version."""


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

    def expand(self, terms: Sequence[str]) -> list[tuple[str, float]]:
        """The document terms associated with the query's ``terms``: the
        :attr:`terms` best by summed score (ties by term, for a stable
        order), weighted in proportion to it, ``weight × len(terms)`` in all."""
        if self.weight <= 0 or self.terms <= 0:
            return []
        unique = list(dict.fromkeys(terms))
        summed: dict[str, float] = {}
        for t in unique:
            for d, s in self.table.get(t, ()):
                summed[d] = summed.get(d, 0.0) + s
        best = [kv for kv in sorted(summed.items(), key=lambda kv: (-kv[1], kv[0])) if kv[1] > 0]
        best = best[: self.terms]
        total = sum(s for _, s in best)
        if total <= 0:
            return []
        mass = self.weight * len(unique)
        return [(d, mass * s / total) for d, s in best]

    def with_params(self, weight: float, terms: int) -> Associations:
        return Associations(self.table, weight, terms)


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
        try:
            data = json.loads(text)
        except ValueError as e:
            raise ModelFormatError(f"not JSON ({e})") from e
        if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
            raise ModelFormatError("not a searchlib learned model")
        if data.get("version") != MODEL_VERSION:
            raise ModelFormatError(
                f"model version {data.get('version')!r}, this searchlib reads {MODEL_VERSION}"
            )
        try:
            expansion = _dict(data["expansion"], "expansion")
            table = {
                str(q): tuple((_str(d), _number(s)) for d, s in _list(pairs, "associations"))
                for q, pairs in _dict(expansion["associations"], "associations").items()
            }
            associations = Associations(
                table, _number(expansion["weight"]), _int(expansion["terms"])
            )
            prior = {str(d): _number(p) for d, p in _dict(data["prior"], "prior").items()}
            sources = tuple(_str(s) for s in _list(data["sources"], "sources"))
            reranker = None
            if data.get("reranker") is not None:
                r = _dict(data["reranker"], "reranker")
                forest = Forest.from_text(_str(r["model"]))
                names = tuple(_str(n) for n in _list(r["features"], "features"))
                if names != forest.feature_names:
                    raise ModelFormatError("the reranker's features do not match its trees")
                depth = _int(r["depth"])
                if depth < 1:
                    raise ModelFormatError(f"reranker depth {depth}")
                reranker = Reranker(forest, depth, _number(r["scale"]), _str(r["library"]))
            return cls(
                associations,
                prior,
                sources,
                reranker,
                _str(data["analyzer_version"]),
                _int(data["format_version"]),
                _dict(data.get("info", {}), "info"),
            )
        except KeyError as e:
            raise ModelFormatError(f"missing {e}") from e
        except ForestFormatError as e:
            raise ModelFormatError(f"reranker: {e}") from e

    def save(self, folder: Path) -> None:
        """Write the model into index folder ``folder`` atomically (a temporary
        file with the mode of the index's ``searchlib.json``, then ``os.replace``)."""
        replace_text(folder, MODEL_FILE, self.to_json())

    @classmethod
    def load(cls, folder: Path) -> LearnedModel | None:
        """The model saved in index folder ``folder``, ``None`` when there is none.

        Raises:
            ModelFormatError: the file is there but is not a model of this version.
        """
        path = folder / MODEL_FILE
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as e:
            raise ModelFormatError(f"unreadable ({e})") from e
        return cls.from_json(text)

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
    """Delete the model of index folder ``folder``; whether there was one."""
    try:
        os.remove(folder / MODEL_FILE)
    except FileNotFoundError:
        return False
    return True


def _dict(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ModelFormatError(f"{what}: expected an object")
    return value


def _list(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ModelFormatError(f"{what}: expected a list")
    return value


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise ModelFormatError(f"expected a string, not {type(value).__name__}")
    return value


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ModelFormatError(f"expected a finite number, not {value!r}")
    return float(value)


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ModelFormatError(f"expected an integer, not {value!r}")
    return value
