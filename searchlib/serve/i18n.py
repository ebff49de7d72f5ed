"""The search page's words, in French and English, and which a request gets.

``?lang=fr`` or ``?lang=en`` chooses; otherwise the browser's
``Accept-Language`` (its preferred of the two), and French when it names neither.

Example:
    >>> pick_language(None, "en-GB,en;q=0.9,fr;q=0.8")
    'en'
    >>> pick_language("fr", "en"), pick_language(None, "de"), pick_language(None, "")
    ('fr', 'fr', 'fr')
    >>> number(1518, "fr"), number(1518, "en")
    ('1\\u202f518', '1,518')
"""

from __future__ import annotations

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"

TEXTS: dict[str, dict[str, str]] = {
    "fr": {
        "search": "Rechercher",
        "search_label": "Rechercher dans {name}",
        "placeholder": "rupture conventionnelle, préavis de démission…",
        "skip": "Aller aux résultats",
        "suggestions": "Suggestions",
        "sort": "Trier par",
        "relevance": "pertinence",
        "ascending": "{field} (croissant)",
        "descending": "{field} (décroissant)",
        "passages": "Un résultat par passage",
        "apply": "Appliquer",
        "results": "Résultats",
        "count": "{first}–{last} sur {total} {what} pour « {query} » ({ms} ms)",
        "document_word": "document",
        "documents_word": "documents",
        "passage_word": "passage",
        "passages_word": "passages",
        "none": "Aucun résultat pour « {query} ».",
        "none_on_page": "Aucun résultat en page {page} ({total} en tout).",
        "corrected": "Résultats pour « {searched} ».",
        "as_typed": "Rechercher « {typed} » tel que saisi",
        "did_you_mean": "Vouliez-vous dire « {query} » ?",
        "unknown": "Aucun document ne contient {words} : les résultats sont pour les autres mots.",
        "facets": "Affiner",
        "selected": "Filtres choisis",
        "remove": "retirer le filtre {field} : {value}",
        "pages": "Pages",
        "previous": "Précédente",
        "next": "Suivante",
        "page_n": "Page {n}",
        "back": "Retour aux résultats",
        "document": "Document",
        "fields": "Champs",
        "error": "Erreur : {message}",
        "index_holds": "{name} : {documents} documents, {passages} passages.",
        "untitled": "(sans titre)",
        "language": "English",
        "language_code": "en",
        "language_label": "Read this page in English",
    },
    "en": {
        "search": "Search",
        "search_label": "Search {name}",
        "placeholder": "rupture conventionnelle, préavis de démission…",
        "skip": "Skip to results",
        "suggestions": "Suggestions",
        "sort": "Sort by",
        "relevance": "relevance",
        "ascending": "{field} (ascending)",
        "descending": "{field} (descending)",
        "passages": "One result per passage",
        "apply": "Apply",
        "results": "Results",
        "count": "{first}–{last} of {total} {what} for “{query}” ({ms} ms)",
        "document_word": "document",
        "documents_word": "documents",
        "passage_word": "passage",
        "passages_word": "passages",
        "none": "No results for “{query}”.",
        "none_on_page": "No results on page {page} ({total} in all).",
        "corrected": "Showing results for “{searched}”.",
        "as_typed": "Search “{typed}” as typed",
        "did_you_mean": "Did you mean “{query}”?",
        "unknown": "No document holds {words}: the results are for the other words.",
        "facets": "Refine",
        "selected": "Chosen filters",
        "remove": "remove the filter {field}: {value}",
        "pages": "Pages",
        "previous": "Previous",
        "next": "Next",
        "page_n": "Page {n}",
        "back": "Back to the results",
        "document": "Document",
        "fields": "Fields",
        "error": "Error: {message}",
        "index_holds": "{name}: {documents} documents, {passages} passages.",
        "untitled": "(untitled)",
        "language": "Français",
        "language_code": "fr",
        "language_label": "Lire cette page en français",
    },
}


def pick_language(asked: str | None, accept: str | None) -> str:
    """``asked`` (``?lang=``) when it is one of :data:`LANGUAGES`, else the
    browser's preferred of them in ``accept`` (``Accept-Language``), else French."""
    if asked in LANGUAGES:
        return asked
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for item in (accept or "")[:500].split(","):
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                continue
        if q > best_q:
            best, best_q = primary, q
    return best


def number(n: int, language: str) -> str:
    """``n`` with its thousands separated as the language writes them."""
    text = f"{n:,}"
    return text.replace(",", "\u202f") if language == "fr" else text


__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "TEXTS", "number", "pick_language"]
