"""Ranking parameters and the BM25F scorer they configure."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Literal

from whoosh.scoring import BM25F


@dataclass(frozen=True, slots=True)
class Ranking:
    """Ranking parameters.

    Attributes:
        k1: BM25 term-frequency saturation.
        b: BM25 length normalisation of the text field.
        title_b: length normalisation of the title field.
        title_boost: weight of title matches relative to text matches.
        exact_boost: weight of a match in the exact form as typed (accents
            included, unstemmed), added to the folded-and-stemmed match; 0
            turns it off.
        proximity_boost: weight of a bonus for consecutive query words found
            within ``proximity_slop`` positions of each other in the text; 0
            turns it off.
        proximity_slop: how far apart (in words) such a pair may be.
        compound_parts: weight of each part of a hyphenated query word
            (``lieu-travail``) searched as a word of its own, besides the
            compound and the parts as a phrase; 0 requires the phrase.
        typo_max_terms: a query word that no document writes is read as up
            to this many index terms, those of the closest written forms (see
            ``typo_rare_ratio``; a French word is never read as another word,
            see :mod:`searchlib.query.french_words`); 0 turns typo tolerance off.
        typo_min_length: shortest word (letters as written, folded) that is corrected.
        default_operator: how side-by-side words combine: ``"or"`` ranks
            documents with more of the words first without requiring all;
            ``"and"`` requires every word.
        acronym_boost: weight of the long form, searched as a phrase, of a
            query word that the index's documents define as an acronym
            (``cdd`` -> « contrat à durée déterminée », see
            :mod:`searchlib.query.acronyms`), per word of the long form that is no
            stop word (a phrase scores the sum of its words): at 1 the long
            form weighs about as much as one query word; 0 turns the
            expansion off.
        acronym_min_docs: a long form is used only when at least this many
            documents define the acronym with it.
        acronym_max_forms: at most this many long forms per acronym (the
            ones defined in the most documents).
        acronym_slop: how far apart (in words) consecutive words of a long
            form may stand (1: side by side, the whole long form as a
            phrase). Above 1, only the long form's content words are
            searched, each within this slop plus the stop words the long
            form has between them (3 lets « contrat de travail à durée
            déterminée » match « contrat à durée déterminée »).
        join_ordinals: a number followed by an ordinal suffix typed as a
            word of its own (``13 ème``, ``2 e``) is searched as the ordinal
            (``13ème``); ``False`` searches the two words apart.
        typo_rare_ratio: a query word whose written form the index does not
            hold (found in fewer than :data:`searchlib.query.typos.RARE_BELOW`
            passages) but whose stem it does (``licenciment`` stems as
            ``licence`` does) is read as a written form one edit away (first
            letter kept) found in this many times more passages (« licenciement »),
            unless a form of its own stem about as frequent is as close; 0
            turns it off. Words whose stem is found nowhere are read as any
            form within the edits their length allows (1 from 5 letters, 2
            from 9; see :func:`searchlib.query.typos.respellings`), per
            ``typo_max_terms``.
        semantic_weight: on an index with vectors (see :mod:`searchlib.semantic`),
            the weight of the cosine in the hybrid score ``bm25 / max(bm25) +
            semantic_weight * z(cosine)`` over the best lexical candidates; 0
            turns the semantic part off. Indexes without vectors ignore it.
        semantic_candidates: how many of the best lexical hits the hybrid
            score reorders (more when a page goes deeper).
    """

    k1: float = 0.9
    b: float = 0.4
    title_b: float = 0.4
    title_boost: float = 1.2
    exact_boost: float = 0.5
    proximity_boost: float = 0.0
    proximity_slop: int = 3
    compound_parts: float = 1.0
    typo_max_terms: int = 3
    typo_min_length: int = 5
    default_operator: Literal["or", "and"] = "or"
    acronym_boost: float = 0.5
    acronym_min_docs: int = 2
    acronym_max_forms: int = 2
    acronym_slop: int = 3
    join_ordinals: bool = True
    typo_rare_ratio: float = 10.0
    semantic_weight: float = 0.2
    semantic_candidates: int = 200

    def boosts(self) -> dict[str, float]:
        """Per-field weights."""
        return {"title": self.title_boost, "text": 1.0}

    def to_json(self) -> dict[str, Any]:
        """The parameters that differ from the defaults (what an index saves)."""
        default = Ranking()
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        }

    @classmethod
    def from_json(cls, data: object) -> Ranking:
        """Parameters as :meth:`to_json` gives them (or written by hand: names
        and values checked).

        Raises:
            ValueError: an unknown name, or a value of the wrong type, not
                finite, or negative.

        >>> Ranking.from_json({"k1": 1.5, "default_operator": "and"}).k1
        1.5
        """
        if not isinstance(data, dict):
            raise ValueError(f"ranking parameters are an object, not {type(data).__name__}")
        default = cls()
        values: dict[str, Any] = {}
        for name, value in data.items():
            if name not in _FIELDS:
                known = ", ".join(sorted(_FIELDS))
                raise ValueError(f"unknown ranking parameter {name!r} (parameters: {known})")
            values[name] = _checked(name, getattr(default, name), value)
        return cls(**values)


def _checked(name: str, default: object, value: object) -> Any:
    """``value`` for parameter ``name`` (whose default is ``default``), checked."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"ranking {name}: true or false, not {value!r}")
        return value
    if isinstance(default, str):
        if value not in ("or", "and"):
            raise ValueError(f"ranking {name}: 'or' or 'and', not {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"ranking {name}: a number, not {value!r}")
    if isinstance(default, int) and not float(value).is_integer():
        raise ValueError(f"ranking {name}: a whole number, not {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"ranking {name}: a finite number of at least 0, not {value!r}")
    return int(value) if isinstance(default, int) else float(value)


_FIELDS = frozenset(f.name for f in dataclasses.fields(Ranking))


def make_weighting(ranking: Ranking) -> BM25F:
    """The Whoosh scorer for ``ranking``."""
    return BM25F(B=ranking.b, K1=ranking.k1, title_B=ranking.title_b)
