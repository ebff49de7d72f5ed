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
