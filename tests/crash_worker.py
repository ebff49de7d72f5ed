"""A writer that commits a deterministic workload forever, for the crash tests.

Run as ``python crash_worker.py INDEX LOG FIRST_BATCH``; it appends to LOG
``start K``, ``commit K`` (all of batch K handed over, the commit begins) and
``done K`` (the commit returned), and is meant to be killed with SIGKILL at a
random moment. :func:`expected_state` replays the workload without an index,
so a test knows exactly what the index must hold after any commit.
"""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Iterator

WORDS = "cour fédérale juge pirate musique réseau œuvre téléchargement loi été".split()


def batch(k: int) -> tuple[str, list[tuple[str, str]]]:
    """Batch ``k``: ``("add", [(id, text), ...])``, ``("delete", [(id, ""), ...])``
    or ``("optimize", [])``."""
    rng = random.Random(k)
    if k % 7 == 6:
        return "optimize", []
    if k % 5 == 4:
        return "delete", [(f"b{k - 2}-{j}", "") for j in range(3)]
    docs = []
    for j in range(rng.randint(1, 25)):
        paragraphs = rng.randint(1, 6)
        text = "\n\n".join(
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 300))) + f" lot{k} doc{j}."
            for _ in range(paragraphs)
        )
        docs.append((f"b{k}-{j}", text))
    if k > 0:
        docs.append((f"b{k - 1}-0", f"remplacé par le lot {k}"))  # an update
    if len(docs) > 2:
        docs.append((docs[0][0], f"doublon du lot {k}"))  # the same id twice in one batch
    return "add", docs


def expected_state(last: int) -> dict[str, str]:
    """Texts by id after the commit of batch ``last`` (``-1``: the empty index)."""
    state: dict[str, str] = {}
    for k in range(last + 1):
        kind, docs = batch(k)
        for doc_id, text in docs:
            if kind == "delete":
                state.pop(doc_id, None)
            else:
                state[doc_id] = text
    return state


def main(path: str, log_path: str, first: int) -> None:
    from searchlib import Document, Index

    log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)

    def note(line: str) -> None:
        os.write(log, f"{line}\n".encode())

    ix = Index.open(path)
    for k in range(first, 1_000_000):
        kind, docs = batch(k)
        note(f"start {k}")

        def stream(docs: list[tuple[str, str]] = docs, k: int = k) -> Iterator[Document]:
            for doc_id, text in docs:
                yield Document(doc_id, f"Titre {doc_id}", text)
            note(f"commit {k}")

        if kind == "add":
            ix.add(stream())
        elif kind == "delete":
            note(f"commit {k}")
            ix.delete(doc_id for doc_id, _ in docs)
        else:
            note(f"commit {k}")
            ix.optimize()
        note(f"done {k}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
