"""Hostile text and hostile index files.

HTML snippets escape document and query text; an index folder crafted to run
code when unpickled is refused with ``IndexCorruptError`` and runs nothing;
document ids never become paths; the library has no eval, exec or shell.
"""

from __future__ import annotations

import array
import collections
import os
import pickle
import re
from pathlib import Path
from typing import Any

import pytest
import whoosh.index
from whoosh.fields import Schema
from whoosh.filedb.filestore import FileStorage

from searchlib import Document, Index
from searchlib._whoosh.safepickle import restricted_loads
from searchlib._whoosh.storage import INDEX_NAME
from searchlib.errors import IndexCorruptError

HOSTILE = [
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    '" onmouseover="alert(1)" x="',
    "&amp; &lt;b&gt; &#x3C;script&#x3E; &unknown;",
    "<b <i>> </b",
    "<!-- commentaire --> <![CDATA[ x ]]>",
    "</mark><mark>",
]


@pytest.fixture(scope="module")
def index() -> Index:
    ix = Index.in_memory()
    ix.add(
        Document(f"h{n}", f"Titre {text}", f"La cour fédérale {text} a jugé le pirate {text}.")
        for n, text in enumerate(HOSTILE)
    )
    return ix


@pytest.mark.parametrize("query", ["cour fédérale pirate", *HOSTILE, "script alert", "mark"])
def test_snippets_escape_document_and_query_text(index: Index, query: str) -> None:
    results = index.search(query, limit=20)
    assert results.hits
    for hit in results.hits:
        for snippet in (hit.snippet, hit.title_snippet):
            out = snippet.to_html()
            bare = re.sub(r"</?mark>", "", out)
            assert "<" not in bare and ">" not in bare, out
            assert '"' not in bare and "'" not in bare, out  # safe inside attributes too
            assert "&" not in re.sub(r"&(amp|lt|gt|quot|#x27);", "", bare), out
            assert out.count("<mark>") == out.count("</mark>")


def test_a_hostile_title_is_marked_but_escaped(index: Index) -> None:
    hit = index.search("script").hits[0]
    assert hit.title_snippet.to_html() == (
        "Titre &lt;<mark>script</mark>&gt;alert(&#x27;x&#x27;)&lt;/<mark>script</mark>&gt;"
    )


# -- crafted index files ------------------------------------------------------------


class _Payload:
    """Unpickles into a call that leaves a marker file behind."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.marker}",))


class _EvilSchema(Schema):  # type: ignore[misc]
    def __init__(self, schema: Schema, marker: Path) -> None:
        super().__init__(**{name: schema[name] for name in schema.names()})
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.marker}",))


def test_a_crafted_toc_is_refused_and_runs_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    with Index.create(path) as ix:
        ix.add([Document("a", "A", "texte")])
        schema = ix._reading.store.ix.schema
    marker = tmp_path / "pwned"
    toc = whoosh.index.TOC.read(FileStorage(str(path)), INDEX_NAME)
    evil = whoosh.index.TOC(_EvilSchema(schema, marker), toc.segments, toc.generation + 1)
    evil.write(FileStorage(str(path)), INDEX_NAME)  # the newest TOC now runs os.system
    with pytest.raises(IndexCorruptError, match=r"refusing to load posix\.system") as info:
        Index.open(path)
    assert "trusted source" in str(info.value)
    assert not marker.exists()


def test_crafted_stored_fields_are_refused_and_run_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    marker = tmp_path / "pwned"
    with Index.create(path) as ix:
        writer = (
            ix._reading.store.ix.writer()
        )  # behind searchlib's back, as a crafted file would be
        writer.add_document(
            id="e#1", doc_id="e", position=0, start=0, title="Piège", text="piège",
            fields={"x": _Payload(marker)},
        )  # fmt: skip
        writer.commit()
    with Index.open(path) as ix, pytest.raises(IndexCorruptError, match="refusing"):
        ix.search("piège")
    assert not marker.exists()


@pytest.mark.parametrize(
    "obj",
    [
        b"",
        b"bytes",
        bytearray(b"x"),
        1j,
        10**40,
        {1, 2},
        frozenset({"a"}),
        collections.defaultdict(list, {"a": [1]}),
        collections.OrderedDict(a=1),
        array.array("i", [1, 2]),
        {"id": "x", "n": [1, 2.5, None, True, ("t",)]},
    ],
)
@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_plain_data_still_unpickles(obj: object, protocol: int) -> None:
    assert restricted_loads(pickle.dumps(obj, protocol)) == obj


def _global(module: str, name: str) -> bytes:
    """A protocol 4 pickle of the global ``module.name`` (STACK_GLOBAL)."""

    def text(s: str) -> bytes:
        return b"\x8c" + bytes([len(s.encode())]) + s.encode()

    return b"\x80\x04" + text(module) + text(name) + b"\x93."


@pytest.mark.parametrize(
    "payload",
    [
        b"cos\nsystem\n(S'true'\ntR.",  # protocol 0 GLOBAL, then a call
        _global("builtins", "eval"),
        _global("builtins", "getattr"),
        _global("posix", "system"),
        _global("whoosh.columns", "CompressedBytesColumn"),  # imports a named module
        _global("whoosh.index", "FileIndex.create"),  # dotted: a method
        _global("whoosh.index", "FileIndex"),  # a class outside the data modules
        _global("whoosh.filedb.filestore", "FileStorage"),
        _global("searchlib.index", "shutil"),  # a module, not a class
        _global("searchlib.seed", "default_index"),  # a function
        _global("whoosh.analysis", "unstopped"),
        _global("whoosh.fields", "os"),
        b"\x80\x02X\x01\x00\x00\x00aQ.",  # persistent id
    ],
)
def test_dangerous_globals_are_refused(payload: bytes) -> None:
    with pytest.raises(IndexCorruptError):
        restricted_loads(payload)


# -- ids, eval, shell ---------------------------------------------------------------


def test_document_ids_never_become_paths(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    ids = ["../../escape", "/etc/passwd", "C:\\windows", "a/../../b", "~root", "\x00nul"]
    before = set(tmp_path.iterdir())
    with Index.create(path) as ix:
        ix.add(Document(i, "T", f"texte {n}") for n, i in enumerate(ids))
        assert sorted(ix.search("texte", limit=10).hits, key=lambda h: h.doc_id)
        assert {h.doc_id for h in ix.search("texte", limit=10)} == set(ids)
        assert ix.document("../../escape") is not None
    assert set(tmp_path.iterdir()) - before == {path}
    created = {p.name for p in path.iterdir()}
    assert not any("escape" in name or "passwd" in name for name in created)


def test_no_eval_exec_shell_or_unrestricted_pickle_in_the_library() -> None:
    source = Path(__file__).resolve().parents[1] / "searchlib"
    banned = re.compile(
        r"(?<![\w.])(eval|exec)\(|\bcompile\([^)]*['\"]exec"  # builtins, not re.compile
        r"|os\.system|os\.popen|subprocess|shell=True"
        r"|pickle\.loads?\(|marshal\.|__import__"
    )
    # The one process the library starts is parallel.py's indexing helper: a
    # fixed argument list (sys.executable -c <code>), never through a shell.
    helper_banned = re.compile(banned.pattern.replace("|subprocess", ""))
    for file in sorted(source.rglob("*.py")):
        # The REPL runs the user's pager ($PAGER, else less) for long output: an
        # argument list, never a shell (shell=True stays banned everywhere).
        pattern = helper_banned if file.name in ("parallel.py", "repl.py") else banned
        for n, line in enumerate(file.read_text("utf-8").splitlines(), start=1):
            code = line.split("#", 1)[0]
            if file.name == "_frozen.py" and code.strip() == "exec(source, namespace)":
                continue  # (checked below)
            if pattern.search(code) and not code.lstrip().startswith((">>>", "...")):
                pytest.fail(f"{file.name}:{n}: {line.strip()}")
    # quick_init writes an __init__ as dataclasses does: the source is made of
    # the class's own field names, each checked to be an identifier, at import.
    frozen = (source / "_frozen.py").read_text("utf-8")
    assert frozen.count("exec(") == 1 and "if not f.name.isidentifier()" in frozen
    helper = (source / "_whoosh" / "parallel.py").read_text("utf-8")
    assert '[sys.executable, "-c", code]' in helper
    assert "shell=" not in helper and "os.system" not in helper
    repl = (source / "app" / "repl.py").read_text("utf-8")
    assert "subprocess.Popen(list(command), stdin=subprocess.PIPE)" in repl
    assert "shell=" not in repl and "os.system" not in repl


@pytest.mark.parametrize("query", ["{0}", "{__class__}", "%s %d %(x)s", "{!r:>{}}"])
def test_format_strings_in_queries_are_text(index: Index, query: str) -> None:
    results = index.search(query)
    assert results.query == query
