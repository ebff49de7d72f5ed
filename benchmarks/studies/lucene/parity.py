"""Token parity: searchlib's analyzer next to the same chain built in Lucene from the
settings searchlib generates for OpenSearch.

A token is a ``(position, term)`` pair; two term lists are identical when they hold
the same pairs (the order of the tokens sharing a position aside: a compound's joined
form and its first part). Offsets are compared apart: they only move highlights.

Differences are aligned word by word (the positions of the two lists, aligned with
:class:`difflib.SequenceMatcher`, so one word's difference does not shift the rest of
the document) and sorted into classes, each with its count and examples.
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from searchlib.analysis import FrenchAnalyzer, TokenView

Token = tuple[int, str]
"""(position, term)."""

EXAMPLES = 5
"""Examples kept per class of difference."""


@dataclass
class Difference:
    """One word analysed differently: its surface, searchlib's terms and Lucene's."""

    doc_id: str
    surface: str
    searchlib: tuple[str, ...]
    lucene: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.surface!r}: searchlib {list(self.searchlib)}, Lucene {list(self.lucene)}"


@dataclass
class ParityReport:
    """Counts over a set of texts."""

    documents: int = 0
    identical_documents: int = 0
    searchlib_tokens: int = 0
    lucene_tokens: int = 0
    matched_tokens: int = 0
    offset_differences: int = 0
    classes: Counter[str] = field(default_factory=Counter)
    class_tokens: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[Difference]] = field(default_factory=dict)

    @property
    def document_share(self) -> float:
        """Share of texts whose term lists are identical."""
        return self.identical_documents / self.documents if self.documents else 1.0

    @property
    def token_share(self) -> float:
        """Share of searchlib's tokens that Lucene produced too (same position, same term)."""
        return self.matched_tokens / self.searchlib_tokens if self.searchlib_tokens else 1.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "documents": self.documents,
            "identical_documents": self.identical_documents,
            "document_share": round(self.document_share, 6),
            "searchlib_tokens": self.searchlib_tokens,
            "lucene_tokens": self.lucene_tokens,
            "matched_tokens": self.matched_tokens,
            "token_share": round(self.token_share, 6),
            "tokens_with_other_offsets": self.offset_differences,
            "classes": {
                name: {
                    "words": n,
                    "searchlib_tokens": self.class_tokens[name],
                    "examples": [str(d) for d in self.examples.get(name, [])],
                }
                for name, n in self.classes.most_common()
            },
        }


def _groups(tokens: Iterable[Token]) -> list[tuple[int, tuple[str, ...]]]:
    by_pos: dict[int, list[str]] = {}
    for pos, term in tokens:
        by_pos.setdefault(pos, []).append(term)
    return [(p, tuple(sorted(by_pos[p]))) for p in sorted(by_pos)]


_DOTTED = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]\.?")


def classify(surface: str, searchlib: Sequence[str], lucene: Sequence[str]) -> str:
    """The class of one word's difference (the first rule that applies)."""
    kept = [c for t in lucene for c in t if not c.isascii()]
    if kept and all(t.isascii() for t in searchlib):
        names = {unicodedata.name(c, "?") for c in kept}
        kinds = {unicodedata.category(c) for c in kept}
        if all(n.startswith("LATIN") for n in names):
            return "folding: Latin letters unidecode folds and asciifolding keeps"
        if kinds <= {"No", "Nl"}:
            return "folding: numbers (½, Ⅻ) unidecode spells out and asciifolding keeps"
        if all(ord(c) < 0x100 for c in kept):
            return "folding: signs (µ, º, ª) unidecode spells as letters and asciifolding keeps"
        return "folding: other scripts (Greek, Cyrillic...) unidecode transliterates"
    if len(searchlib) == len(lucene) and len(searchlib) == 1:
        return "stemming: one word, another stem"
    if "-" in surface or "'" in surface or "’" in surface or "ʼ" in surface:
        return "compounds and elision"
    if _DOTTED.fullmatch(surface):
        return "acronyms"
    if any(c.isdigit() for c in surface):
        return "numbers and ordinals"
    return "other"


def compare(
    texts: Iterable[tuple[str, str]],
    lucene: Mapping[str, Sequence[Sequence[Any]]],
    analyzer: FrenchAnalyzer,
) -> ParityReport:
    """Compare ``analyzer``'s tokens of each ``(id, text)`` with Lucene's (``[term,
    position, start, end]`` lists by id, from ``LuceneParity analyze``)."""
    report = ParityReport()
    for doc_id, text in texts:
        mine = analyzer.tokens(text, mode="index")
        theirs = lucene[doc_id]
        report.documents += 1
        report.searchlib_tokens += len(mine)
        report.lucene_tokens += len(theirs)
        a = Counter((t.pos, t.text) for t in mine)
        b = Counter((int(t[1]), str(t[0])) for t in theirs)
        matched = sum((a & b).values())
        report.matched_tokens += matched
        spans_a = Counter((t.pos, t.text, t.start, t.end) for t in mine)
        spans_b = Counter((int(t[1]), str(t[0]), int(t[2]), int(t[3])) for t in theirs)
        report.offset_differences += matched - sum((spans_a & spans_b).values())
        if a == b:
            report.identical_documents += 1
            continue
        for diff in _differences(doc_id, text, mine, a, b):
            name = classify(diff.surface, diff.searchlib, diff.lucene)
            report.classes[name] += 1
            report.class_tokens[name] += len(diff.searchlib)
            kept = report.examples.setdefault(name, [])
            if len(kept) < EXAMPLES and all(d.surface != diff.surface for d in kept):
                kept.append(diff)
    return report


def _differences(
    doc_id: str,
    text: str,
    mine: Sequence[TokenView],
    a: Counter[Token],
    b: Counter[Token],
) -> Iterator[Difference]:
    ga, gb = _groups(a.elements()), _groups(b.elements())
    surfaces: dict[int, str] = {}
    for t in mine:
        surfaces.setdefault(t.pos, t.surface)
    matcher = difflib.SequenceMatcher(a=[g[1] for g in ga], b=[g[1] for g in gb], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        positions = [g[0] for g in ga[i1:i2]]
        surface = " ".join(dict.fromkeys(surfaces.get(p, "?") for p in positions)) or "(none)"
        yield Difference(
            doc_id,
            surface,
            tuple(t for g in ga[i1:i2] for t in g[1]),
            tuple(t for g in gb[j1:j2] for t in g[1]),
        )


def read_tokens(path: Path) -> dict[str, list[list[Any]]]:
    """``LuceneParity analyze`` output: id -> tokens."""
    out: dict[str, list[list[Any]]] = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                obj = json.loads(line)
                out[str(obj["id"])] = obj["tokens"]
    return out


def write_texts(texts: Iterable[tuple[str, str]], path: Path) -> None:
    """``(id, text)`` pairs as the JSONL ``LuceneParity analyze`` reads."""
    with path.open("w", encoding="utf-8") as f:
        for doc_id, text in texts:
            f.write(json.dumps({"id": doc_id, "text": text}, ensure_ascii=False) + "\n")


def collection_texts(
    collection: Path, *, documents: int = 0, queries: int = 0
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The documents (title and text, as one text) and queries of a collection folder
    (the first ``documents`` / ``queries`` only, when not 0), NFC."""
    from searchlib import load_jsonl, normalize_text
    from searchlib.app.evaluate import load_queries

    docs: list[tuple[str, str]] = []
    for doc in load_jsonl(collection / "corpus.jsonl"):
        docs.append((doc.id, f"{doc.title}\n{doc.text}"))
        if documents and len(docs) >= documents:
            break
    found = load_queries(collection / "queries.jsonl")
    if queries:
        found = found[:queries]
    return docs, [(f"query:{qid}", normalize_text(text)) for qid, text in found]


def run(
    lucene: Any, collection: Path, scratch: Path, *, documents: int = 0, queries: int = 0
) -> dict[str, Any]:
    """Both analyzers (``title``/``text`` and ``exact``) over a collection's documents
    and queries, in searchlib and in Lucene; the reports as JSON."""
    from searchlib import Ranking
    from searchlib.opensearch.mapping import ANALYZER, EXACT_ANALYZER, index_body

    body = scratch / "index-body.json"
    body.write_text(json.dumps(index_body(Ranking()), ensure_ascii=False), encoding="utf-8")
    docs, qs = collection_texts(collection, documents=documents, queries=queries)
    texts = scratch / "texts.jsonl"
    write_texts([*docs, *qs], texts)
    out: dict[str, Any] = {"collection": collection.name}
    chains = {
        ANALYZER: FrenchAnalyzer(),
        EXACT_ANALYZER: FrenchAnalyzer(stem=False, fold=False, drop_stop_words=True),
    }
    for name, analyzer in chains.items():
        tokens = scratch / f"tokens-{name}.jsonl"
        lucene.run("analyze", body, name, texts, tokens)
        found = read_tokens(tokens)
        out[name] = {
            "documents": compare(docs, found, analyzer).as_dict(),
            "queries": compare(qs, found, analyzer).as_dict(),
        }
    return out
