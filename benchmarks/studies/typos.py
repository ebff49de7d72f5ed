"""Typo tolerance on real mistakes: the cdtn queries with one typo each.

The misspelt queries are made once, seeded and reproducible, and kept in
``benchmarks/studies/cdtn_misspelt.jsonl``: in each cdtn query, one content
word (letters only, 3 letters or more, no stop word) gets one edit — a letter
deleted, inserted, replaced, two neighbours swapped, or an accent dropped —
chosen with ``random.Random(f"{seed}:{query id}")``. Queries without such a
word are kept as they are (``"edit": null``).

The false corrections are counted on correctly spelt French words, made once
(``--make-words``) and kept in ``benchmarks/studies/french_words.tsv``: words
of wordfreq's large French list (words in use), letters only, lower case, 5
letters or more (shorter ones are never corrected), that Hunspell's French
dictionary accepts (``hunspell -d fr``, Grammalecte's dictionary as Debian's
hunspell-fr packages it), 1,000 drawn in each band of frequency (Zipf 1-2,
2-3, 3-4, 4 and more). Each word the index does not write is searched alone:
the share read as another word is the false-correction rate.

Then, in one run: nDCG@10 of searchlib (its tolerance, the tolerance of words
found nowhere only, and none) and of tantivy (plain, and with fuzzy terms) on
the clean and the misspelt queries, per query and per cdtn topic fold; the
clean piaf queries for searchlib; the cost of tolerance (search time, p50/p95)
and of ``Index.complete``. Run from the repository root::

    python -m benchmarks.studies.typos --make-queries
    nice python -m benchmarks.studies.typos --data ../shared/eval-public --write-results
    python -m benchmarks.studies.typos --render benchmarks/out/typos.json --write-results
    python -m benchmarks.studies.typos --complete-only --write-results   # complete() alone
    python -m benchmarks.studies.typos --make-words   # needs wordfreq and hunspell-fr
    python -m benchmarks.studies.typos --data ../shared/eval-public --checks   # a few minutes
    python -m benchmarks.studies.typos --make-words --seed 17 --words /tmp/w17.tsv
    python -m benchmarks.studies.typos --data ../shared/eval-public --checks --words /tmp/w17.tsv

``--checks`` measures what a change of the tolerance must keep: nDCG@10 of the
shipped tolerance on the clean and misspelt queries, and the false-correction
rate (printed as JSON, nothing written). The rate varies from sample to sample
(on about 2,400 words absent from the index, one word is 0.04 point): a change
is best checked on another sample of words too (``--seed`` and ``--words``).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import subprocess
import sys
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.stats import percentile
from benchmarks.studies.ablation import SCRATCH, build, topic_folds, topic_mean
from searchlib import FrenchAnalyzer, Index, Ranking, load_corpus
from searchlib.analysis.analyzer import fold, normalize_text
from searchlib.app.evaluate import load_qrels, load_queries, load_topics, per_query, run_queries
from searchlib.query.french_words import french_words

HERE = Path(__file__).resolve().parent
MISSPELT = HERE / "cdtn_misspelt.jsonl"
FRENCH_WORDS = HERE / "french_words.tsv"
BANDS = ((1.0, 2.0), (2.0, 3.0), (3.0, 4.0), (4.0, 9.0))
"""Zipf bands the French words are drawn from (Zipf: log10 of the frequency per
billion words; 4 and more are everyday words, under 2 rare ones)."""
WORDS_PER_BAND = 1000
SEED = 16
EDITS = ("deletion", "insertion", "substitution", "transposition", "accent")
LETTERS = "abcdefghijklmnopqrstuvwxyz"
SECTION = "typos"
COMMAND = "python -m benchmarks.studies.typos --data ../shared/eval-public --write-results"

VARIANTS: dict[str, dict[str, Any]] = {
    "searchlib, tolerance (shipped)": {},
    "searchlib, words whose stem is found nowhere only (before)": {"typo_rare_ratio": 0.0},
    "searchlib, no tolerance": {"typo_max_terms": 0},
}


# -- the misspelt queries ----------------------------------------------------------------


def content_words(text: str, analyzer: FrenchAnalyzer) -> list[tuple[int, int]]:
    """Spans of the words of ``text`` that may get a typo: letters only, 3 or
    more, not a stop word."""
    spans = []
    for tok in analyzer.tokens(normalize_text(text), mode="query"):
        word = text[tok.start : tok.end]
        if tok.compound or tok.stopped or len(word) < 3 or not word.isalpha():
            continue
        spans.append((tok.start, tok.end))
    return spans


def misspell(word: str, rng: random.Random) -> tuple[str, str]:
    """``word`` with one edit chosen by ``rng``, and the edit's name.

    >>> misspell("été", random.Random(1))
    ('iété', 'insertion')
    """
    accented = [i for i, c in enumerate(word) if fold(c) != c and len(fold(c)) == 1]
    swappable = [i for i in range(len(word) - 1) if word[i] != word[i + 1]]
    kinds = [
        k for k in EDITS if (k != "accent" or accented) and (k != "transposition" or swappable)
    ]
    kind = rng.choice(kinds)
    if kind == "accent":
        i = rng.choice(accented)
        return word[:i] + fold(word[i]) + word[i + 1 :], kind
    if kind == "transposition":
        i = rng.choice(swappable)
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :], kind
    if kind == "deletion":
        i = rng.randrange(len(word))
        return word[:i] + word[i + 1 :], kind
    if kind == "insertion":
        i = rng.randrange(len(word) + 1)
        return word[:i] + rng.choice(LETTERS) + word[i:], kind
    i = rng.randrange(len(word))
    other = rng.choice([c for c in LETTERS if c != fold(word[i].lower())])
    return word[:i] + other + word[i + 1 :], kind


def misspell_query(
    qid: str, text: str, analyzer: FrenchAnalyzer, seed: int = SEED
) -> dict[str, Any]:
    """One query with a typo in one content word (seeded by the query id)."""
    text = unicodedata.normalize("NFC", text)
    rng = random.Random(f"{seed}:{qid}")
    spans = content_words(text, analyzer)
    record: dict[str, Any] = {"id": qid, "text": text, "clean": text, "word": None, "edit": None}
    if not spans:
        return record
    a, b = rng.choice(spans)
    typo, kind = misspell(text[a:b], rng)
    record.update(text=text[:a] + typo + text[b:], word=text[a:b], typo=typo, edit=kind)
    return record


def make_queries(source: Path, target: Path = MISSPELT, seed: int = SEED) -> list[dict[str, Any]]:
    """Write the misspelt version of the queries in ``source`` to ``target``."""
    analyzer = FrenchAnalyzer()
    records = [misspell_query(qid, text, analyzer, seed) for qid, text in load_queries(source)]
    with target.open("w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return records


# -- correctly spelt French words -------------------------------------------------------


def hunspell_accepts(words: Sequence[str], dictionary: str = "fr") -> set[str]:
    """The words Hunspell's ``dictionary`` accepts (the ``hunspell`` command)."""
    found = subprocess.run(
        ["hunspell", "-d", dictionary, "-i", "utf-8", "-l"],
        input="\n".join(words),
        capture_output=True,
        text=True,
        check=True,
    )
    rejected = set(found.stdout.split("\n"))
    return {w for w in words if w not in rejected}


def make_words(target: Path = FRENCH_WORDS, seed: int = SEED) -> list[tuple[str, float]]:
    """Write correctly spelt French words, :data:`WORDS_PER_BAND` per Zipf band,
    with their Zipf frequency (see the module's docstring)."""
    import wordfreq  # only to make the list: pip install wordfreq

    frequencies = wordfreq.get_frequency_dict("fr", wordlist="large")
    candidates = sorted(
        w for w in frequencies if w.isalpha() and w == w.lower() and len(fold(w)) >= 5
    )
    accepted = sorted(hunspell_accepts(candidates))
    rng = random.Random(seed)
    chosen: list[tuple[str, float]] = []
    for low, high in BANDS:
        band = [w for w in accepted if low <= math.log10(frequencies[w]) + 9 < high]
        for w in sorted(rng.sample(band, min(WORDS_PER_BAND, len(band)))):
            chosen.append((w, round(math.log10(frequencies[w]) + 9, 2)))
    with target.open("w", encoding="utf-8") as f:
        f.write("# word\tzipf (see benchmarks/studies/typos.py, make_words)\n")
        for w, z in chosen:
            f.write(f"{w}\t{z}\n")
    return chosen


def load_words(path: Path = FRENCH_WORDS) -> list[tuple[str, float]]:
    """The French words of ``path`` with their Zipf frequency."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            word, zipf = line.split("\t")
            out.append((word, float(zipf)))
    return out


def false_corrections(index: Index, words: Sequence[tuple[str, float]]) -> dict[str, Any]:
    """Each French word the index does not write (its folded form is in no
    passage), searched alone: how many are read as another word (``rewritten``,
    per Zipf band and in all), and how many as a form of the word itself
    (``inflected``: ``licencient`` as « licencié », one lemma in simplemma's
    and pyspellchecker's lists)."""
    surfaces = index.search_context().state.surfaces()
    lexicon = french_words()
    bands: list[dict[str, Any]] = []
    for low, high in BANDS:
        absent = [w for w, z in words if low <= z < high and fold(w) not in surfaces]
        rewritten, inflected = [], []
        for w in absent:
            found = index.search(w, limit=1, highlight_hits=False, suggest=False)
            if found.corrections:
                read = found.corrections[0].replacement
                same = lexicon.same_word(fold(w), fold(read.lower()))
                (inflected if same else rewritten).append([w, read])
        bands.append(
            {
                "zipf": [low, high],
                "absent": len(absent),
                "rewritten": rewritten,
                "inflected": inflected,
            }
        )
    absent_all = sum(b["absent"] for b in bands)
    rewritten_all = sum(len(b["rewritten"]) for b in bands)
    return {
        "words": len(words),
        "absent": absent_all,
        "rewritten": rewritten_all,
        "inflected": sum(len(b["inflected"]) for b in bands),
        "rate": rewritten_all / absent_all if absent_all else 0.0,
        "bands": bands,
    }


def checks(data: Path, words: Path = FRENCH_WORDS) -> dict[str, Any]:
    """nDCG@10 of the shipped tolerance on the clean and misspelt cdtn queries,
    and the false-correction rate on the cdtn index (of the French words of ``words``)."""
    cdtn = data / "cdtn-requetes"
    clean = load_queries(cdtn / "queries.jsonl")
    records = [json.loads(line) for line in MISSPELT.read_text(encoding="utf-8").splitlines()]
    misspelt = [(r["id"], r["text"]) for r in records]
    qrels = load_qrels(cdtn / "qrels.tsv")
    topics = load_topics(cdtn / "topics.tsv")
    out: dict[str, Any] = {}
    with Index.open(build(cdtn, "base")) as index:
        for name, queries in (("clean", clean), ("misspelt", misspelt)):
            scores = searchlib_scores(index, queries, qrels)
            out[name] = _mean(scores)
            out[f"{name}_topic"] = topic_mean(scores, topics, set(topics.values()))
        out["false_corrections"] = false_corrections(index, load_words(words))
    return out


# -- evaluating ---------------------------------------------------------------------------


def ndcg_per_query(
    ranked: Iterable[tuple[str, Sequence[str]]], qrels: Mapping[str, Mapping[str, int]]
) -> dict[str, float]:
    """nDCG@10 of each judged query."""
    return {qid: per_query(list(docs), qrels[qid])[0] for qid, docs in ranked if qrels.get(qid)}


def searchlib_scores(
    index: Index, queries: Sequence[tuple[str, str]], qrels: Mapping[str, Mapping[str, int]]
) -> dict[str, float]:
    return ndcg_per_query(
        ((qid, [d for d, _ in docs]) for qid, docs in run_queries(index, queries, limit=100)),
        qrels,
    )


def tantivy_engine(fuzzy: bool) -> Any:
    """tantivy as the benchmark runs it; with ``fuzzy``, each analysed term is
    also searched as a fuzzy term (distance 1 from 5 letters, 2 from 9,
    transpositions one edit), as a should-clause beside the plain term."""
    from benchmarks.engines import TantivyEngine

    class Fuzzy(TantivyEngine):
        def query(self, text: str) -> Any:
            import tantivy

            terms = dict.fromkeys(self.analyzer.analyze(normalize_text(text)))
            if not terms:
                return None
            schema = self.ix.schema
            clauses = []
            for t in terms:
                for f in ("title", "text"):
                    clauses.append((tantivy.Occur.Should, tantivy.Query.term_query(schema, f, t)))
                    distance = 0 if len(t) < 5 else 1 if len(t) < 9 else 2
                    if distance:
                        fuzzy_q = tantivy.Query.fuzzy_term_query(schema, f, t, distance, True)
                        clauses.append((tantivy.Occur.Should, fuzzy_q))
            return tantivy.Query.boolean_query(clauses)

    return Fuzzy() if fuzzy else TantivyEngine()


def tantivy_scores(
    engine: Any, queries: Sequence[tuple[str, str]], qrels: Mapping[str, Mapping[str, int]]
) -> dict[str, float]:
    return ndcg_per_query(
        ((qid, [r.doc_id for r in engine.search(text, 100, False)]) for qid, text in queries),
        qrels,
    )


def timed(fn: Callable[[], object], passes: int = 3) -> float:
    """Median milliseconds of ``passes`` calls."""
    times = []
    for _ in range(passes):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return sorted(times)[len(times) // 2]


def latency(
    path: Path, queries: Sequence[str], rankings: Mapping[str, tuple[Ranking, bool]]
) -> dict[str, Any]:
    """p50/p95 search time (top 10, snippets) per row (a ranking, and whether
    did-you-mean is on), each on an index of its own, interleaved query by
    query, after a warm-up pass."""
    indexes = {}
    for name, (ranking, suggest) in rankings.items():
        indexes[name] = (Index.open(path), suggest)
        indexes[name][0].ranking = ranking
        for q in queries:  # warm-up: vocabularies, postings
            indexes[name][0].search(q, suggest=suggest)
    out: dict[str, list[float]] = {name: [] for name in rankings}
    for q in queries:
        for name, (index, suggest) in indexes.items():
            out[name].append(timed(lambda ix=index, q=q, s=suggest: ix.search(q, suggest=s)))
    for index, _ in indexes.values():
        index.close()
    return {n: {"p50": percentile(v, 50), "p95": percentile(v, 95)} for n, v in out.items()}


def completion_prefixes(queries: Sequence[tuple[str, str]], seed: int = SEED) -> list[str]:
    """Each query cut inside its last word (2 letters or more of it kept)."""
    out = []
    for qid, text in queries:
        words = text.split()
        if not words or len(words[-1]) < 3 or not words[-1][:2].isalpha():
            continue
        rng = random.Random(f"{seed}:{qid}:complete")
        last = words[-1]
        cut = rng.randrange(2, len(last))
        out.append(" ".join([*words[:-1], last[:cut]]))
    return out


def completion_latency(path: Path, prefixes: Sequence[str]) -> dict[str, Any]:
    """``Index.complete`` on a freshly opened index: the first call (reads the
    index's written forms), the first pass (counts each two-letter start met),
    then warm passes (median of 3 a prefix)."""
    with Index.open(path) as index:
        t0 = time.perf_counter()
        index.complete("co")
        first = (time.perf_counter() - t0) * 1000
        cold = []
        for p in prefixes:
            t0 = time.perf_counter()
            index.complete(p)
            cold.append((time.perf_counter() - t0) * 1000)
        warm = [timed(lambda p=p: index.complete(p)) for p in prefixes]
    return {
        "prefixes": len(prefixes),
        "first_call_ms": first,
        "cold": {"p50": percentile(cold, 50), "p95": percentile(cold, 95)},
        "warm": {"p50": percentile(warm, 50), "p95": percentile(warm, 95)},
    }


def folds_table(
    scores: Mapping[str, Mapping[str, float]], topics: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Per-topic nDCG@10 of each row on each of the 3 cdtn topic folds."""
    first = next(iter(scores.values()))
    folds = topic_folds([topics.get(q, q) for q in first])
    return [
        {name: topic_mean(s, topics, set(fold)) for name, s in scores.items()}
        | {"topics": len(fold)}
        for fold in folds
    ]


def run(data: Path) -> dict[str, Any]:
    cdtn, piaf = data / "cdtn-requetes", data / "piaf-v1.1-passages"
    clean = load_queries(cdtn / "queries.jsonl")
    if not MISSPELT.exists():
        make_queries(cdtn / "queries.jsonl")
    records = [json.loads(line) for line in MISSPELT.read_text(encoding="utf-8").splitlines()]
    misspelt = [(r["id"], r["text"]) for r in records]
    qrels = load_qrels(cdtn / "qrels.tsv")
    topics = load_topics(cdtn / "topics.tsv")
    result: dict[str, Any] = {"date": datetime.now(UTC).strftime("%Y-%m-%d"), "rows": {}}
    edits: dict[str, int] = {}
    for r in records:
        edits[str(r["edit"])] = edits.get(str(r["edit"]), 0) + 1
    result["edits"] = edits
    clean_scores: dict[str, dict[str, float]] = {}
    typo_scores: dict[str, dict[str, float]] = {}
    path = build(cdtn, "base")
    with Index.open(path) as index:
        for name, changes in VARIANTS.items():
            index.ranking = Ranking(**changes)
            clean_scores[name] = searchlib_scores(index, clean, qrels)
            typo_scores[name] = searchlib_scores(index, misspelt, qrels)
            print(name, _mean(clean_scores[name]), _mean(typo_scores[name]), file=sys.stderr)
        index.ranking = Ranking()
        result["false_corrections"] = false_corrections(index, load_words())
    rankings = {
        "no tolerance": (Ranking(typo_max_terms=0), False),
        "tolerance (shipped)": (Ranking(), False),
        "tolerance and did-you-mean (shipped search)": (Ranking(), True),
    }
    sample = random.Random(SEED).sample(range(len(misspelt)), 400)
    result["latency_misspelt"] = latency(path, [misspelt[i][1] for i in sample], rankings)
    result["latency_clean"] = latency(path, [clean[i][1] for i in sample], rankings)
    result["complete"] = completion_latency(path, completion_prefixes(clean))
    docs = list(load_corpus(cdtn / "corpus.jsonl"))
    for fuzzy in (False, True):
        engine = tantivy_engine(fuzzy)
        name = "tantivy, fuzzy terms" if fuzzy else "tantivy"
        target = SCRATCH / f"typos-tantivy-{int(fuzzy)}"
        if not target.exists():
            engine.build(docs, target)
        engine.open(target)
        clean_scores[name] = tantivy_scores(engine, clean, qrels)
        typo_scores[name] = tantivy_scores(engine, misspelt, qrels)
        engine.close()
        print(name, _mean(clean_scores[name]), _mean(typo_scores[name]), file=sys.stderr)
    for name, scores in clean_scores.items():
        result["rows"][name] = {
            "clean": _mean(scores),
            "misspelt": _mean(typo_scores[name]),
            "clean_topic": topic_mean(scores, topics, set(topics.values())),
            "misspelt_topic": topic_mean(typo_scores[name], topics, set(topics.values())),
        }
    result["folds_clean"] = folds_table(clean_scores, topics)
    result["folds_misspelt"] = folds_table(typo_scores, topics)
    piaf_queries = load_queries(piaf / "queries.jsonl")
    piaf_qrels = load_qrels(piaf / "qrels.tsv")
    with Index.open(build(piaf, "base")) as index:
        result["piaf"] = {}
        for name, changes in VARIANTS.items():
            index.ranking = Ranking(**changes)
            result["piaf"][name] = _mean(searchlib_scores(index, piaf_queries, piaf_qrels))
    changed = sum(1 for r in records if r["edit"])
    result["changed_queries"] = changed
    return result


def _band(zipf: Sequence[float]) -> str:
    """``1-2``, or ``4+`` for the last band."""
    low, high = zipf
    return f"{low:g}+" if high >= BANDS[-1][1] else f"{low:g}-{high:g}"


def _mean(scores: Mapping[str, float]) -> float:
    return sum(scores.values()) / len(scores) if scores else 0.0


def table(result: Mapping[str, Any]) -> str:
    rows = result["rows"]
    lines = [
        f"## Typo tolerance on misspelt cdtn queries ({result['date']})",
        "",
        f"`{COMMAND}`. The misspelt queries are `benchmarks/studies/cdtn_misspelt.jsonl` "
        f"(seed {SEED}): {result['changed_queries']:,} of the 3,315 public cdtn queries with one "
        "edit in one content word ("
        + ", ".join(f"{k} {v:,}" for k, v in sorted(result["edits"].items()))
        + "); the others unchanged. Top 100 documents, nDCG@10 per query (and per topic). "
        "tantivy's fuzzy terms: each analysed term also as a fuzzy term (distance 1 from 5 "
        "letters, 2 from 9), a should-clause beside the term.",
        "",
        "| engine | clean | misspelt | loss | clean, per topic | misspelt, per topic |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in rows.items():
        lines.append(
            f"| {name} | {r['clean']:.4f} | {r['misspelt']:.4f} | {r['clean'] - r['misspelt']:.4f} "
            f"| {r['clean_topic']:.4f} | {r['misspelt_topic']:.4f} |"
        )
    for key, title in (("folds_clean", "clean"), ("folds_misspelt", "misspelt")):
        names = list(rows)
        lines += [
            "",
            f"Per cdtn topic fold (3 folds of topics, seed 1, as the ablation's), {title} queries, "
            "per-topic nDCG@10:",
            "",
            "| fold | topics | " + " | ".join(names) + " |",
            "|---|---|" + "---|" * len(names),
        ]
        for i, row in enumerate(result[key], start=1):
            lines.append(
                f"| {i} | {row['topics']} | " + " | ".join(f"{row[n]:.4f}" for n in names) + " |"
            )
    lines += [
        "",
        "piaf (clean queries), nDCG@10 per query: "
        + ", ".join(f"{n} {v:.4f}" for n, v in result["piaf"].items())
        + ".",
    ]
    lines += [
        "",
        "Search time, top 10 with snippets, ms (400 sampled queries, warm, median of 3 passes, "
        "variants interleaved):",
        "",
        "| queries | " + " | ".join(f"{n} p50 / p95" for n in result["latency_misspelt"]) + " |",
        "|---|" + "---|" * len(result["latency_misspelt"]),
    ]
    for key in ("latency_clean", "latency_misspelt"):
        cells = " | ".join(f"{v['p50']:.1f} / {v['p95']:.1f}" for v in result[key].values())
        lines.append(f"| {key.split('_')[1]} | {cells} |")
    fc = result.get("false_corrections")
    if fc:
        bands = ", ".join(
            f"Zipf {_band(b['zipf'])}: {len(b['rewritten'])} of {b['absent']}" for b in fc["bands"]
        )
        examples = "; ".join(f"{w} → {r}" for b in fc["bands"] for w, r in b["rewritten"][:3])
        lines += [
            "",
            f"False corrections (shipped tolerance): of {fc['words']:,} correctly spelt French "
            f"words (`benchmarks/studies/french_words.tsv`), the {fc['absent']:,} the index does "
            f"not write, each searched alone: {fc['rewritten']:,} read as another word "
            f"({fc['rate']:.1%}; {bands})"
            + (f", e.g. {examples}" if examples else "")
            + f"; {fc['inflected']:,} read as a form of the word itself (licencient → licencié).",
        ]
    c = result["complete"]
    lines += [
        "",
        f"`Index.complete` ({c['prefixes']:,} prefixes: each cdtn query cut inside its last word): "
        f"first call on a freshly opened index {c['first_call_ms']:.0f} ms (reads the written "
        f"forms); first pass p50 {c['cold']['p50']:.1f} / p95 {c['cold']['p95']:.1f} ms (counts "
        f"each two-letter start met); warm p50 {c['warm']['p50']:.2f} / p95 "
        f"{c['warm']['p95']:.2f} ms.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="../shared/eval-public", help="eval-public folder")
    parser.add_argument("--make-queries", action="store_true", help="write the misspelt queries")
    parser.add_argument("--out", default="benchmarks/out/typos.json", help="JSON results")
    parser.add_argument("--write-results", action="store_true", help="update RESULTS.md")
    parser.add_argument("--render", metavar="JSON", help="render a saved run (no measuring)")
    parser.add_argument(
        "--complete-only", action="store_true", help="measure complete() again into --out"
    )
    parser.add_argument(
        "--make-words", action="store_true", help="write the French words (wordfreq, hunspell)"
    )
    parser.add_argument(
        "--words", type=Path, default=FRENCH_WORDS, help="the French words (made or read)"
    )
    parser.add_argument("--seed", type=int, default=SEED, help="the seed of the French words made")
    parser.add_argument(
        "--checks",
        action="store_true",
        help="nDCG@10 clean and misspelt, and the false-correction rate (printed)",
    )
    args = parser.parse_args(argv)
    data = Path(args.data)
    if args.make_words:
        words = make_words(args.words, args.seed)
        print(f"wrote {args.words} ({len(words)} words)")
        return
    if args.checks:
        print(json.dumps(checks(data, args.words), indent=2, ensure_ascii=False))
        return
    if args.complete_only:
        saved = json.loads(Path(args.out).read_text())
        clean = load_queries(data / "cdtn-requetes" / "queries.jsonl")
        path = build(data / "cdtn-requetes", "base")
        saved["complete"] = completion_latency(path, completion_prefixes(clean))
        Path(args.out).write_text(json.dumps(saved, indent=2), encoding="utf-8")
        args.render = args.out
    if args.render:
        from benchmarks.results_file import publish

        publish(SECTION, table(json.loads(Path(args.render).read_text())), args.write_results)
        return
    if args.make_queries:
        records = make_queries(data / "cdtn-requetes" / "queries.jsonl")
        print(f"wrote {MISSPELT} ({sum(1 for r in records if r['edit'])} misspelt)")
        return
    result = run(data)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2), encoding="utf-8")
    from benchmarks.results_file import publish

    publish(SECTION, table(result), args.write_results)


if __name__ == "__main__":
    main()
