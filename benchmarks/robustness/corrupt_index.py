"""Disk damage: flip random bytes in an index's files, then open and search it;
and hostile side files, crafted to crash, hang or exhaust the reader.

Whoosh keeps no checksums, so damage is only found when it breaks decoding.
This counts, over ``--trials`` damaged copies of a small index (with acronyms,
a learned model and vectors), how often opening and searching gave correct
results, a side file ignored with a warning (the results of the index
without that file), a clear ``SearchlibError``, wrong results without an
error, another exception, or a hang (``--hang`` seconds). The bytes are
flipped in a ``.seg`` or ``.toc`` file, or with ``--side`` also in a side
file (``searchlib.json``, ``acronyms.json``, ``learned.json``,
``vectors.json``, the vectors' keys).

Then each crafted side file of :func:`hostile_side_files` (deep nesting,
numbers out of range, a 0.7 MB model of 10,000 trees, pipes...) is put in a
copy and the same is counted, with the seconds opening and searching took.
Memory is limited to ``--memory`` MB (a ``MemoryError`` is an "other
exception"). Nothing here can lose data that is not damaged: the point is
which errors a caller sees. Run by hand from the repository root::

    python -m benchmarks.robustness.corrupt_index --trials 500 --side
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import random
import resource
import shutil
import signal
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from searchlib import Document, Index, SearchlibError
from searchlib.analysis import ANALYZER_VERSION
from searchlib.errors import SearchlibWarning
from searchlib.index import FORMAT_VERSION
from searchlib.learn import LearnOptions
from searchlib.learn.model import feature_names
from searchlib.semantic import HashingEmbedder

QUERIES = ["cour", "mot5", "pir*", "musique loi", '"cour fédérale"', "fedrale~", "CDD"]
SIDE_FILES = ["searchlib.json", "acronyms.json", "learned.json", "vectors.json"]


class Hang(Exception):
    pass


def answers(ix: Index) -> list[object]:
    out: list[object] = []
    for q in QUERIES:
        r = ix.search(q, limit=20)
        out.append((r.total, [(h.id, h.snippet.to_html()) for h in r.hits]))
    out.append(ix.document("d3"))
    out.append(len(ix))
    return out


def _forest(names: tuple[str, ...], trees: list[list[str]]) -> str:
    head = ["tree", "version=v4", "num_class=1", f"max_feature_idx={len(names) - 1}"]
    head += ["feature_names=" + " ".join(names), ""]
    body = [line for tree in trees for line in tree]
    return "\n".join([*head, *body, "end of trees", ""])


def _split(i: int, feature: int = 5, leaf: str = "-0.5 0.5") -> list[str]:
    return [
        f"Tree={i}",
        "num_leaves=2",
        "num_cat=0",
        f"split_feature={feature}",
        "threshold=0.5",
        "decision_type=2",
        "left_child=-1",
        "right_child=-2",
        f"leaf_value={leaf}",
        "internal_value=0",
        "shrinkage=1",
        "",
    ]


def _chain(leaves: int) -> list[str]:
    inner = leaves - 1
    return [
        "Tree=0",
        f"num_leaves={leaves}",
        "num_cat=0",
        "split_feature=" + " ".join(["0"] * inner),
        "threshold=" + " ".join(str(i) for i in range(inner)),
        "decision_type=" + " ".join(["2"] * inner),
        "left_child=" + " ".join(str(~i) for i in range(inner)),
        "right_child=" + " ".join([*(str(i + 1) for i in range(inner - 1)), str(~inner)]),
        "leaf_value=" + " ".join(["0.1"] * leaves),
        "internal_value=" + " ".join(["0"] * inner),
        "shrinkage=1",
        "",
    ]


def _model(**changes: object) -> bytes:
    names = feature_names(())
    body: dict[str, Any] = {
        "format": "searchlib-learned",
        "version": 1,
        "analyzer_version": ANALYZER_VERSION,
        "format_version": FORMAT_VERSION,
        "info": {"queries": 1, "topics": 1, "judgments": 1},
        "expansion": {"weight": 0.5, "terms": 5, "associations": {"cour": [["feder", 0.5]]}},
        "prior": {},
        "sources": [],
        "reranker": {
            "library": "lightgbm 4.7.0",
            "depth": 50,
            "scale": 3.0,
            "features": list(names),
            "model": _forest(names, [_split(0)]),
        },
    }
    for path, value in changes.items():
        node: Any = body
        *parents, last = path.split("__")
        for p in parents:
            node = node[p]
        node[last] = value
    return json.dumps(body).encode()


def hostile_side_files() -> Iterator[tuple[str, str, bytes | None]]:
    """``(what, file name, content)``: crafted side files (``None``: a named pipe)."""
    names = feature_names(())
    deep = b"[" * 100_000
    for name in [*SIDE_FILES, "keys"]:
        yield f"{name}: nested 100,000 deep", name, deep
        yield f"{name}: a named pipe", name, None
        yield f"{name}: NaN and 1e999", name, b'{"version": NaN, "x": 1e999}'
        yield f"{name}: a 5,000-digit integer", name, b'{"version": 1' + b"0" * 5000 + b"}"
    yield (
        "learned.json: 4 billion features",
        "learned.json",
        _model(
            reranker__model=_forest(names, [_split(0)])
            .replace(f"max_feature_idx={len(names) - 1}", "max_feature_idx=4000000000")
            .replace("feature_names=" + " ".join(names), "")
        ),
    )
    yield (
        "learned.json: a 4096-leaf chain and 9,999 one-leaf trees (0.7 MB)",
        "learned.json",
        (
            _model(
                reranker__model=_forest(
                    names,
                    [
                        _chain(4096),
                        *(
                            [f"Tree={t}", "num_leaves=1", "num_cat=0", "leaf_value=0", ""]
                            for t in range(1, 10_000)
                        ),
                    ],
                )
            )
        ),
    )
    yield (
        "learned.json: pair of one",
        "learned.json",
        _model(expansion__associations={"cour": [["x"]]}),
    )
    yield "learned.json: 401-digit weight", "learned.json", _model(expansion__weight=10**400)
    yield "learned.json: scale 0", "learned.json", _model(reranker__scale=0)
    yield "learned.json: scale -1", "learned.json", _model(reranker__scale=-1)
    yield (
        "learned.json: reranker over 2 features",
        "learned.json",
        _model(
            reranker__features=["score", "coverage"],
            reranker__model=_forest(("score", "coverage"), [_split(0, feature=1)]),
        ),
    )
    yield (
        "learned.json: infinite leaves",
        "learned.json",
        _model(reranker__model=_forest(names, [_split(0, leaf="-inf inf")])),
    )
    yield (
        "acronyms.json: counts of another type",
        "acronyms.json",
        (b'{"version": 1, "acronyms": {"cdd": {"contrat": "x"}}}'),
    )
    yield "vectors.json: passage_tokens 0", "vectors.json", None  # filled in by place()
    yield "searchlib.json: passage_chars of 401 digits", "searchlib.json", None


def place(folder: Path, name: str, content: bytes | None, what: str) -> None:
    """Put ``content`` as side file ``name`` of the index ``folder``."""
    meta = json.loads((folder / "vectors.json").read_text(encoding="utf-8"))
    path = folder / (f"vectors-{meta['generation']}.keys.json" if name == "keys" else name)
    if content is None and "passage_tokens" in what:
        content = json.dumps({**meta, "passage_tokens": 0}).encode()
    elif content is None and "passage_chars" in what:
        own = json.loads(path.read_text(encoding="utf-8"))
        content = json.dumps({**own, "passage_chars": 10**400}).encode()
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    if content is None:
        os.mkfifo(path)
    else:
        path.write_bytes(content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hang", type=int, default=30)
    parser.add_argument("--side", action="store_true", help="flip bytes in side files too")
    parser.add_argument("--memory", type=int, default=4096, help="address space limit, MB")
    args = parser.parse_args()
    limit = args.memory << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    work = Path(tempfile.mkdtemp(prefix="corrupt-"))
    src = work / "ix"
    embedder = HashingEmbedder(16)
    with Index.create(src, embedder=embedder) as ix:
        text = "cour fédérale pirate musique loi " * 30
        ix.add(Document(f"d{i}", f"Titre {i}", f"{text} mot{i}") for i in range(200))
        cdd = "Le contrat à durée déterminée (CDD) et la cour fédérale."
        ix.add([Document("x", "X", "autre commit"), Document("c1", "C", cdd)])
        ix.add([Document("c2", "C", cdd)])
        ix.learn(
            [("q1", "cour pirate"), ("q2", "musique")],
            [("q1", "d1", 1), ("q2", "d2", 1)],
            options=LearnOptions(rerank=False, weights=(0.5,), force=("expansion",)),
        )
        expected = answers(ix)
    # The answers without each side file that may be left out with a warning.
    without: dict[str, list[object]] = {}
    for name in ("learned.json", "acronyms.json"):
        copy = work / "without"
        shutil.copytree(src, copy)
        (copy / name).unlink()
        with Index.open(copy, embedder=embedder) as ix:
            without[name] = answers(ix)
        shutil.rmtree(copy)
    rng = random.Random(args.seed)
    outcomes: collections.Counter[str] = collections.Counter()

    def hang(*_: object) -> None:
        raise Hang

    signal.signal(signal.SIGALRM, hang)

    def trial(damage: Callable[[Path], str]) -> tuple[str, float]:
        copy = work / "copy"
        shutil.copytree(src, copy)
        victim = damage(copy)
        signal.alarm(args.hang)
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", SearchlibWarning)
                with Index.open(copy, embedder=embedder) as ix:
                    got = answers(ix)
            warned = any(issubclass(w.category, SearchlibWarning) for w in caught)
            if got == expected:
                outcome = "same results"
            elif warned and got == without.get(victim):
                outcome = "file ignored with a warning"
            else:
                outcome = "WRONG results, no error"
        except SearchlibError as e:
            outcome = f"{type(e).__name__} (clear error)"
        except Hang:
            outcome = "HANG"
        except Exception as e:  # noqa: BLE001  # counted: that is the measurement
            outcome = f"OTHER {type(e).__name__}"
        finally:
            signal.alarm(0)
        seconds = time.perf_counter() - t0
        shutil.rmtree(copy)
        return outcome, seconds

    def flip(copy: Path) -> str:
        kinds = (".seg", ".toc", ".json") if args.side else (".seg", ".toc")
        victim = rng.choice([p for p in copy.iterdir() if p.suffix in kinds])
        data = bytearray(victim.read_bytes())
        for _ in range(rng.choice([1, 4, 32])):
            data[rng.randrange(len(data))] = rng.randrange(256)
        victim.write_bytes(bytes(data))
        return victim.name

    for _ in range(args.trials):
        victim: list[str] = []

        def damage(copy: Path, victim: list[str] = victim) -> str:
            victim.append(flip(copy))
            return victim[-1]

        outcome, _ = trial(damage)
        kind = Path(victim[0]).suffix if victim[0].endswith((".seg", ".toc")) else victim[0]
        outcomes[f"{outcome} [{kind}]"] += 1
    side = ", side files too" if args.side else ""
    print(f"{args.trials} damaged copies (seed {args.seed}{side}):")
    for outcome, n in outcomes.most_common():
        print(f"  {n:5d}  {outcome}")
    print("crafted side files:")
    for what, name, content in hostile_side_files():

        def craft(
            copy: Path, name: str = name, content: bytes | None = content, what: str = what
        ) -> str:
            place(copy, name, content, what)
            return name

        outcome, seconds = trial(craft)
        print(f"  {seconds:6.2f} s  {outcome:40s} {what}")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
