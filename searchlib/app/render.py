"""Text, terminal and HTML renderings of results, analyses, stats and explanations.

Shared by the CLI and the REPL; pure functions from data to strings (they
never print). Terminal colours are ANSI escapes, used only when the caller
says so (see :func:`use_color`).

Example:
    >>> from searchlib import FrenchAnalyzer
    >>> print(format_analysis(analysis_rows(FrenchAnalyzer(), "L’été"), color=False))
    pos  offsets  token  elision  lowercase  folding  stem
      0  2-5      L’été  été      été        ete      ete
"""

from __future__ import annotations

import dataclasses
import html
import os
import re
import shutil
from collections.abc import Sequence
from typing import Any, TextIO

from searchlib.analysis.analyzer import ANALYZER_VERSION, FrenchAnalyzer, normalize_text
from searchlib.documents import Document
from searchlib.engine.backend import IndexStats
from searchlib.highlight import ANSI_MARK, Snippet, visible
from searchlib.query.suggest import Completion
from searchlib.ranking.explain import Explanation
from searchlib.ranking.params import Ranking
from searchlib.results import Hit, SearchResults

BOLD, DIM, CYAN, RED, RESET = "\x1b[1m", "\x1b[2m", "\x1b[36m", "\x1b[31m", "\x1b[0m"
PLAIN_MARK = ("[", "]")


def use_color(stream: TextIO) -> bool:
    """Colours on ``stream``: a terminal, and ``NO_COLOR`` unset or empty."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def terminal_width(stream: TextIO) -> int | None:
    """Columns of the terminal ``stream`` writes to (``None`` when it is no terminal)."""
    isatty = getattr(stream, "isatty", None)
    if not (isatty and isatty()):
        return None
    return shutil.get_terminal_size().columns


_OWN_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def shown_width(text: str) -> int:
    """Columns ``text`` takes on a terminal: its own colour escapes take none
    (a document's are shown escaped, see :func:`searchlib.highlight.visible`)."""
    return len(_OWN_ESCAPE.sub("", text))


def wrap(text: str, width: int | None, indent: int = 0) -> str:
    """``text`` cut into lines of at most ``width`` columns at spaces, each
    indented by ``indent`` spaces (colour escapes take no room; a word longer
    than a line stands alone). ``width`` ``None``: one line, indented.

    >>> print(wrap("un deux trois quatre", 12, 2))
      un deux
      trois
      quatre
    """
    pad = " " * indent
    if width is None or width - indent < 10:
        return pad + text
    room = width - indent
    lines: list[str] = []
    line: list[str] = []
    used = 0
    for word in text.split(" "):
        w = shown_width(word)
        if line and used + 1 + w > room:
            lines.append(pad + " ".join(line))
            line, used = [], 0
        used += w + (1 if line else 0)
        line.append(word)
    lines.append(pad + " ".join(line))
    return "\n".join(lines)


def style(text: str, code: str, color: bool) -> str:
    """``text`` wrapped in an ANSI ``code`` when ``color``."""
    return f"{code}{text}{RESET}" if color and text else text


def plural(n: int, word: str) -> str:
    """``1 document``, ``2 documents``, ``1,518 documents``.

    >>> plural(1, "document"), plural(1518, "document")
    ('1 document', '1,518 documents')
    """
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def marked(snippet: Snippet, color: bool, *, oneline: bool = True) -> str:
    """A snippet with matches in bold yellow, or between ``[`` ``]`` without colour."""
    if color:
        return snippet.to_ansi(oneline=oneline, mark=ANSI_MARK)
    return snippet.to_text(oneline=oneline, mark=PLAIN_MARK)


# -- search results -----------------------------------------------------------


def format_hit(
    hit: Hit, color: bool, width: int | None = None, show_fields: Sequence[str] = ()
) -> str:
    """Rank, title, score and passage id; then the snippet, cut into lines of
    ``width`` columns at spaces (one line when ``None``); then the fields named
    in ``show_fields`` the hit has, if any (``*``: all)."""
    rank = style(f"{hit.rank:>3}.", DIM, color)
    title = style(marked(hit.title_snippet, color), BOLD, color) if hit.title else "(untitled)"
    score = style(f"score {hit.score:.2f}", CYAN, color)
    ident = style(f"[{visible(hit.id, newlines=False)}]", DIM, color)
    out = f"{rank} {title}  {score}  {ident}\n{wrap(marked(hit.snippet, color), width, 5)}"
    shown = format_fields(hit.fields, show_fields)
    return f"{out}\n     {style(visible(shown, newlines=False), DIM, color)}" if shown else out


def format_fields(fields: dict[str, Any], names: Sequence[str]) -> str:
    """``source=legi-codes  tags=a,b`` for the ``names`` among ``fields`` (``*``: all).

    >>> format_fields({"source": "sp", "tags": ["a", "b"], "n": 3}, ["tags", "source", "x"])
    'tags=a,b  source=sp'
    """
    wanted = list(fields) if "*" in names else [n for n in names if n in fields]
    parts = []
    for name in wanted:
        value = fields[name]
        if isinstance(value, list | tuple):
            value = ",".join(str(v) for v in value)
        parts.append(f"{name}={value}")
    return "  ".join(parts)


def format_facets(facets: dict[str, dict[str, int]], color: bool, *, top: int = 10) -> str:
    """One line per facet: its values and counts, the first ``top`` of them.

    >>> print(format_facets({"source": {"sp": 3, "legi": 1}}, color=False))
    source: sp 3 · legi 1
    """
    lines = []
    for name, counts in facets.items():
        shown = [f"{value} {count:,}" for value, count in list(counts.items())[:top]]
        more = len(counts) - top
        if more > 0:
            shown.append(f"({more:,} more)")
        lines.append(f"{style(name + ':', BOLD, color)} {' · '.join(shown) or '(none)'}")
    return "\n".join(lines)


def quoted(query: str) -> str:
    """A query in « » quotes, its control characters shown (never sent)."""
    return f"«{visible(query, newlines=False)}»"


def format_correction(results: SearchResults, color: bool) -> str:
    """``results for «pandémie» (you typed «pendemie»; as typed: +pendemie)``,
    or ``""`` when nothing was corrected."""
    if not results.corrections:
        return ""
    searched = style(quoted(results.searched), BOLD, color)
    return (
        f"results for {searched} (you typed {quoted(results.query)}; "
        f"search it as typed: {visible(results.exact_query, newlines=False)})"
    )


def format_unknown(results: SearchResults) -> str:
    """``no results for «préavis» (the results are for the other words)`` when
    some query words are in no passage but the others find some, or ``""``."""
    if not results.unknown or not results.total:
        return ""
    words = ", ".join(quoted(u.word) for u in results.unknown)
    return f"no results for {words} (the results are for the other words)"


def format_suggestion(results: SearchResults, color: bool, how: str = "") -> str:
    """``did you mean «États-Unis pandémie»?`` (then ``how`` to search it),
    or ``""`` when there is no suggestion."""
    s = results.suggestion
    if s is None:
        return ""
    return f"did you mean {style(quoted(s.query), BOLD, color)}?{how}"


def format_results(
    results: SearchResults,
    color: bool,
    width: int | None = None,
    *,
    suggestion_how: str = "",
    show_fields: Sequence[str] = (),
) -> str:
    """What was corrected, the hits of one page (``show_fields`` as for
    :func:`format_hit`), the facets asked for, a line saying where we are, and
    the did-you-mean (followed by ``suggestion_how``)."""
    lines = [line for line in (format_correction(results, color), format_unknown(results)) if line]
    searched = quoted(results.searched or results.query)
    if not results.hits:
        if results.total:
            lines.append(
                f"no results on page {results.page} for {searched} "
                f"({plural(results.total, 'result')} in all)"
            )
        else:
            lines.append(f"no results for {searched}")
    else:
        lines.extend(format_hit(h, color, width, show_fields) for h in results.hits)
        if results.facets:
            lines.append(format_facets(results.facets, color))
        first, last = results.hits[0].rank, results.hits[-1].rank
        lines.append(
            style(
                f"{first}–{last} of {plural(results.total, 'result')} for {searched} "
                f"(page {results.page}/{results.pages}, {results.elapsed_ms:.0f} ms)",
                DIM,
                color,
            )
        )
    suggestion = format_suggestion(results, color, suggestion_how)
    if suggestion:
        lines.append(suggestion)
    return "\n".join(lines)


def results_html(results: SearchResults) -> str:
    """A small standalone HTML page of the results (snippets with ``<mark>``)."""

    def esc(text: str) -> str:
        return html.escape(visible(text))

    items = []
    for hit in results.hits:
        items.append(
            f'  <li value="{hit.rank}" data-id="{esc(hit.id)}" data-score="{hit.score:.6f}">\n'
            f"    <h2>{hit.title_snippet.to_html()}</h2>\n"
            f"    <p>{hit.snippet.to_html()}</p>\n"
            f"  </li>"
        )
    body = "\n".join(items)
    notes = ""
    if results.corrections:
        notes += (
            f'<p class="correction">Results for <q>{esc(results.searched)}</q>; search '
            f"<q>{esc(results.exact_query)}</q> for what was typed.</p>\n"
        )
    if results.suggestion is not None:
        notes += f'<p class="suggestion">Did you mean <q>{esc(results.suggestion.query)}</q>?</p>\n'
    return (
        "<!DOCTYPE html>\n"
        '<html lang="fr">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{esc(results.query)} — searchlib</title>\n</head>\n<body>\n"
        f"{notes}"
        f"<p>{plural(results.total, 'result')} for <q>{esc(results.searched or results.query)}"
        f"</q>, page {results.page}</p>\n"
        f"<ol>\n{body}\n</ol>\n</body>\n</html>\n"
    )


# -- JSON of documents, passages, completions and explanations --------------------
# (``searchlib get``, ``complete`` and ``explain --json``, and searchlib serve's API)


def document_dict(doc: Document) -> dict[str, Any]:
    """``{"id", "title", "text", ...extra fields}``: a document as stored.

    >>> document_dict(Document("d1", "Titre", "Texte.", {"source": "sp"}))
    {'id': 'd1', 'title': 'Titre', 'text': 'Texte.', 'source': 'sp'}
    """
    record: dict[str, Any] = {"id": doc.id, "title": doc.title, "text": doc.text}
    record.update(doc.fields)
    return record


def passage_dict(stored: dict[str, Any]) -> dict[str, Any]:
    """``{"id", "doc_id", "position", "start", "title", "text", ...extra fields}``:
    a passage's stored fields (:meth:`Index.passage <searchlib.Index.passage>`)."""
    record = {k: stored.get(k) for k in ("id", "doc_id", "position", "start", "title", "text")}
    record.update(stored.get("fields") or {})
    return record


def completions_list(found: Sequence[Completion]) -> list[dict[str, Any]]:
    """``[{"query", "word", "frequency", "matches"}, ...]``."""
    return [dataclasses.asdict(c) for c in found]


def explanation_dict(why: Explanation) -> dict[str, Any]:
    """An explanation as JSON, its ``score`` the sum of its shares, and that ``total``."""
    why = dataclasses.replace(why, score=why.total)
    return dataclasses.asdict(why) | {"total": why.total}


# -- analysis -------------------------------------------------------------------

STAGES = ("token", "elision", "lowercase", "folding", "stem")


def analysis_rows(analyzer: FrenchAnalyzer, text: str) -> list[dict[str, Any]]:
    """Each token of ``text`` (made NFC) through each stage, JSON-ready.

    Offsets are into the NFC text. ``stem`` is the term that is indexed,
    ``stopword`` whether the term is a French stop word.
    """
    rows = []
    for s in analyzer.stages(normalize_text(text)):
        rows.append(
            {
                "token": s.surface,
                "elision": s.elided,
                "lowercase": s.lowercase,
                "folding": s.folded,
                "stem": s.stem,
                "start": s.start,
                "end": s.end,
                "position": s.pos,
                "stopword": s.stopword,
                "compound": s.compound,
            }
        )
    return rows


def analysis_json(analyzer: FrenchAnalyzer, text: str) -> dict[str, Any]:
    """``{"analyzer", "text", "terms", "tokens": [...]}``, like Elasticsearch's ``_analyze``."""
    rows = analysis_rows(analyzer, text)
    return {
        "analyzer": ANALYZER_VERSION,
        "text": normalize_text(text),
        "terms": [r["stem"] for r in rows],
        "tokens": rows,
    }


def format_analysis(rows: Sequence[dict[str, Any]], color: bool) -> str:
    """An aligned table: position, offsets, then one column per stage."""
    if not rows:
        return "(no tokens)"
    header = ["pos", "offsets", *STAGES]
    table = [header]
    notes = []
    for r in rows:
        table.append([str(r["position"]), f"{r['start']}-{r['end']}", *(str(r[k]) for k in STAGES)])
        flags = [f for f in ("stopword", "compound") if r[f]]
        notes.append(" ".join(f"({f})" for f in flags))
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = []
    for n, row in enumerate(table):
        cells = [row[0].rjust(widths[0])] + [
            c.ljust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        line = "  ".join(cells)
        if n == 0:
            line = style(line.rstrip(), BOLD, color)
        else:
            note = notes[n - 1]
            line = line.rstrip() if not note else f"{line}  {style(note, DIM, color)}"
        lines.append(line.rstrip())
    return "\n".join(lines)


# -- stats ------------------------------------------------------------------------


def stats_dict(stats: IndexStats, ranking: Ranking | None = None) -> dict[str, Any]:
    """JSON-ready index statistics (and ranking parameters, when given)."""
    out: dict[str, Any] = {
        "path": stats.path,
        "documents": stats.documents,
        "passages": stats.passages,
        "fields": list(stats.fields),
        "size_bytes": stats.size_bytes,
        "analyzer_version": stats.analyzer_version,
        "format_version": stats.format_version,
        "declared_fields": dict(stats.declared),
    }
    if ranking is not None:
        out["ranking"] = dataclasses.asdict(ranking)
    if stats.learned is not None:
        out["learned"] = stats.learned
    if stats.vectors is not None:
        out["vectors"] = stats.vectors
    return out


def format_stats(stats: IndexStats, ranking: Ranking | None = None) -> str:
    """Aligned ``key  value`` lines."""
    d = stats_dict(stats, ranking)
    rows = [
        ("index", d["path"] or "(in memory)"),
        ("documents", f"{d['documents']:,}"),
        ("passages", f"{d['passages']:,}"),
        ("fields", ", ".join(d["fields"])),
        (
            "declared",
            ", ".join(f"{k} ({v})" for k, v in d["declared_fields"].items()) or "(none)",
        ),
        ("size", format_bytes(d["size_bytes"])),
        ("analyzer", d["analyzer_version"]),
        ("format", str(d["format_version"])),
    ]
    if ranking is not None:
        params = " ".join(f"{k}={v}" for k, v in d["ranking"].items())
        rows.append(("ranking", f"BM25F {params}"))
    if stats.learned is not None:
        rows.extend(learned_rows(stats.learned))
    if stats.vectors is not None:
        v = stats.vectors
        cut = f", cut to {v['passage_tokens']} tokens" if v.get("passage_tokens") else ""
        rows.append(
            (
                "vectors",
                f"{v['count']:,} ({v['model']}, {v['dimension']} dimensions, "
                f"scope {v['scope']}{cut})",
            )
        )
    width = max(len(k) for k, _ in rows)
    # Strings read from the index's files (its path, the model's, the vectors'):
    # control characters shown, never interpreted by the terminal.
    return "\n".join(f"{k.ljust(width)}  {visible(v, newlines=False)}" for k, v in rows)


def learned_rows(learned: dict[str, Any]) -> list[tuple[str, str]]:
    """``stats`` rows for what an index learned (see ``IndexStats.learned``),
    control characters of the model's strings shown (:func:`visible`)."""
    return [(k, visible(v, newlines=False)) for k, v in _learned_rows(learned)]


def _learned_rows(learned: dict[str, Any]) -> list[tuple[str, str]]:
    if not learned.get("used"):
        return [("learned", f"not used: {learned.get('why', 'no model')}")]
    when = learned.get("learned_at", "?")
    rows = [
        (
            "learned",
            f"{when} from {learned.get('queries', 0):,} queries, {learned.get('topics', 0):,} "
            f"topics, {learned.get('judgments', 0):,} judgments ({learned.get('seconds', 0)} s)",
        )
    ]
    expansion = learned.get("expansion") or {}
    rows.append(
        (
            "expansion",
            f"{learned.get('associations', 0):,} query terms associated; up to "
            f"{expansion.get('terms', 0)} terms added at weight {expansion.get('weight', 0):g}"
            if expansion.get("weight")
            else "none (it did not help in cross-validation)",
        )
    )
    parts = learned.get("parts") or {}
    prior = f"{learned.get('prior_documents', 0):,} judged documents"
    if parts.get("prior") in ("left out", "not learned"):
        prior = f"{parts['prior']} (searches do not read it; {prior})"
    rows.append(("prior", prior))
    reranker = learned.get("reranker")
    if reranker:
        shown = (
            f"{reranker['library']}, {reranker['trees']} trees over "
            f"{len(reranker['features'])} features, top {reranker['depth']}"
        )
        if parts.get("reranker") == "forced":
            shown += " (forced)"
    else:
        status = parts.get("reranker")
        shown = f"none ({status})" if status else "none"
    rows.append(("reranker", shown))
    problems = learned.get("problems") or {}
    if problems:
        rows.append(("left out", ", ".join(f"{n:,} {what}" for what, n in problems.items())))
    return rows


def format_bytes(n: int) -> str:
    """``50795`` -> ``49.6 KiB``.

    >>> format_bytes(50795), format_bytes(12)
    ('49.6 KiB', '12 B')
    """
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


# -- explanations -------------------------------------------------------------------


def format_explanation(why: Explanation, color: bool) -> str:
    """Per field, each matched term with tf, length, idf, boost and its share."""
    lines = [style(f"{visible(why.hit_id, newlines=False)}: score {why.score:.4f}", BOLD, color)]
    if not why.contributions:
        lines.append("  no term of the query matched this passage")
    for field, shares in why.by_field().items():
        subtotal = sum(c.score for c in shares)
        lines.append(f"  {style(field, BOLD, color)}  {subtotal:.4f}")
        for c in shares:
            name = visible(c.term, newlines=False)
            if c.kind == "phrase" and c.phrase:
                name += f" (in phrase {' '.join(c.phrase)!r})"
            elif c.kind == "near" and c.phrase:
                name += f" (proximity bonus {' '.join(c.phrase)!r})"
            elif c.kind == "expansion":
                name += " (learned expansion)"
            if c.kind == "other":
                lines.append(f"    {name}  {c.score:.4f}")
                continue
            if c.kind == "learned":
                lines.append(f"    {style(f'{c.score:+8.4f}', CYAN, color)}  {name}")
                continue
            detail = (
                f"tf={c.tf:g} len={c.field_length} avg={c.avg_field_length:.1f} "
                f"idf={c.idf:.3f} b={c.b:g} k1={c.k1:g}"
                + (f" boost={c.boost:g}" if c.boost != 1.0 else "")
            )
            lines.append(f"    {style(f'{c.score:8.4f}', CYAN, color)}  {name}  {detail}")
    lines.append(
        style(
            f"  sum {why.total:.4f} = boost × idf × tf·(k1+1) / (tf + k1·(1 − b + b·len/avg))",
            DIM,
            color,
        )
    )
    if any(c.kind == "learned" for c in why.contributions):
        lines.append(
            style(
                "  learned: the reranker's share, split among its features along the trees' "
                "paths (base: the trees' starting values)",
                DIM,
                color,
            )
        )
    sem = why.semantic
    if sem is not None:
        cosine = "no vector" if sem.cosine is None else f"cosine {sem.cosine:.4f}"
        lines.append(
            f"  {style('hybrid', BOLD, color)}  {sem.score:.4f} = lexical {sem.lexical:.4f}"
            f" / best {sem.lexical_max:.4f} ({sem.lexical_share:.4f})"
            f" + semantic {sem.weight:g} × z {sem.z:+.3f} ({sem.semantic_share:+.4f});"
            f" {cosine}, z over {sem.candidates} candidates"
        )
    return "\n".join(lines)
