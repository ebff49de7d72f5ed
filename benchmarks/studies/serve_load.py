"""Load on ``searchlib serve`` next to Datasette serving an SQLite FTS5 table of the
same corpus, in the same run: requests per second, p50 and p95 latency for 1, 8
and 32 concurrent clients, errors and lost requests (both must be 0).

    python benchmarks/studies/serve_load.py --index /tmp/cdtn.index --requests 1000 --rounds 10

Both servers run as their users start them, one process each on 127.0.0.1
(``searchlib serve --index DIR``; ``datasette serve cdtn.db``, facet suggestions
off), on the same uvicorn (with httptools and uvloop when installed: the serve
extra installs them, and Datasette's uvicorn picks them too). What they print
goes to a log file in the scratch folder. The queries are the cdtn public
queries (a fixed shuffle), the same for both, each sent once to warm both
servers up (a server that has been up a while; searchlib decodes postings on
first use, SQLite reads pages) and then once per level. searchlib answers
``/api/search?q=...`` (ten documents, their snippets highlighted, typos
corrected); Datasette answers
``/cdtn/documents.json?_search=...&_size=10&_col=title`` (its FTS5 search: each
word quoted, all required; titles only, as the texts are long).

The client is bounded: ``clients`` threads, each with its own kept-alive
``httpx2.Client`` connection, each sending its next request when the last one
is answered. The connections are made, and each opened by one request, before
the clock starts. Every answer is checked inside the timed work (status 200,
JSON with the keys and at most 10 hits or rows); one that is not counts as an
error. A level's requests are sent in ``--rounds`` rounds, the two servers
taking turns (first the one, then the other, then the other way round), so
both meet the same machine whatever else runs on it; a level's figures are
those of its rounds together (requests per second over their time added up,
p50 and p95 of all their latencies). The load average at the end is printed:
on a shared machine, compare the two servers of one run, not runs.

Earlier runs stalled at 300 requests per level (Datasette idle, the requests
received but never read): its output was a pipe nobody read, and uvicorn's
access log (a line of some 140 bytes a request) filled the pipe's 64 KiB after
some 460 requests; Datasette then hung on its next log line. And the client's
32 connections (some 30 ms of CPU each, an SSL context) were made inside the
timed work, a second of the client's counted as the servers' at 100 requests.

Without ``--index``, the cdtn index is built into ``benchmarks/.scratch``
(``searchlib index``, a minute or two); the SQLite database is built there too.
"""

from __future__ import annotations

import argparse
import json
import os
import random
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
def started(argv: list[str], log: Path, base: str, ready: str) -> Iterator[str]:
    """A server process, ``base`` once ``base + ready`` answers; stopped with
    Ctrl-C after. What it prints goes to ``log``: a pipe nobody reads fills up
    (64 KiB: Datasette's access log of some 460 requests) and the server then
    hangs on its next line, every request after it lost."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        wait_for(base + ready, process, log)
        yield base
    finally:
        process.send_signal(2)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    import httpx2

    for _ in range(600):
        if process.poll() is not None:
            raise SystemExit(f"{url} did not start: {log.read_text('utf-8', 'replace')}")
        try:
            if httpx2.get(url, timeout=2).status_code == 200:
                return
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

    # The connections are made before the clock starts (an httpx2 client costs
    # some 30 ms of CPU: 32 of them would be a second of the client's, not the
    # server's), each opened by a first request that is not counted.
    clients_ = [httpx2.Client(timeout=20) for _ in range(clients)]
    start = threading.Barrier(clients + 1)

    def worker(client: httpx2.Client) -> None:
        with client:
            try:
                client.get(url, params={param: queries[0], **extra})
            except httpx2.HTTPError:
                pass  # the timed requests say what is wrong
            finally:
                start.wait()
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

    threads = [threading.Thread(target=worker, args=(c,)) for c in clients_]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {
        "clients": clients,
        "requests": len(queries),
        "seconds": wall,
        "latencies": latencies,
        "errors": errors,
        "with_hits": found[0],
    }


def figures(passes: list[dict[str, Any]]) -> dict[str, Any]:
    """The passes of one engine at one level as one: requests per second over
    their time together, p50 and p95 of all their latencies."""
    latencies = [x for p in passes for x in p["latencies"]]
    errors = [e for p in passes for e in p["errors"]]
    requests = sum(p["requests"] for p in passes)
    wall = sum(p["seconds"] for p in passes)
    ms = sorted(x * 1000 for x in latencies)
    return {
        "clients": passes[0]["clients"],
        "requests": requests,
        "per_second": len(latencies) / wall if wall else 0.0,
        "p50_ms": statistics.median(ms) if ms else float("nan"),
        "p95_ms": ms[min(len(ms) - 1, int(0.95 * len(ms)))] if ms else float("nan"),
        "errors": len(errors),
        "lost": requests - len(latencies) - len(errors),
        "with_hits": sum(p["with_hits"] for p in passes),
        "first_errors": errors[:3],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CDTN, help="cdtn-requetes folder")
    parser.add_argument("--index", type=Path, help="a searchlib index of the corpus (a copy)")
    parser.add_argument("--requests", type=int, default=1000, help="requests per level")
    parser.add_argument(
        "--rounds", type=int, default=10, help="rounds of each level, the engines taking turns"
    )
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

    ports = free_port(), free_port()
    while ports[1] == ports[0]:
        ports = ports[0], free_port()
    ours, theirs = (f"http://127.0.0.1:{port}/" for port in ports)
    serve = [
        sys.executable, "-m", "searchlib", "serve", "--index", str(index), "--port", str(ports[0]),
    ]  # fmt: skip
    datasette = [
        sys.executable, "-m", "datasette", "serve", str(db), "--port", str(ports[1]),
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
        started(serve, SCRATCH / "searchlib.log", ours, "api/stats"),
        started(datasette, SCRATCH / "datasette.log", theirs, "-/versions.json"),
    ):
        bases = {"searchlib serve": ours, "Datasette (FTS5)": theirs}
        for name, (path, param, extra, check) in engines.items():
            # a server that has been up a while: every query seen once
            level(bases[name] + path, param, extra, queries, 4, check)
        for clients in levels:
            # the level's queries in rounds, the engines taking turns (the first
            # of one round is the second of the next): both meet the same
            # machine, whatever else runs on it meanwhile
            passes: dict[str, list[dict[str, Any]]] = {name: [] for name in engines}
            for n in range(args.rounds):
                part = queries[n :: args.rounds]
                for name in list(engines) if n % 2 == 0 else list(reversed(engines)):
                    path, param, extra, check = engines[name]
                    passes[name].append(
                        level(bases[name] + path, param, extra, part, clients, check)
                    )
            for name, done in passes.items():
                row = figures(done)
                rows.append({"engine": name, **row})
                print(
                    f"{name:18} {clients:>3} clients: {row['per_second']:7.1f} req/s  "
                    f"p50 {row['p50_ms']:7.1f} ms  p95 {row['p95_ms']:7.1f} ms  "
                    f"errors {row['errors']}  lost {row['lost']}",
                    file=sys.stderr,
                )
        load = os.getloadavg()
    print(f"load average during the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
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
