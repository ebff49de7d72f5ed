"""Small French lexical data used before Snowball stemming (folded spellings).

Snowball conflates the regular ``-aux``/``-al`` plurals (``journaux`` →
``journal``) but not these irregular ones, nor the 1990 spelling-reform
doublets listed here. Keys and values are lowercase and accent-folded.
"""

from __future__ import annotations

IRREGULAR_FORMS: dict[str, str] = {
    # -eux / -eu plurals Snowball leaves apart
    "jeux": "jeu",
    "feux": "feu",
    "lieux": "lieu",
    "voeux": "voeu",
    "cheveux": "cheveu",
    "neveux": "neveu",
    "enjeux": "enjeu",
    "milieux": "milieu",
    # -ail / -aux
    "travaux": "travail",
    "baux": "bail",
    "vitraux": "vitrail",
    "emaux": "email",
    "coraux": "corail",
    "soupiraux": "soupirail",
    "vantaux": "vantail",
    # suppletive plural
    "yeux": "oeil",
    # spelling doublets (évènement/événement already fold alike)
    "clef": "cle",
    "clefs": "cles",
}
"""Folded word -> folded form stemmed in its place."""


def _ordinal_words() -> dict[str, str]:
    units = (
        "un deux trois quatr cinqu six sept huit neuv dix onz douz treiz quatorz quinz seiz".split()
    )
    numbers = {f"{u}ieme": n for n, u in enumerate(units, start=1)}
    numbers |= {"dixseptieme": 17, "dixhuitieme": 18, "dixneuvieme": 19, "vingtieme": 20}
    numbers |= {"trentieme": 30, "quarantieme": 40, "cinquantieme": 50, "soixantieme": 60}
    numbers |= {"centieme": 100, "millieme": 1000, "deuxieme": 2, "premier": 1, "premiere": 1}
    del numbers["unieme"]  # only in compounds (vingt et unième)
    out: dict[str, str] = {}
    for word, n in numbers.items():
        out[word] = out[word + "s"] = f"{n}e"
    return out


ORDINAL_WORDS: dict[str, str] = _ordinal_words()
"""Folded ordinal word (singular or plural) -> the digit form ``13e`` (``premier`` -> ``1e``),
so ``treizième mois``, ``13e mois`` and ``13ème mois`` are one term (a hyphenated
ordinal, ``dix-septième``, by its joined form)."""
