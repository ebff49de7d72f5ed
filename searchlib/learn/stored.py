"""What an index learned, as its folder holds it (``learned.json``): read again
when another process learned or forgot, checked against the index, bound to
the searcher that searches with it.

A model that cannot be read, was learned with another analyzer or index
format, or on other documents (fewer than :data:`MIN_MODEL_COVERAGE` of those
it was judged on are in the index) is not used: a
:class:`~searchlib.learn.model.ModelMismatchWarning` says why, once, and
searches rank as if nothing was learned.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from searchlib._files import file_stamp
from searchlib.learn.features import Learned
from searchlib.learn.model import (
    MODEL_FILE,
    LearnedModel,
    ModelFormatError,
    ModelMismatchWarning,
    remove,
)
from searchlib.searching import SearcherState

MIN_MODEL_COVERAGE = 0.5
"""A learned model is used only when at least this share of the documents it
was judged on (its prior) are in the index; below, it was learned on another
corpus (or most of it was deleted) and is ignored, with a warning."""


class ModelFile:
    """The learned model of an index (``folder``; ``None``: in memory).

    Args:
        folder: the index folder.
        analyzer_version: the index's analyzer version (a model learned with
            another is not used).
        format_version: the index's format version (likewise).
    """

    def __init__(self, folder: Path | None, *, analyzer_version: str, format_version: int) -> None:
        self.folder = folder
        self.analyzer_version = analyzer_version
        self.format_version = format_version
        self.model: LearnedModel | None = None
        """The model as last read (used or not: see :attr:`problem`)."""
        self.problem: str | None = None
        """Why the model is not used (``None``: it is, or there is none)."""
        self._stamp: tuple[int, int] | None = None
        self._bound: Learned | None = None

    def refresh(self) -> None:
        """Read the model again if another process learned or forgot since."""
        if self.folder is None:
            return
        now = file_stamp(self.folder / MODEL_FILE)
        if now == self._stamp:
            return
        self._stamp = now
        self._set(None)
        try:
            model = LearnedModel.load(self.folder)
        except ModelFormatError as e:
            self._reject(f"{self.folder / MODEL_FILE}: {e}")
            return
        if model is not None and (
            model.analyzer_version != self.analyzer_version
            or model.format_version != self.format_version
        ):
            self._reject(
                f"{self.folder / MODEL_FILE} was learned with analyzer "
                f"{model.analyzer_version!r} and format {model.format_version}, this index "
                f"has {self.analyzer_version!r} and {self.format_version}: run "
                "`searchlib learn` again"
            )
            return
        self.model = model

    def bound(self, state: SearcherState) -> Learned | None:
        """The model bound to ``state`` (the searcher that searches with it), or
        ``None``: none, or not used (a model learned on other documents is
        rejected here, with a warning)."""
        model = self.model
        if model is None or self.problem is not None:
            return None
        learned = self._bound
        if learned is None or learned.state is not state or learned.model is not model:
            learned = Learned(model, state)
            found, judged = learned.coverage()
            if judged and found < MIN_MODEL_COVERAGE * judged:
                where = self.folder / MODEL_FILE if self.folder else "the learned model"
                self._reject(
                    f"{where} was learned on other documents (only {found} of the {judged} "
                    "documents it was judged on are in the index): run `searchlib learn` again"
                )
                return None
            self._bound = learned
        return learned

    def replace(self, model: LearnedModel) -> None:
        """Save ``model`` as the index's (in memory only, without a folder) and use it."""
        if self.folder is not None:
            model.save(self.folder)
            self._stamp = file_stamp(self.folder / MODEL_FILE)
        self._set(model)

    def forget(self) -> bool:
        """Delete the model, never reading it; whether there was one."""
        had = self.model is not None or self.problem is not None
        if self.folder is not None:
            had = remove(self.folder) or had
            self._stamp = None
        self._set(None)
        return had

    def summary(self, state: SearcherState | None) -> dict[str, Any] | None:
        """The model's summary for ``stats``, with whether searches use it
        (``used``; ``why`` when not); ``None`` when nothing was learned."""
        if self.model is None and self.problem is None:
            return None
        if self.model is not None and self.problem is None and state is not None:
            self.bound(state)
        out = self.model.summary() if self.model is not None else {}
        out["used"] = self.problem is None and self.model is not None
        if self.problem is not None:
            out["why"] = self.problem
        return out

    def _set(self, model: LearnedModel | None) -> None:
        self.model = model
        self.problem = None
        self._bound = None

    def _reject(self, why: str) -> None:
        self.problem = why
        warnings.warn(f"learned model not used: {why}", ModelMismatchWarning, stacklevel=5)


__all__ = ["MIN_MODEL_COVERAGE", "ModelFile"]
