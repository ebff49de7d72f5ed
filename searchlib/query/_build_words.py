"""Make searchlib's French word list, ``searchlib/query/data/french_words.txt.gz``.

For maintainers, when pyspellchecker or simplemma change (searchlib searches
with the file alone and never imports this module)::

    pip install -e '.[words]'    # pyspellchecker and simplemma, the versions the file names
    python -m searchlib.query._build_words

It reads pyspellchecker's French word list and simplemma's French lemmas
(form -> lemma) from the installed packages, folds them as
:class:`~searchlib.query.french_words.FrenchWords` does, and writes
:data:`~searchlib.query.french_words.WORDS_FILE` (the same bytes for the same
versions), with the two packages' MIT licence texts beside it
(``LICENSE-pyspellchecker.txt``, ``LICENSE-simplemma.txt``). The header of the
file names both packages and their versions. The MIT licences are those of
their code; their data comes from other sources, some under other licences
(ODbL, CC BY-SA, CC BY): ``searchlib/query/data/README.md`` says which.
``tests/test_french_words.py`` checks that the shipped files are what this
module makes from the installed packages.

It lives in the package, beside the data it makes, so that the recipe is
type-checked with the code that reads its output and ships with it (a few
kB): anyone holding searchlib can check or remake the list.
"""

from __future__ import annotations

import argparse
import importlib.metadata
from collections.abc import Sequence
from pathlib import Path

from searchlib.query.french_words import WORDS_FILE, FrenchWords, read_words, write_words

PACKAGES = {
    # distribution: what of it the list holds
    "pyspellchecker": "its French word list",
    "simplemma": "its French lemmas (form -> lemma)",
}
"""The packages the words come from, their code MIT-licensed (checked; their data's
provenance and licences: ``searchlib/query/data/README.md``)."""


def licence_file(distribution: str, folder: Path = WORDS_FILE.parent) -> Path:
    """Where the licence text of ``distribution`` is shipped."""
    return folder / f"LICENSE-{distribution}.txt"


def licence_text(distribution: str) -> str:
    """The licence text of the installed ``distribution`` (its ``LICENSE`` file)."""
    dist = importlib.metadata.distribution(distribution)
    for name in ("licenses/LICENSE", "LICENSE", "LICENSE.txt"):
        text = dist.read_text(name)
        if text:
            return text
    raise LookupError(f"{distribution}: no LICENSE file in its installed metadata")


def sources() -> list[str]:
    """The header's source lines: each package, its version, the licence of its
    code, and where its data's provenance is told."""
    out = []
    for name, what in PACKAGES.items():
        dist = importlib.metadata.distribution(name)
        fields = dist.metadata.get_all("License-Expression") or dist.metadata.get_all("License")
        licence = fields[0] if fields else ""
        if licence.removesuffix(" License") != "MIT":
            raise LookupError(f"{name} {dist.version}: licence {licence!r}, not MIT")
        out.append(
            f"{name} {dist.version} (code: MIT licence, {licence_file(name, Path('.'))} "
            f"beside this file; data of other origins and licences: README.md beside "
            f"this file): {what}"
        )
    return out


def build() -> FrenchWords:
    """The French words of the installed pyspellchecker and simplemma."""
    # Imported here: the packages are needed only to make the list.
    from simplemma.strategies.dictionaries import DefaultDictionaryFactory  # noqa: PLC0415
    from spellchecker import SpellChecker  # noqa: PLC0415

    words = SpellChecker(language="fr", distance=1).word_frequency.dictionary
    # Inflected forms to their lemmas (every lemma is a form too).
    lemmas = DefaultDictionaryFactory(cache_max_size=0).get_dictionary("fr")
    return FrenchWords(words, lemmas.items())


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=WORDS_FILE, help="the file to write")
    args = parser.parse_args(argv)
    try:
        words = build()
    except ImportError as e:
        raise SystemExit(f"{e.name} is not installed: pip install -e '.[words]'") from e
    write_words(args.out, words, sources())
    for name in PACKAGES:
        licence_file(name, args.out.parent).write_text(licence_text(name), encoding="utf-8")
    again = read_words(args.out)
    if len(again) != len(words):
        raise SystemExit(f"{args.out}: {len(again):,} words read back, {len(words):,} written")
    print(f"{args.out}: {len(words):,} words, {args.out.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
