"""The faster ``__init__`` of the frozen dataclasses a search makes
(:func:`searchlib._frozen.quick_init`) builds the objects the dataclass's own
``__init__`` builds, and the classes keep everything else the dataclass made."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from dataclasses import dataclass, field
from typing import Any

import pytest

from searchlib._frozen import quick_init
from searchlib.engine.pipeline import Kept
from searchlib.engine.request import SearchRequest
from searchlib.highlight import MatchSpec, Snippet
from searchlib.query.language import Group, Word, parse
from searchlib.ranking.fastpath import Executed
from searchlib.results import Hit, SearchResults, Stage, Trace


def _reference(cls: type) -> type:
    """The same dataclass as ``cls``, with the ``__init__`` dataclasses generates."""
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    twin = type(cls.__name__, (), {"__annotations__": dict(cls.__annotations__)})
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            setattr(twin, f.name, f.default)
        elif f.default_factory is not dataclasses.MISSING:
            setattr(twin, f.name, field(default_factory=f.default_factory))
    return dataclass(frozen=True, eq=params.eq)(twin)


@quick_init
@dataclass(frozen=True, slots=True)
class Sample:
    number: int
    name: str = "x"
    items: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.number < 0:
            raise ValueError("number below 0")


@quick_init
@dataclass(frozen=True)
class WithDict:
    number: int
    items: dict[str, int] = field(default_factory=dict)


def test_the_same_object_as_the_dataclass_init_makes() -> None:
    assert dataclasses.astuple(Sample(1)) == (1, "x", [])
    assert dataclasses.astuple(Sample(2, "y", [3])) == (2, "y", [3])
    assert dataclasses.astuple(Sample(number=4, items=[5])) == (4, "x", [5])
    assert Sample(1).items is not Sample(1).items  # a new default each time
    assert dataclasses.astuple(WithDict(1)) == (1, {})
    assert WithDict(2, {"a": 1}).__dict__ == {"number": 2, "items": {"a": 1}}
    with pytest.raises(ValueError, match="below 0"):
        Sample(-1)  # __post_init__ still runs
    with pytest.raises(TypeError):
        Sample()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Sample(1, "y", [], 4)  # type: ignore[call-arg]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Sample(1).number = 2  # type: ignore[misc]
    assert str(inspect.signature(Sample)) == str(inspect.signature(_reference(Sample)))


def test_equality_hash_replace_copy_and_pickling_are_the_dataclasses() -> None:
    a = Sample(1, "y", [2])
    assert a == Sample(1, "y", [2]) and a != Sample(1, "z", [2])
    assert dataclasses.replace(a, name="z") == Sample(1, "z", [2])
    assert pickle.loads(pickle.dumps(a)) == a
    assert copy.deepcopy(a) == a and copy.deepcopy(a).items is not a.items
    assert hash(Sample(1, "y", ())) == hash(Sample(1, "y", ()))  # type: ignore[arg-type]
    assert pickle.loads(pickle.dumps(WithDict(3, {"b": 2}))) == WithDict(3, {"b": 2})


def test_classes_it_cannot_take_are_refused() -> None:
    @dataclass(slots=True)
    class Mutable:
        number: int

    @dataclass(frozen=True)
    class Hidden:
        number: int
        cached: int = field(default=0, init=False)

    @dataclass(frozen=True, kw_only=True)
    class KeywordOnly:
        number: int

    for cls in (Mutable, Hidden, KeywordOnly):
        with pytest.raises(TypeError, match="quick_init"):
            quick_init(cls)


def _quick(cls: type) -> bool:
    """Whether ``cls.__init__`` is quick_init's: a frozen dataclass's own
    calls ``object.__setattr__`` for each field."""
    return "__setattr__" not in cls.__init__.__code__.co_names


def _values(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


@pytest.mark.parametrize(
    ("cls", "args", "kwargs"),
    [
        (Hit, (1, "d#0", "d", 0, 0, 1.5, "T", "x", Snippet(()), Snippet(())), {}),
        (
            Hit,
            (),
            {
                "rank": 2,
                "id": "d#1",
                "doc_id": "d",
                "position": 1,
                "start": 9,
                "score": 0.5,
                "title": "T",
                "text": "y",
                "snippet": Snippet(()),
                "title_snippet": Snippet(()),
                "fields": {"a": 1},
            },
        ),
        (Stage, ("plan", 0.1, (("x", 1),)), {}),
        (Trace, (), {}),
        (Word, ("préavis", 3), {}),
        (Word, ("conv", 0, "title", "prefix"), {}),
        (Group, ((Word("a", 0),),), {}),
        (MatchSpec, (frozenset({"a"}),), {}),
        (Executed, ([(1, 2.0)], 1), {}),
        (SearchRequest, ("préavis",), {"limit": 5, "highlight_hits": False}),
        (SearchResults, ("q", 0, 1, 10, (), MatchSpec(), 0.1), {}),
    ],
)
def test_each_class_a_search_makes_is_built_as_before(
    cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    assert _quick(cls)
    made = cls(*args, **kwargs)
    reference = _reference(cls)(*args, **kwargs)
    assert _values(made) == _values(reference)
    assert pickle.loads(pickle.dumps(made)) == made


def test_a_request_is_still_checked_and_a_query_still_parsed() -> None:
    with pytest.raises(ValueError, match="limit"):
        SearchRequest("q", limit=0)
    with pytest.raises(TypeError, match="highlight_hits"):
        SearchRequest("q", highlight_hits=1)  # type: ignore[arg-type]
    assert SearchRequest("q", limit=True.__int__()).limit == 1
    assert parse("cour fédérale") == Group((Word("cour", 0), Word("fédérale", 5)))
    assert _quick(Kept)
