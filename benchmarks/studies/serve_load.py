"""Load on ``searchlib serve`` next to Datasette serving an SQLite FTS5 table of the
same corpus, in the same run: requests per second, p50 and p95 latency for 1, 8
and 32 concurrent clients, errors and lost requests (both must be 0).

    python benchmarks/studies/serve_load.py --index /tmp/cdtn.index --requests 100

Both servers run as their users start them, one process each on 127.0.0.1
(``searchlib serve --index DIR``; ``datasette serve cdtn.db``, facet suggestions
off), on the same uvicorn. The queries are the cdtn public queries (a fixed
shuffle), the same for both, each sent once to warm both servers up (a server
that has been up a while; searchlib decodes postings on first use, SQLite reads
pages) and then once per level. searchlib answers ``/api/search?q=...`` (ten
documents, their snippets highlighted, typos corrected); Datasette answers
``/cdtn/documents.json?_search=...&_size=10&_col=title`` (its FTS5 search: each
word quoted, all required; titles only, as the texts are long). The client is
bounded: ``clients`` threads, each with its own kept-alive ``httpx2.Client``
connection, each sending its next request when the last one is answered. Every
answer is checked inside the timed work (status 200, JSON with the keys and at
most 10 hits or rows); one that is not counts as an error.

Datasette 0.65.5 stalled twice at 300 requests per level (idle, the requests
received but never read, in CLOSE-WAIT), after the warm-up at 4 clients; each
request then fails after the client's 20 s timeout.

Without ``--index``, the cdtn index is built into ``benchmarks/.scratch``
(``searchlib index``, a minute or two); the SQLite database is built there too.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SCRATCH = REPO / "benchmarks" / ".scratch" / "serve_load"
SHARED = Path(os.environ.get("SEARCHLIB_SHARED") or REPO.parent / "shared")
CDTN = SHARED / "eval-public" / "cdtn-requetes"


def load_queries(folder: Path, count: int, seed: int) -> list[str]:
    """``count`` query texts of the cdtn public queries, shuffled with ``seed``
    (repeated when there are fewer)."""
    texts = [
        json.loads(line)["text"]
        for line in (folder / "queries.jsonl").read_text("utf-8").splitlines()
        if line.strip()
    ]
    random.Random(seed).shuffle(texts)
    return [texts[i % len(texts)] for i in range(count)]


def build_sqlite(corpus: Path, db: Path) -> None:
    """``documents(id, title, text)`` and its FTS5 index ``documents_fts``
    (unicode61, accents removed: what a French user of SQLite would pick)."""
    if db.exists():
        return
    db.parent.mkdir(parents=True, exist_ok=True)
    partial = db.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    conn = sqlite3.connect(partial)
    conn.execute("create table documents (id text primary key, title text, text text)")
    with corpus.open(encoding="utf-8") as lines:
        rows = (json.loads(line) for line in lines if line.strip())
        conn.executemany(
            "insert or replace into documents values (?, ?, ?)",
            ((r["id"], r.get("title", ""), r["text"]) for r in rows),
        )
    conn.execute(
        'create virtual table documents_fts using fts5(title, text, content="documents", '
        "tokenize='unicode61 remove_diacritics 2')"
    )
    conn.execute("insert into documents_fts(documents_fts) values ('rebuild')")
    conn.commit()
    conn.close()
    partial.rename(db)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def started(argv: list[str], ready: Callable[[subprocess.Popen[str]], str]) -> Iterator[str]:
    """A server process, its base URL once it answers; stopped with Ctrl-C after."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        yield ready(process)
    finally:
        process.send_signal(2)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def searchlib_url(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    line = process.stdout.readline()
    found = re.search(r"at (http://\S+/)", line)
    if not found:
        raise SystemExit(f"searchlib serve did not start: {line}{process.stderr.read()}")  # type: ignore[union-attr]
    return found.group(1)


def wait_for(url: str) -> str:
    import httpx2

    for _ in range(600):
        try:
            if httpx2.get(url, timeout=2).status_code == 200:
                return url
        except httpx2.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"no answer from {url}")


def check_searchlib(body: Any) -> int:
    hits = body["hits"]
    assert isinstance(body["total"], int) and len(hits) == min(10, body["total"])
    return len(hits)


def check_datasette(body: Any) -> int:
    rows = body["rows"]
    assert isinstance(rows, list) and len(rows) <= 10
    return len(rows)


def level(
    url: str,
    param: str,
    extra: dict[str, str],
    queries: list[str],
    clients: int,
    check: Callable[[Any], int],
) -> dict[str, Any]:
    """``queries`` sent by ``clients`` concurrent clients (threads, each with its
    own kept-alive connection, each sending its next request when the last one
    is answered): the figures."""
    import httpx2

    pending = list(reversed(queries))
    latencies: list[float] = []
    errors: list[str] = []
    found = [0]
    guard = threading.Lock()

    def worker() -> None:
        with httpx2.Client(timeout=20) as client:
            while True:
                with guard:
                    if not pending:
                        return
                    query = pending.pop()
                t0 = time.perf_counter()
                try:
                    answer = client.get(url, params={param: query, **extra})
                    if answer.status_code != 200:
                        raise ValueError(f"status {answer.status_code}: {answer.text[:200]}")
                    hits = check(answer.json())
                except Exception as e:  # noqa: BLE001 - counted, the run goes on
                    with guard:
                        errors.append(f"{query!r}: {type(e).__name__}: {e}")
                    continue
                elapsed = time.perf_counter() - t0
                with guard:
                    latencies.append(elapsed)
                    found[0] += hits > 0

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    answered = len(latencies)
    ms = sorted(x * 1000 for x in latencies)
    return {
        "clients": clients,
        "requests": len(queries),
        "per_second": answered / wall if wall else 0.0,
        "p50_ms": statistics.median(ms) if ms else float("nan"),
        "p95_ms": ms[min(len(ms) - 1, int(0.95 * len(ms)))] if ms else float("nan"),
        "errors": len(errors),
        "lost": len(queries) - answered - len(errors),
        "with_hits": found[0],
        "first_errors": errors[:3],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CDTN, help="cdtn-requetes folder")
    parser.add_argument("--index", type=Path, help="a searchlib index of the corpus (a copy)")
    parser.add_argument("--requests", type=int, default=300, help="requests per level")
    parser.add_argument("--levels", default="1,8,32", help="concurrent clients, comma-separated")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    levels = [int(n) for n in args.levels.split(",")]
    corpus = args.corpus / "corpus.jsonl"
    index = args.index or SCRATCH / "cdtn.index"
    if not index.exists():
        SCRATCH.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "searchlib", "index", str(corpus), "--index", str(index), "-q"],
            check=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
    db = SCRATCH / "cdtn.db"
    build_sqlite(corpus, db)
    queries = load_queries(args.corpus, args.requests, args.seed)

    serve = [sys.executable, "-m", "searchlib", "serve", "--index", str(index), "--port", "0"]
    port = free_port()
    theirs = f"http://127.0.0.1:{port}/"
    datasette = [
        sys.executable, "-m", "datasette", "serve", str(db), "--port", str(port),
        "--setting", "suggest_facets", "off", "--setting", "sql_time_limit_ms", "10000",
    ]  # fmt: skip
    # name: (path, query parameter, other parameters, check of an answer)
    Engine = tuple[str, str, dict[str, str], Callable[[Any], int]]
    engines: dict[str, Engine] = {
        "searchlib serve": ("api/search", "q", {}, check_searchlib),
        "Datasette (FTS5)": (
            "cdtn/documents.json",
            "_search",
            {"_size": "10", "_col": "title"},
            check_datasette,
        ),
    }
    rows: list[dict[str, Any]] = []
    with (
        started(serve, searchlib_url) as ours,
        started(datasette, lambda p: wait_for(theirs + "-/versions.json") and theirs),
    ):
        bases = {
            "searchlib serve": wait_for(ours + "api/stats") and ours,
            "Datasette (FTS5)": theirs,
        }
        for name, (path, param, extra, check) in engines.items():
            # a server that has been up a while: every query seen once
            (level(bases[name] + path, param, extra, queries, 4, check))
        for n, clients in enumerate(levels):
            order = list(engines) if n % 2 == 0 else list(reversed(engines))
            for name in order:
                path, param, extra, check = engines[name]
                figures = level(bases[name] + path, param, extra, queries, clients, check)
                rows.append({"engine": name, **figures})
                print(
                    f"{name:18} {clients:>3} clients: {figures['per_second']:7.1f} req/s  "
                    f"p50 {figures['p50_ms']:7.1f} ms  p95 {figures['p95_ms']:7.1f} ms  "
                    f"errors {figures['errors']}  lost {figures['lost']}",
                    file=sys.stderr,
                )
    print("| engine | clients | requests | req/s | p50 ms | p95 ms | errors | lost | with hits |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in sorted(rows, key=lambda r: (r["clients"], r["engine"] != "searchlib serve")):
        print(
            f"| {r['engine']} | {r['clients']} | {r['requests']} | {r['per_second']:.1f} | "
            f"{r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['errors']} | {r['lost']} | "
            f"{r['with_hits']} |"
        )
    for r in rows:
        for e in r["first_errors"]:
            print(f"error ({r['engine']}, {r['clients']} clients): {e}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    bad = sum(r["errors"] + r["lost"] for r in rows)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
