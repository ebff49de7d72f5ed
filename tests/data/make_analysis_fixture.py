"""Freeze the French analyzer's output into ``tests/data/analysis-fr5.json``.

Run from the repository root, with ``SEARCHLIB_SHARED`` pointing at the shared
data (for the fr-small corpus samples)::

    python tests/data/make_analysis_fixture.py

The fixture records, for a fixed and varied set of texts, what analyzer
``fr-5`` makes of them: tokens (term, position, offsets, surface, flags) in
index and query mode, ``term_positions``, the debug stages, and the terms of
each analysis lever of ``benchmarks/ablation.py``. ``tests/test_analysis_frozen.py``
checks the analyzer against it, so a change of terms cannot go unnoticed.

It was first written by the code of main at 7fbdd38, before the analyzer took
its levers as constructor parameters: the levers were then patches of the
analysis module (``benchmarks/ablation.py``), applied in child processes.
This version makes each lever with :data:`LEVERS` and writes the same file,
byte for byte. Regenerate it only when the terms change on purpose, that is
with a new ``ANALYZER_VERSION``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import sys
import unicodedata
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "analysis-fr5.json"

EDGE_CASES = [
    # elision, every apostrophe
    "l'URL L’URL lʼURL d’édition qu’il jusqu'au lorsqu’elle puisqu'on quoiqu'il",
    "n'est s'il c'est j'ai m'a t'a ç'a été QÙ'A Qu’Il JUSQU’À",
    "aujourd'hui prud’hommes presqu'île quelqu’un d'aujourd'hui l'lʼ-a jʼ ʼ aʼ",
    "l'-a l'.b 'quote' ’ ' ʼʼ l'' d’’été",
    # compounds, acronyms, numbers
    "États-Unis porte-monnaie week-end c'est-à-dire peut-il a-t-elle dis-moi lui-même",
    "M.P.A.A. U.S.A S.N.C.F. a.b.c e.g. www.example.fr J.-P. Sartre",
    "3,5 1.000.000 16 août 2007 L1234-5 R. 4127-1 art. L. 1237-19-1 2,5% 10h30 0,75 €",
    "-début fin- -- - . .. a- -b a.-b 1-2-3 x-",
    # ordinals
    "13e mois 13ème 13 ème 13 EME treizième Treizièmes 1er premier 1ère premières 2nd 2nde",
    "dix-septième vingtième 13 mois 2 e-mails 13 èmes 13 e 4 ieme 5 er 21 ère 3 iemes",
    "XIXe siècle 19e 19ème 1ers 1eres 100e 1000ème millième centièmes",
    # folding, ligatures, case, stop words, homographs
    "œuvre Œuvre cœur ex æquo Æsop fédérale FÉDÉRALE Noël garçon Straße ĳ ﬁn ﬂeur",
    "les pas de la vie été or car fin son avions sommes mais maïs même fût",
    "Les pirates américains téléchargent des œuvres ; fermée fermées travaux yeux clefs",
    # scripts and symbols
    "東京 タワー 😀 émoji 🇫🇷 Ελλάδα Москва العربية ½ ² ℃ № ™ ™️ x²",
    "e\u0301te\u0301 fe\u0301de\u0301rale",  # decomposed (tokens() expects NFC: see NFC)
    "a_b snake_case __init__ CamelCase iPhone 3D 4K COVID-19 Wi-Fi e-mail",
    "\t\n  \u00a0 \u2009 «citation» — tiret – demi ‹›‘’“”„",
    "",
    " ",
    "'",
    "-",
    "ʼ",
    "13 ",
    "a",
    "À",
]

FRAGMENTS = [
    *"aeéèçœÆlLdqu'’ʼ-.,0123456789 \n«»?!",
    "jusqu",
    "Ème",
    "e\u0301",
    "l'",
    "qu’",
    "ç'",
    "QÙ'",
    "les",
    "mais",
    "maïs",
    "été",
    "États",
    "Unis",
    "13",
    " ème",
    "e",
    "er",
    "ieme",
    "M.",
    "P.",
    "A.",
    "3,5",
    "œuvre",
    "fédérale",
    "travaux",
    "fermée",
    "dix",
    "septième",
    "premier",
    "week",
    "end",
    "prud",
    "hommes",
    "東京",
    "😀",
    "Straße",
    "\t",
    "_",
]
SEPARATORS = [" ", " ", " ", "", "-", "'", "’", ".", ",", "\n"]
RANDOM_TEXTS = 160
LEVER_RANDOM_TEXTS = 80


def random_texts(n: int, seed: int = 5) -> list[str]:
    """``n`` French-ish strings made of tricky fragments (deterministic)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        parts = [rng.choice(FRAGMENTS) + rng.choice(SEPARATORS) for _ in range(rng.randint(1, 14))]
        out.append("".join(parts))
    return out


def seed_texts() -> list[str]:
    """The seed corpus, title and paragraphs."""
    from searchlib.corpus.loaders import seed_documents

    out = []
    for doc in seed_documents():
        out.append(doc.title)
        out += [p for p in doc.text.split("\n\n") if p.strip()]
    return out


def corpus_samples(count: int = 12, chars: int = 1500) -> list[dict[str, Any]]:
    """References to fr-small documents' texts: line, length and digest of the excerpt."""
    shared = Path(os.environ.get("SEARCHLIB_SHARED", "../shared"))
    path = shared / "corpora" / "prebuilt" / "fr-small.jsonl.gz"
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line_no, line in enumerate(f):
            if line_no % 80 != 7 or len(out) >= count:
                continue
            obj = json.loads(line)
            text = unicodedata.normalize("NFC", obj["text"])[:chars]
            digest = hashlib.sha256(text.encode()).hexdigest()[:16]
            out.append({"line": line_no, "chars": chars, "sha256": digest})
    return out


def corpus_text(ref: dict[str, Any]) -> str:
    shared = Path(os.environ.get("SEARCHLIB_SHARED", "../shared"))
    path = shared / "corpora" / "prebuilt" / "fr-small.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line_no, line in enumerate(f):
            if line_no == ref["line"]:
                obj = json.loads(line)
                return unicodedata.normalize("NFC", obj["text"])[: ref["chars"]]
    raise KeyError(ref)


# -- what one analyzer makes of a text ----------------------------------------------


def tokens(analyzer: Any, text: str, mode: str) -> list[list[Any]]:
    return [
        [t.text, t.pos, t.start, t.end, t.surface, int(t.stopped), int(t.compound)]
        for t in analyzer.tokens(text, mode=mode)
    ]


def positions(analyzer: Any, text: str) -> dict[str, list[int]]:
    found = analyzer.term_positions(text)
    return {k.decode(): v for k, v in found.items()}


def stopped(analyzer: Any, text: str) -> str:
    return "".join(str(int(t.stopped)) for t in analyzer.tokens(text, mode="query"))


def stages(analyzer: Any, text: str) -> list[list[Any]]:
    return [
        [
            *(s.surface, s.elided, s.lowercase, s.folded, s.stem),
            *(int(s.stopword), int(s.compound), s.pos, s.start, s.end),
        ]
        for s in analyzer.stages(text)
    ]


CONFIGS: dict[str, dict[str, bool]] = {
    "default": {},
    "exact": {"stem": False, "fold": False, "drop_stop_words": True},
    "unstemmed": {"stem": False},
    "unfolded": {"fold": False},
}


def analyse(texts: list[str], staged: int) -> dict[str, Any]:
    """Each configuration's output for ``texts`` (the first ``staged`` get their stages).

    The default analyzer's tokens are recorded whole; the other
    configurations share its tokenizer (offsets, surfaces, compound flags),
    so their terms, with positions where stop words are dropped, say the rest.
    ``terms()`` is ``tokens()`` on the NFC text, and ``term_positions()`` the
    index-mode tokens grouped by term: the test derives them from these.
    """
    from searchlib.analysis import FrenchAnalyzer

    nfc = [unicodedata.normalize("NFC", t) for t in texts]
    default = FrenchAnalyzer()
    exact = FrenchAnalyzer(**CONFIGS["exact"])
    return {
        "default": {
            "index": [tokens(default, t, "index") for t in nfc],
            # query mode differs from index mode by the stop flags only
            "query_stopped": [stopped(default, t) for t in nfc],
            "stages": [stages(default, t) for t in nfc[:staged]],
        },
        "exact": {"index": [[tok[:2] for tok in tokens(exact, t, "index")] for t in nfc]},
        **{
            name: {"terms": [FrenchAnalyzer(**CONFIGS[name]).terms(t) for t in texts]}
            for name in ("unstemmed", "unfolded")
        },
    }


# -- the ablation levers of benchmarks/ablation.py, as constructor parameters -------------

LEVERS: dict[str, dict[str, Any]] = {
    "_no_stop_words": {"stop_words": frozenset()},
    "_no_stemming": {"stem": False},
    "_no_folding": {"fold": False},
    "_plain_snowball": {"stemmer": "SnowballStemmer(folded_fixes=False)"},
    "_no_elision": {"elisions": frozenset()},
    "_no_ordinals": {"ordinals": False},
    "_apostrophe_words_whole": {"split_apostrophes": False},
}
"""Lever (the name of its patch in benchmarks/ablation.py at 7fbdd38) -> the
``FrenchAnalyzer`` arguments that give the same analysis (the stemmer is
spelled as a string here; :func:`lever_kwargs` makes it)."""

TOKENIZER_LEVERS = {"_no_elision", "_no_ordinals", "_apostrophe_words_whole"}


def lever_kwargs(name: str) -> dict[str, Any]:
    """The ``FrenchAnalyzer`` arguments of one lever."""
    from searchlib.analysis import SnowballStemmer

    kwargs = dict(LEVERS[name])
    if "stemmer" in kwargs:
        kwargs["stemmer"] = SnowballStemmer(folded_fixes=False)
    return kwargs


def lever_output(
    name: str, texts: list[str], kwargs: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One lever's analysis (index mode), or with ``kwargs`` in its place.

    Levers of the tokenizer record offsets too; levers of the filters, terms
    and positions; the stop word lever, the query stop flags and the terms of
    the analyzer that drops stop words.
    """
    from searchlib.analysis import FrenchAnalyzer

    kwargs = lever_kwargs(name) if kwargs is None else kwargs
    nfc = [unicodedata.normalize("NFC", t) for t in texts]
    a = FrenchAnalyzer(**kwargs)
    if name == "_no_stop_words":
        exact = FrenchAnalyzer(**CONFIGS["exact"], **kwargs)
        return {
            "query_stopped": [stopped(a, t) for t in nfc],
            "exact": [[tok[:2] for tok in tokens(exact, t, "index")] for t in nfc],
        }
    width = 4 if name in TOKENIZER_LEVERS else 2
    return {"index": [[tok[:width] for tok in tokens(a, t, "index")] for t in nfc]}


def main() -> None:
    from searchlib.analysis import ANALYZER_VERSION

    texts = EDGE_CASES + random_texts(RANDOM_TEXTS) + seed_texts()
    refs = corpus_samples()
    corpus = [corpus_text(r) for r in refs]
    fixture: dict[str, Any] = {"analyzer": ANALYZER_VERSION, "texts": texts}
    fixture["analyzers"] = analyse(texts, staged=len(EDGE_CASES))
    from searchlib.analysis import FrenchAnalyzer

    fixture["corpus"] = [
        {
            **ref,
            "default": positions(FrenchAnalyzer(), text),
            "exact": positions(FrenchAnalyzer(**CONFIGS["exact"]), text),
        }
        for ref, text in zip(refs, corpus, strict=True)
    ]
    lever_texts = texts[: len(EDGE_CASES) + LEVER_RANDOM_TEXTS]
    fixture["levers"] = {name: lever_output(name, lever_texts) for name in LEVERS}
    OUT.write_text(json.dumps(fixture, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"{OUT}: {OUT.stat().st_size:,} bytes")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    main()
