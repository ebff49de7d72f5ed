"""The French word list searchlib ships: what its recipe makes from pyspellchecker and
simplemma, read as data (never as code), refused with a clear error when damaged, and
looked up as the set of words it holds. (Which words are French: tests/test_typos.py.)"""

from __future__ import annotations

import importlib.util
import pickle
import random
import re
import tomllib
import zlib
from pathlib import Path

import pytest
from conftest import REPO, in_ci
from hypothesis import given
from hypothesis import strategies as st

from searchlib.errors import SearchlibError
from searchlib.query.french_words import (
    FORMAT,
    WORDS_FILE,
    FrenchWords,
    format_words,
    french_words,
    read_words,
    write_words,
)


def _gzip(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    return packer.compress(data) + packer.flush()


def _shipped_text() -> str:
    return zlib.decompress(WORDS_FILE.read_bytes(), wbits=31).decode("utf-8")


# -- the shipped list and its recipe ----------------------------------------------------


@pytest.mark.slow
def test_the_shipped_list_is_what_the_recipe_makes_from_the_installed_packages() -> None:
    missing = [m for m in ("spellchecker", "simplemma") if importlib.util.find_spec(m) is None]
    if missing:
        reason = f"{' and '.join(missing)} not installed (pip install -e '.[words]')"
        if in_ci():
            pytest.fail(f"{reason}; the test extra installs them", pytrace=False)
        pytest.skip(reason)
    from searchlib.query import _build_words

    # The same words, lemmas, versions and header (python -m searchlib.query._build_words
    # makes the file again when the packages or the folding change).
    made = format_words(_build_words.build(), _build_words.sources())
    assert _shipped_text() == made
    for name in _build_words.PACKAGES:  # and the MIT licence texts beside it
        shipped = _build_words.licence_file(name).read_text(encoding="utf-8")
        assert shipped == _build_words.licence_text(name)


def test_the_shipped_list_names_its_sources_and_ships_their_licences() -> None:
    text = _shipped_text()
    header = text[: text.index("\n", text.index("# words: "))].splitlines()
    assert header[0] == FORMAT
    sources = [line for line in header if line.startswith("# source: ")]
    assert [s.split()[2] for s in sources] == ["pyspellchecker", "simplemma"]
    for line in sources:
        name, version = line.replace(",", "").split()[2:4]
        assert re.fullmatch(r"\d+(\.\d+)+", version), line
        # MIT is the licence of the packages' code, not of the data they hold
        assert f"(code: MIT licence, LICENSE-{name}.txt beside this file; " in line
        assert "data of other origins and licences: README.md beside this file)" in line
        licence = WORDS_FILE.parent / f"LICENSE-{name}.txt"
        assert licence.read_text(encoding="utf-8").startswith("MIT License\n\nCopyright (c)")
    # The notice beside the list tells where the data comes from, and under which
    # licences: simplemma's lemmas derive from ODbL, CC BY-SA and CC BY sources.
    notice = (WORDS_FILE.parent / "README.md").read_text(encoding="utf-8")
    for source in ("OpenSubtitles", "lemmatization-lists", "Wiktionary", "Wikinflection"):
        assert source in notice
    for licence_name in ("ODbL", "CC BY-SA", "CC BY 4.0"):
        assert licence_name in notice
    assert "**not** MIT-licensed data" in notice
    # The licences go into the wheel's metadata too; the word list into the package.
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "searchlib/query/data/LICENSE-*.txt" in project["license-files"]
    assert not any(re.match(r"pyspellchecker|simplemma", d) for d in project["dependencies"])
    assert len(french_words()) == int(header[-1].removeprefix("# words: ")) > 240_000


# -- read as data, refused when damaged -----------------------------------------------------


def _list_text(words: FrenchWords) -> str:
    return format_words(words, ["a test list"])


SMALL = FrenchWords(["préavis", "salaire"], [("regardent", "regarder")])
GOOD = _list_text(SMALL)


class _RunsCode:
    """Unpickling it calls a function (print): loading a list must never do so."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("unpickled: code ran",))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        # a pickle (here one whose loading runs code) is refused unread
        (_gzip(pickle.dumps(_RunsCode())), "not gzip-compressed UTF-8"),
        (_gzip(pickle.dumps(_RunsCode(), protocol=0)), "line 1: .*the first line is not"),
        (_gzip(pickle.dumps(SMALL, protocol=0)), "line 1: .*the first line is not"),
        (pickle.dumps(SMALL), "not gzip-compressed"),
        (GOOD.encode(), "not gzip-compressed"),  # not compressed
        (_gzip(GOOD.encode())[:-20], "truncated"),
        (_gzip(GOOD.encode()) + b"junk", "data after the end"),
        (_gzip(GOOD.encode("utf-16")), "not gzip-compressed UTF-8"),
        (_gzip(GOOD.replace("format 1", "format 2").encode()), "line 1: .*first line"),
        (_gzip(GOOD.replace("# words: 4", "# words: 5").encode()), "4 words where .* says 5"),
        (_gzip(GOOD.replace("# words: 4", "# words: four").encode()), "line 6: .*no number"),
        (_gzip(GOOD.replace("# words: 4\n", "").encode()), "line 6: .*no number of words"),
        (_gzip(GOOD.replace("preavis\n", "\n").encode()), "line 7: .*a blank line"),
        (_gzip(GOOD.replace("preavis", "pre avis").encode()), "line 7: .*'pre avis' is no word"),
        (_gzip(GOOD.removesuffix("\n").encode()), "where the header says"),
        (_gzip(f"{FORMAT}\n# words: 0".encode()), "line 2: .*no words after the header"),
    ],
)
def test_a_damaged_or_foreign_list_is_refused_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes, message: str
) -> None:
    path = tmp_path / "words.txt.gz"
    path.write_bytes(data)
    with pytest.raises(SearchlibError, match=f"^{re.escape(str(path))}.*({message})"):
        read_words(path)
    assert capsys.readouterr().out == ""  # no code ran


def test_a_flipped_bit_is_caught_by_the_checksum(tmp_path: Path) -> None:
    data = bytearray(_gzip(GOOD.encode()))
    data[len(data) // 2] ^= 1
    path = tmp_path / "words.txt.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(SearchlibError, match="corrupt French word list"):
        read_words(path)


def test_a_missing_list_says_to_reinstall(tmp_path: Path) -> None:
    path = tmp_path / "french_words.txt.gz"
    with pytest.raises(SearchlibError, match=r"French word list is missing \(reinstall") as e:
        read_words(path)
    assert isinstance(e.value.__cause__, FileNotFoundError) and str(path) in str(e.value)


def test_a_written_list_reads_back_as_the_same_words(tmp_path: Path) -> None:
    path = tmp_path / "words.txt.gz"
    write_words(path, SMALL, ["a test list"])
    first = path.read_bytes()
    again = read_words(path)
    assert list(again) == ["preavis", "regardent", "regarder", "salaire"] == list(SMALL)
    assert len(again) == 4 and "preavis" in again and "préavis" not in again
    assert again.same_word("regardent", "regarder") and again.lemmas("salaire") == {"salaire"}
    write_words(path, read_words(path), ["a test list"])
    assert path.read_bytes() == first  # the same bytes for the same words
    with pytest.raises(ValueError, match="one line"):
        format_words(SMALL, ["two\nlines"])


# -- looked up as a set -----------------------------------------------------------------------


def test_a_large_list_is_looked_up_as_a_set_and_a_mapping(tmp_path: Path) -> None:
    # Enough words for many indexed stretches: each word, lemma and non-word checked
    # against a set and a dict (the words at the edges of stretches too).
    rng = random.Random(7)
    forms = {"".join(rng.choices("abcdeé", k=rng.randint(1, 9))) for _ in range(4000)}
    lemma = {f: rng.choice(sorted(forms)) for f in sorted(forms)[::3]}
    words = FrenchWords(forms, lemma.items())
    path = tmp_path / "words.txt.gz"
    write_words(path, words, ["random"])
    folded = {f.replace("é", "e") for f in forms}
    lemma_of: dict[str, set[str]] = {}
    for f, m in lemma.items():
        lemma_of.setdefault(f.replace("é", "e"), {f.replace("é", "e")}).add(m.replace("é", "e"))
    for found in (words, read_words(path)):
        assert list(found) == sorted(folded) and len(found) == len(folded)
        assert len(found._firsts) >= 6  # the list is long enough
        for w in folded:
            assert w in found
            assert found.lemmas(w) == lemma_of.get(w, {w})
            for other in (w + "a", w[:-1], w + "\n", w + "\t", "\n" + w, w.upper()):
                assert (other in found) == (other in folded)
        assert "" not in found and 3 not in found and None not in found


@given(
    st.lists(st.text("abcé", min_size=1, max_size=4)),
    st.lists(st.tuples(st.text("abé", min_size=1, max_size=3), st.text("ab", min_size=1))),
    st.text("abcé\t\n ", max_size=5),
)
def test_words_are_the_folded_forms_and_lemmas(
    words: list[str], lemmas: list[tuple[str, str]], probe: str
) -> None:
    found = FrenchWords(words, lemmas)
    folded = {w.replace("é", "e") for w in words}
    folded |= {w.replace("é", "e") for pair in lemmas for w in pair}
    assert set(found) == folded and len(found) == len(folded)
    assert (probe in found) == (probe in folded)
    assert found.lemmas(probe) == (
        {probe} | {m.replace("é", "e") for f, m in lemmas if f.replace("é", "e") == probe}
        if probe in folded
        else set()
    )
