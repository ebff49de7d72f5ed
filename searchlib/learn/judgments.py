"""Relevance judgments to learn from, read leniently: problems are counted, not fatal.

The files are those of ``searchlib eval``: queries as JSONL (``{"id", "text"}``
per line), judgments as ``qid<TAB>docid<TAB>grade`` (TREC's four columns also
read), and optionally a ``topics.tsv`` (a header, then ``qid<TAB>topic``...)
grouping the variants of one question. A malformed line, a duplicated one, a
grade out of range, a judgment of a query that is not in the queries file are
counted in :attr:`Judgments.problems` and left out; only when nothing usable
is left does learning stop (see :meth:`Judgments.usable`).

Example:
    >>> j = Judgments.of(
    ...     [("q1", "congé payé"), ("q1", "congé payé"), ("q2", "préavis")],
    ...     [("q1", "d1", 1), ("q1", "d1", 1), ("q1", "d2", 99), ("q3", "d1", 1)],
    ... )
    >>> sorted(j.queries), j.qrels["q1"]
    (['q1', 'q2'], {'d1': 1})
    >>> dict(sorted(j.problems.items()))  # doctest: +NORMALIZE_WHITESPACE
    {'duplicated judgment lines': 1, 'duplicated query lines': 1,
     'grades out of range': 1, 'judgments of unknown queries': 1}
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from searchlib.errors import SearchlibError

MAX_GRADE = 10
"""Grades outside ``-MAX_GRADE..MAX_GRADE`` are out of range (as in ``searchlib eval``);
a grade of 0 or below means not relevant."""

Triple = tuple[str, str, int]


@dataclass
class Judgments:
    """Queries, their judged documents, their topics, and what was wrong in them.

    Attributes:
        queries: query text by id (the first line of an id is kept).
        qrels: grade by document id, by query id (judgments of known queries only).
        topics: topic by query id (a query without one is a topic of its own).
        problems: how many lines or items of each kind were left out.
    """

    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    topics: dict[str, str] = field(default_factory=dict)
    problems: Counter[str] = field(default_factory=Counter)

    @classmethod
    def of(
        cls,
        queries: Iterable[tuple[str, str]] | Mapping[str, str],
        qrels: Iterable[Triple] | Mapping[str, Mapping[str, int]],
        topics: Mapping[str, str] | None = None,
        *,
        problems: Counter[str] | None = None,
    ) -> Judgments:
        """Judgments from values in memory (the checks of the files apply).

        Args:
            queries: ``(id, text)`` pairs, or a mapping of id to text.
            qrels: ``(query id, document id, grade)`` triples, or a mapping
                of query id to ``{document id: grade}``.
            topics: topic by query id (default: each query its own topic).
            problems: counts to start from (what reading the files found).
        """
        found: Counter[str] = Counter(problems or {})
        pairs = queries.items() if isinstance(queries, Mapping) else queries
        texts: dict[str, str] = {}
        for qid, text in pairs:
            if not isinstance(qid, str) or not isinstance(text, str) or not qid:
                found["malformed query lines"] += 1
            elif qid in texts:
                same = texts[qid] == text
                found["duplicated query lines" if same else "conflicting query lines"] += 1
            else:
                texts[qid] = text
        grades: dict[str, dict[str, int]] = {}
        for qid, doc_id, grade in _triples(qrels):
            if not _judgment(qid, doc_id, grade):
                found["malformed judgment lines"] += 1
            elif not -MAX_GRADE <= grade <= MAX_GRADE:
                found["grades out of range"] += 1
            elif qid not in texts:
                found["judgments of unknown queries"] += 1
            elif doc_id in grades.get(qid, {}):
                same = grades[qid][doc_id] == grade
                found["duplicated judgment lines" if same else "conflicting judgment lines"] += 1
            else:
                grades.setdefault(qid, {})[doc_id] = grade
        kept_topics = {q: str(t) for q, t in (topics or {}).items() if q in texts}
        return cls(texts, grades, kept_topics, found)

    @classmethod
    def from_files(
        cls,
        queries: str | Path,
        qrels: str | Path,
        topics: str | Path | None = None,
    ) -> Judgments:
        """Read the files of ``searchlib eval`` (malformed lines are counted, not fatal).

        Raises:
            OSError: a file cannot be read.
        """
        return cls.load(queries, qrels, topics)

    @classmethod
    def load(
        cls,
        queries: Iterable[tuple[str, str]] | Mapping[str, str] | str | Path,
        qrels: Iterable[Triple] | Mapping[str, Mapping[str, int]] | str | Path,
        topics: Mapping[str, str] | str | Path | None = None,
    ) -> Judgments:
        """Judgments from files (paths, read as :meth:`from_files` reads them)
        or values (as :meth:`of` takes them), in any mix.

        Raises:
            OSError: a file cannot be read.
        """
        problems: Counter[str] = Counter()
        if isinstance(queries, str | Path):
            queries = list(_query_lines(Path(queries), problems))
        if isinstance(qrels, str | Path):
            qrels = list(_qrel_lines(Path(qrels), problems))
        if isinstance(topics, str | Path):
            topics = _topic_lines(Path(topics), problems)
        return cls.of(queries, qrels, topics, problems=problems)

    def topic(self, qid: str) -> str:
        """The topic of query ``qid`` (the query itself when it has none)."""
        return self.topics.get(qid) or f"query:{qid}"

    def usable(self, known: Callable[[str], bool]) -> Judgments:
        """The queries with at least one relevant judged document that ``known``
        (a document id is in the index) accepts; the others counted.

        Raises:
            SearchlibError: nothing usable is left.
        """
        problems = Counter(self.problems)
        qrels: dict[str, dict[str, int]] = {}
        for qid in self.queries:
            judged = self.qrels.get(qid, {})
            kept = {d: g for d, g in judged.items() if known(d)}
            problems["judgments of unknown documents"] += len(judged) - len(kept)
            if not judged:
                problems["queries with no judgment"] += 1
            elif not any(g > 0 for g in kept.values()):
                problems["queries with no relevant known document"] += 1
            else:
                qrels[qid] = kept
        if not qrels:
            raise SearchlibError(
                "nothing to learn from: no query has a relevant judged document in the index"
                + _summary(problems)
            )
        queries = {q: t for q, t in self.queries.items() if q in qrels}
        topics = {q: t for q, t in self.topics.items() if q in qrels}
        return Judgments(queries, qrels, topics, +problems)

    def subset(self, qids: Iterable[str]) -> Judgments:
        """The judgments of ``qids`` only (same problem counts)."""
        keep = set(qids)
        return Judgments(
            {q: t for q, t in self.queries.items() if q in keep},
            {q: g for q, g in self.qrels.items() if q in keep},
            {q: t for q, t in self.topics.items() if q in keep},
            Counter(self.problems),
        )

    def by_topic(self) -> dict[str, list[str]]:
        """Query ids by topic, both in first-seen order."""
        out: dict[str, list[str]] = {}
        for qid in self.queries:
            out.setdefault(self.topic(qid), []).append(qid)
        return out


def _judgment(qid: object, doc_id: object, grade: object) -> bool:
    """Whether a judgment has the types of one (query and document ids, an integer grade)."""
    if not isinstance(qid, str) or not isinstance(doc_id, str) or not doc_id:
        return False
    return isinstance(grade, int) and not isinstance(grade, bool)


def _summary(problems: Counter[str]) -> str:
    if not problems:
        return ""
    return " (" + ", ".join(f"{n} {what}" for what, n in sorted(problems.items()) if n) + ")"


def _triples(qrels: Iterable[Triple] | Mapping[str, Mapping[str, int]]) -> Iterator[Triple]:
    if isinstance(qrels, Mapping):
        for qid, judged in qrels.items():
            for doc_id, grade in judged.items():
                yield qid, doc_id, grade
    else:
        yield from qrels


def _lines(path: Path) -> Iterator[str]:
    """The lines of a text file; bytes that are not UTF-8 read as U+FFFD."""
    with path.open(encoding="utf-8", errors="replace") as f:
        yield from f


def _query_lines(path: Path, problems: Counter[str]) -> Iterator[tuple[str, str]]:
    for line in _lines(path):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            qid, text = obj["id"], obj["text"]
        except (ValueError, KeyError, TypeError):
            problems["malformed query lines"] += 1
            continue
        if isinstance(qid, bool) or not isinstance(qid, str | int) or not isinstance(text, str):
            problems["malformed query lines"] += 1
            continue
        yield str(qid), text


def _qrel_lines(path: Path, problems: Counter[str]) -> Iterator[Triple]:
    for line in _lines(path):
        parts = line.split()
        if not parts:
            continue
        if len(parts) == 4:
            parts = [parts[0], parts[2], parts[3]]
        try:
            if len(parts) != 3:
                raise ValueError
            grade = int(parts[2])
        except ValueError:
            problems["malformed judgment lines"] += 1
            continue
        yield parts[0], parts[1], grade


def _topic_lines(path: Path, problems: Counter[str]) -> dict[str, str]:
    topics: dict[str, str] = {}
    for n, line in enumerate(_lines(path), start=1):
        parts = line.rstrip("\n").split("\t")
        if n == 1 or not line.strip():
            continue  # the header
        if len(parts) < 2 or not parts[0] or not parts[1]:
            problems["malformed topic lines"] += 1
            continue
        if topics.get(parts[0], parts[1]) != parts[1]:
            problems["queries in several topics (the last one kept)"] += 1
        topics[parts[0]] = parts[1]  # as searchlib eval groups them
    return topics
