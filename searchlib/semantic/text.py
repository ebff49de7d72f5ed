"""What text of a passage is embedded, and which passages get a vector.

Example:
    >>> embedding_text("Congés payés", "Le salarié a droit à 2,5 jours par mois.")
    'Congés payés\\nLe salarié a droit à 2,5 jours par mois.'
"""

from __future__ import annotations

from typing import Literal

Scope = Literal["passages", "first"]
"""Which passages get a vector: ``"passages"``, every passage; ``"first"``, the
first passage of each document only (title and head of the text), whose vector
then stands for every passage of its document."""

SCOPES: tuple[Scope, ...] = ("passages", "first")


def embedding_text(title: str, text: str) -> str:
    """The text embedded for a passage: its title, a line break, its text."""
    title, text = title.strip(), text.strip()
    if not title:
        return text
    if not text:
        return title
    return f"{title}\n{text}"
