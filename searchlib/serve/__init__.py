"""``searchlib serve``: a search page and a JSON API over any index.

``searchlib serve --index DIR`` (or ``--index URL``, a cluster index) serves,
on 127.0.0.1 by default:

* ``/``: a search page (completion as you type, highlighted snippets,
  corrections with a one-click "search as typed", facets of the declared
  fields, sort, pages, a document view), in French or English, that works
  without JavaScript;
* ``/api/...``: the command line's JSON (``search``, ``complete``,
  ``documents/ID``, ``passages/ID``, ``explain``, ``stats``; adding and deleting
  documents with the write token only), described at ``/openapi.json``.

Needs the ``searchlib[serve]`` extra (Starlette, uvicorn, Jinja2). Nothing
else in searchlib imports this package.

* :mod:`~searchlib.serve.app`: the application, its routes and headers;
* :mod:`~searchlib.serve.service`: what requests share, errors as JSON;
* :mod:`~searchlib.serve.api` and :mod:`~searchlib.serve.page`: the JSON and
  the HTML; :mod:`~searchlib.serve.params`: query parameters checked;
* :mod:`~searchlib.serve.server`: uvicorn, started and stopped.
"""

from __future__ import annotations

from searchlib.serve.app import create_app
from searchlib.serve.server import serve

__all__ = ["create_app", "serve"]
