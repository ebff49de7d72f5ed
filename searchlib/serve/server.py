"""Run the application with uvicorn until Ctrl-C.

One process: its one ``Index`` is shared by every request (a second process
would open the index again, with its own caches, and searches of one index
are serialised anyway; see ``benchmarks/studies/serve_load.py``).
"""

from __future__ import annotations

import contextlib
import socket
from typing import TextIO

import uvicorn
from starlette.types import ASGIApp

from searchlib.engine.backend import Backend
from searchlib.serve.app import create_app

LOCAL_HOSTS = ("127.0.0.1", "::1", "localhost")


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (``0``: any free port).

    Raises:
        OSError: the address is taken, or not this machine's.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named: asyncio turns Nagle's algorithm off (TCP_NODELAY) only
    # on sockets that say they are TCP; otherwise every answer on a kept-alive
    # connection waits for the client's delayed ACK (40 ms) between its headers
    # and its body.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def url_of(sock: socket.socket) -> str:
    """``http://127.0.0.1:8000/``: where ``sock`` listens."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def config(app: ASGIApp) -> uvicorn.Config:
    """How uvicorn runs ``app``: no access log, no ``Server`` header, five
    seconds for the requests under way at Ctrl-C; its C parts when installed
    (the serve extra installs them): the httptools parser and the uvloop event
    loop (``auto``), else h11 and asyncio's own loop."""
    return uvicorn.Config(
        app,
        http="auto",
        loop="auto",
        log_level="warning",
        access_log=False,
        lifespan="off",
        server_header=False,
        timeout_graceful_shutdown=5,
    )


def serve(
    index: Backend,
    *,
    label: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    write_token: str | None = None,
    time_limit: float | None = None,
    out: TextIO,
) -> None:
    """Serve ``index`` (see :func:`~searchlib.serve.app.create_app`) on
    ``host``:``port`` until Ctrl-C (or SIGTERM), saying where on ``out``.

    Raises:
        OSError: the address cannot be listened on.
    """
    app = create_app(index, label=label, write_token=write_token, time_limit=time_limit)
    sock = bind(host, port)
    server = uvicorn.Server(config(app))
    mode = "read and write" if write_token else "read-only"
    print(f"searchlib: serving {label or 'the index'} ({mode}) at {url_of(sock)}", file=out)
    if host not in LOCAL_HOSTS:
        print(
            f"searchlib: warning: listening on {host}: other machines can reach this server",
            file=out,
        )
    print("searchlib: Ctrl-C stops it", file=out, flush=True)
    with contextlib.closing(sock), contextlib.suppress(KeyboardInterrupt):
        # uvicorn finishes the requests under way, then raises the Ctrl-C again
        server.run(sockets=[sock])
    print("searchlib: stopped", file=out, flush=True)


__all__ = ["bind", "config", "serve", "url_of"]
