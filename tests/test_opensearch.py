"""The OpenSearch backend without a cluster: generated settings and mappings, query
translation, search bodies, documents as bulk lines, export, results.

The translation is checked against searchlib itself: for the same queries on the same
documents, the terms and phrases it marks (``SearchResults.match``) are those of
``Index.search``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from searchlib import Document, FrenchAnalyzer, Index, Ranking, load_jsonl
from searchlib.analysis import ELISIONS, FRENCH_STOP_WORDS
from searchlib.analysis.lexicon import IRREGULAR_FORMS, ORDINAL_WORDS
from searchlib.errors import CorpusFormatError, DocumentError, QuerySyntaxError
from searchlib.fields import AllOf, Date, Exclude, Facet, Match, Range, SortKey
from searchlib.highlight import MatchSpec
from searchlib.opensearch import (
    MetadataField,
    QueryTranslator,
    TermLookups,
    UnsupportedQueryError,
    export,
    index_body,
)
from searchlib.opensearch.bulk import bulk_lines, passage_sources, unique_by_id
from searchlib.opensearch.mapping import (
    ANALYZER,
    EXACT_ANALYZER,
    analysis_settings,
    lexicon_rules,
    stemmer_fingerprint,
    transliteration_rules,
)
from searchlib.opensearch.results import (
    facets_from,
    hit_from,
    snippet_from_fragments,
    total_from,
)
from searchlib.opensearch.translate import (
    DOCUMENT_COUNT,
    HIGHLIGHT_TAGS,
    field_types,
    levenshtein,
    search_body,
)
from searchlib.query.acronyms import AcronymLexicon

CORPUS = Path(__file__).parent / "data" / "cli" / "corpus.jsonl"
OPEN, CLOSE = HIGHLIGHT_TAGS

# -- settings and mappings -------------------------------------------------------------


def test_every_analyzer_component_is_defined_or_built_in() -> None:
    analysis = analysis_settings()
    built_in = {"lowercase", "asciifolding", "whitespace"}
    for name, analyzer in analysis["analyzer"].items():
        assert analyzer["type"] == "custom", name
        assert analyzer["tokenizer"] in analysis["tokenizer"] or analyzer["tokenizer"] in built_in
        for f in analyzer["filter"]:
            assert f in analysis["filter"] or f in built_in, (name, f)
        for c in analyzer.get("char_filter", []):
            assert c in analysis["char_filter"], (name, c)


def test_word_lists_are_searchlibs_own() -> None:
    filters = analysis_settings()["filter"]
    assert filters["searchlib_elision"]["articles"] == sorted(ELISIONS)
    assert filters["searchlib_elision"]["articles_case"] is True  # QU'IL, L'État
    assert filters["searchlib_stop"]["stopwords"] == sorted(FRENCH_STOP_WORDS)


def test_lexicon_rules_give_searchlibs_term_for_each_word() -> None:
    # stemmer_override ends the chain for these words (Snowball skips keywords): the
    # right side must be exactly the term searchlib indexes for the word.
    analyzer = FrenchAnalyzer()
    rules = dict(rule.split(" => ") for rule in lexicon_rules())
    assert set(rules) == set(ORDINAL_WORDS) | set(IRREGULAR_FORMS)
    for word, term in rules.items():
        assert analyzer.terms(word) == [term], word


def test_transliteration_maps_letters_to_what_searchlib_folds_them_to() -> None:
    analyzer = FrenchAnalyzer(stem=False)
    for rule in transliteration_rules():
        letter, folded = rule.split(" => ")
        assert letter.isalnum() and folded.isascii() and folded.isalnum(), rule
        # in a word, the letter folds to the same letters (the word is cut alike)
        assert analyzer.terms(f"x{letter}x") == [f"x{folded}x"], rule


def test_bm25_parameters_come_from_the_ranking() -> None:
    body = index_body(Ranking(k1=1.1, b=0.3, title_b=0.6))
    similarity = body["settings"]["index"]["similarity"]
    assert similarity["searchlib_text"] == {
        "type": "BM25",
        "k1": 1.1,
        "b": 0.3,
        "discount_overlaps": False,  # searchlib counts a compound's joined form in lengths
    }
    assert similarity["searchlib_title"]["b"] == 0.6
    props = body["mappings"]["properties"]
    assert props["title"]["similarity"] == "searchlib_title"
    assert props["text"]["similarity"] == props["exact"]["similarity"] == "searchlib_text"
    assert body["mappings"]["_meta"]["searchlib"]["bm25"] == {"k1": 1.1, "b": 0.3, "title_b": 0.6}


def test_fields_analyzers_and_the_exact_field() -> None:
    props = index_body(Ranking())["mappings"]["properties"]
    assert props["title"]["analyzer"] == props["text"]["analyzer"] == ANALYZER
    # searchlib's exact-forms field holds the title and the text, without positions
    assert props["title"]["copy_to"] == props["text"]["copy_to"] == ["exact"]
    assert props["exact"]["analyzer"] == EXACT_ANALYZER
    assert props["exact"]["index_options"] == "freqs"
    assert props["doc_id"]["type"] == "keyword"  # collapsed on


class Declared(NamedTuple):
    """Another object with a declared field's three attributes (the protocol)."""

    name: str
    type: str
    multiple: bool


def test_declared_fields_become_typed_properties() -> None:
    declared = [
        MetadataField("source", "keyword"),
        Declared("year", "number", False),
        Declared("published", "date", False),
        MetadataField("tags", "keyword", multiple=True),
    ]
    fields = index_body(Ranking(), declared)["mappings"]["properties"]["fields"]
    assert fields["dynamic"] is False  # undeclared extras stay in _source only
    assert fields["properties"]["source"] == {"type": "keyword"}
    assert fields["properties"]["year"] == {"type": "double"}
    assert fields["properties"]["published"]["type"] == "date"
    assert fields["properties"]["tags"] == {"type": "keyword"}
    meta = index_body(Ranking(), declared)["mappings"]["_meta"]["searchlib"]
    assert meta["declared_fields"][3] == {"name": "tags", "type": "keyword", "multiple": True}


@pytest.mark.parametrize(
    "declared",
    [
        [MetadataField("year", "integer")],  # not a searchlib type
        [MetadataField("a.b", "keyword")],  # a dot is a path to OpenSearch
        [MetadataField("_x", "keyword")],
        [MetadataField("x", "keyword"), MetadataField("x", "number")],
    ],
)
def test_bad_declarations_are_refused(declared: list[MetadataField]) -> None:
    with pytest.raises(ValueError, match="declared field"):
        index_body(Ranking(), declared)


def test_meta_records_versions_and_the_stemmer() -> None:
    meta = index_body(Ranking())["mappings"]["_meta"]["searchlib"]
    assert meta["stemmer"] == stemmer_fingerprint()
    assert meta["analyzer_version"] and meta["format_version"] == 1


def test_importing_searchlib_does_not_import_the_client() -> None:
    code = "import sys, searchlib, searchlib.opensearch; print('opensearchpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- translation -------------------------------------------------------------------------


def terms_of(query: Any) -> list[tuple[str, str, float]]:
    """Every term query in a DSL tree: (field, term, boost)."""
    found: list[tuple[str, str, float]] = []
    if isinstance(query, dict):
        for key, value in query.items():
            if key == "term":
                ((field, spec),) = value.items()
                found.append((field, spec["value"], spec["boost"]))
            else:
                found.extend(terms_of(value))
    elif isinstance(query, list):
        for value in query:
            found.extend(terms_of(value))
    return found


def test_a_word_searches_title_text_and_exact_with_rankings_weights() -> None:
    ranking = Ranking(title_boost=2.0, exact_boost=0.25)
    q = QueryTranslator(ranking=ranking).translate("Fédérale").query
    assert sorted(terms_of(q)) == [
        ("exact", "fédérale", 0.25),
        ("text", "federal", 1.0),
        ("title", "federal", 2.0),
    ]


def test_stop_words_drop_unless_the_query_has_nothing_else() -> None:
    t = QueryTranslator()
    assert {term for _, term, _ in terms_of(t.translate("la cour").query)} == {"cour"}
    assert {term for _, term, _ in terms_of(t.translate("les pas").query)} == {"pas"}
    only_stops = terms_of(t.translate("les de").query)
    assert {term for _, term, _ in only_stops} == {"le", "de"}


def test_a_phrase_filters_by_position_and_scores_as_its_words() -> None:
    vide, juridique = FrenchAnalyzer().terms("vide juridique")
    q = QueryTranslator().translate('"vide juridique"').query
    title, text = q["bool"]["should"]
    assert title["bool"]["filter"] == [
        {"match_phrase": {"title": {"query": f"{vide} {juridique}", "analyzer": "searchlib_terms"}}}
    ]
    assert title["bool"]["must"] == [
        {"term": {"title": {"value": vide, "boost": 1.2}}},
        {"term": {"title": {"value": juridique, "boost": 1.2}}},
    ]
    assert text["bool"]["filter"][0]["match_phrase"]["text"]["query"] == f"{vide} {juridique}"


def test_a_compound_is_its_joined_form_its_parts_in_order_and_each_part() -> None:
    q = QueryTranslator(ranking=Ranking(compound_parts=0.5)).translate("États-Unis").query
    found = terms_of(q)
    assert ("title", "etatsun", 1.2) in found  # the joined form
    assert ("text", "etat", 0.5) in found and ("text", "unis", 0.5) in found  # loose parts
    phrases = [json.dumps(x) for x in q["bool"]["should"] if "filter" in json.dumps(x)]
    assert len(phrases) == 1 and "etat unis" in phrases[0]


def test_an_inversion_is_found_by_its_joined_form_only() -> None:
    q = QueryTranslator().translate("peut-il").query
    assert {term for _, term, _ in terms_of(q)} == {"peutil"}


def test_operators_fields_and_groups() -> None:
    t = QueryTranslator()
    q = t.translate("pirates AND russes").query
    assert list(q["bool"]) == ["must"] and len(q["bool"]["must"]) == 2
    q = t.translate("site OR blog -juge").query
    assert q["bool"]["must_not"][0] == t.translate("juge").query
    q = t.translate("NOT juge").query  # nothing positive: all documents but those
    assert q["bool"]["must"] == [{"match_all": {}}]
    q = t.translate("title:musique").query
    assert q == {"term": {"title": {"value": "musiqu", "boost": 1.2}}}  # no exact bonus
    with pytest.raises(QuerySyntaxError):
        t.translate("chat AND")


def test_default_operator_and_requires_every_word() -> None:
    q = QueryTranslator(ranking=Ranking(default_operator="and")).translate("cour juge").query
    assert list(q["bool"]) == ["must"]


def test_an_ordinal_typed_apart_is_one_word() -> None:
    q = QueryTranslator().translate("13 ème mois").query
    assert {term for _, term, _ in terms_of(q)} == {"13e", "13ème", *FrenchAnalyzer().terms("mois")}


def test_acronyms_expand_to_their_long_forms_from_the_lexicon() -> None:
    lexicon = AcronymLexicon({"cdd": {"contrat à durée déterminée": 3}})
    ranking = Ranking(acronym_boost=0.6, acronym_slop=3)
    q = QueryTranslator(ranking=ranking, acronyms=lexicon).translate("CDD").query
    text = json.dumps(q)
    # content words only, each gap within the slop plus the stop word between them
    assert '"span_term": {"text": "contrat"}' in text and '"span_term": {"text": "dur"}' in text
    assert '"slop": 3' in text  # 3 + 1 stop word (à) - 1: Lucene counts positions between
    weights = [b for f, t, b in terms_of(q) if t == "contrat" and f == "text"]
    assert weights == [pytest.approx(0.6 / 3)]  # acronym_boost / content words
    assert "contrat" not in json.dumps(QueryTranslator().translate("CDD").query)


class Lookups:
    """Term look-ups from a fixed table (what a cluster's term dictionary answers)."""

    def __init__(self, df: dict[tuple[str, str], int]) -> None:
        self.df = df

    def lookup(
        self, frequencies: Collection[tuple[str, str]], neighbours: Collection[tuple[str, str, int]]
    ) -> TermLookups:
        near = {
            (f, t, d): {
                c: n
                for (cf, c), n in self.df.items()
                if cf == f and c != t and n and levenshtein(c, t, d + 1) <= d + 1
            }
            for f, t, d in neighbours
        }
        return TermLookups({k: self.df.get(k, 0) for k in frequencies}, near)


def translated(t: QueryTranslator, query: str, source: Lookups) -> Any:
    return t.translate(query, source.lookup(*t.requests(query)))


def test_a_typo_becomes_the_most_frequent_terms_one_edit_away() -> None:
    df = {
        ("text", "contrat"): 9,
        ("text", "contrit"): 2,
        ("title", "contrat"): 1,
        ("text", "kontrst"): 5,  # another first letter
        ("text", "cnotrst"): 7,  # a transposition: two edits for searchlib
        ("text", "contrsts"): 1,
    }
    t = QueryTranslator(ranking=Ranking(typo_max_terms=2))
    result = translated(t, "contrst", Lookups(df))
    assert result.match.terms == {"contrat", "contrit"}  # contrat (10 in all), contrit (2)
    assert {term for _, term, _ in terms_of(result.query)} == {"contrat", "contrit"}


def test_a_word_found_in_the_index_is_not_corrected() -> None:
    df = {("text", "contrat"): 9, ("text", "contrats"): 1}
    result = translated(QueryTranslator(), "contrat", Lookups(df))
    assert result.match.terms == {"contrat"}


def test_fuzzy_words_expand_over_the_index_terms_within_the_distance() -> None:
    df = {("text", "torrent"): 4, ("text", "torent"): 1, ("text", "terrent"): 2}
    df |= {("text", "corrent"): 9, ("title", "torrent"): 1}
    result = translated(QueryTranslator(), "torrent~1", Lookups(df))
    assert result.match.terms == {"torrent", "torent", "terrent"}  # first letter kept


def test_capped_candidates_are_refused_unless_approximate() -> None:
    class Capped(Lookups):
        def lookup(self, frequencies: Any, neighbours: Any) -> TermLookups:
            found = super().lookup(frequencies, neighbours)
            return TermLookups(found.frequencies, found.neighbours, frozenset(neighbours))

    with pytest.raises(UnsupportedQueryError) as e:
        translated(QueryTranslator(), "torrent~1", Capped({("text", "torrent"): 1}))
    assert e.value.feature == "expansion"
    result = translated(QueryTranslator(approximate=True), "torrent~1", Capped({}))
    assert result.approximations


def test_prefixes_are_refused_unless_approximate() -> None:
    with pytest.raises(UnsupportedQueryError) as e:
        QueryTranslator().translate("télécharge*")
    assert e.value.feature == "prefix" and "approximate=True" in str(e.value)
    result = QueryTranslator(approximate=True).translate("télécharge*")
    prefixes = [x["prefix"] for x in result.query["bool"]["should"]]
    # the stem "telecharg" covers "telecharge": one prefix per field
    assert prefixes == [
        {"title": {"value": "telecharg", "rewrite": "top_terms_256", "boost": 1.2}},
        {"text": {"value": "telecharg", "rewrite": "top_terms_256", "boost": 1.0}},
    ]
    assert result.approximations
    with pytest.raises(QuerySyntaxError):
        QueryTranslator(approximate=True).translate("t*")


def test_a_query_past_the_clause_limit_is_refused() -> None:
    with pytest.raises(UnsupportedQueryError, match="max_clause_count"):
        # each hyphenated word: joined form, parts as a phrase, each part; two fields
        QueryTranslator().translate(" ".join(f"mot{n}-voix{n}" for n in range(120)))


def _docs() -> list[Document]:
    docs = list(load_jsonl(CORPUS))
    docs.append(
        Document("cdd1", "Contrats", "Le contrat à durée déterminée (CDD) est écrit. Musique.")
    )
    docs.append(
        Document("cdd2", "Fin", "Un contrat à durée déterminée (CDD) prend fin. Télécharger.")
    )
    return docs


class IndexTerms(Lookups):
    """Look-ups from searchlib's own analysis of documents (what an index holds)."""

    def __init__(self, docs: list[Document]) -> None:
        df: dict[tuple[str, str], int] = {}
        analyzer = FrenchAnalyzer()
        for doc in docs:
            for field, text in (("title", doc.title), ("text", doc.text)):
                for term in set(analyzer.terms(text)):
                    df[(field, term)] = df.get((field, term), 0) + 1
        super().__init__(df)


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    with Index.create(tmp_path_factory.mktemp("os") / "ix") as ix:
        ix.add(_docs())
        yield ix


@pytest.mark.parametrize(
    "query",
    [
        "cour fédérale",
        "la cour",
        '"vide juridique" OR législation',
        "États-Unis -juge",
        "peut-il",
        "title:musique",
        "(musique OR vie) AND privée",
        "13 ème mois",
        "CDD",
        "cdd contrat",
        "telechargr",  # a typo: corrected from the index's terms
        "musiqe~1",
        "les",
        "NOT juge",
        "oeuvre d'art",
    ],
)
def test_marked_terms_are_searchlibs_for_the_same_query(small_index: Index, query: str) -> None:
    translator = QueryTranslator(acronyms=small_index.acronyms)
    translation = translator.translate(
        query, IndexTerms(_docs()).lookup(*translator.requests(query))
    )
    assert translation.match == small_index.search(query).match


# -- search bodies -----------------------------------------------------------------------

DECLARED = [
    MetadataField("source", "keyword"),
    MetadataField("year", "number"),
    MetadataField("published", "date"),
]


def body_of(**options: Any) -> dict[str, Any]:
    translation = QueryTranslator().translate("cour")
    return search_body(translation, types=field_types(DECLARED), **options)


def test_filters_go_in_the_filter_context() -> None:
    expr = AllOf((Match("source", ("sp", "cdt")), Range("year", 2020.0, None)))
    body = body_of(filter=expr)
    assert body["query"]["bool"]["filter"] == [
        {
            "bool": {
                "filter": [
                    {"terms": {"fields.source": ["sp", "cdt"]}},
                    {"range": {"fields.year": {"gte": 2020.0}}},
                ]
            }
        }
    ]


def test_a_date_range_goes_to_the_cluster_in_epoch_milliseconds() -> None:
    day = Date().convert("2020-03-01")[0]
    body = body_of(filter=Exclude(Range("published", day, None, low_inclusive=False)))
    assert body["query"]["bool"]["filter"] == [
        {"bool": {"must_not": [{"range": {"fields.published": {"gt": day // 1000}}}]}}
    ]


def test_the_page_window_is_refused() -> None:
    with pytest.raises(UnsupportedQueryError):
        body_of(page=1001)


def test_facets_count_documents_and_collapse_counts_them_too() -> None:
    body = body_of(
        facets=[Facet("source", limit=5), Facet("published", by="month")],
        collapse=True,
    )
    terms = body["aggs"]["facet_0"]
    assert terms["terms"]["field"] == "fields.source" and terms["terms"]["size"] == 5
    assert terms["aggs"]["documents"]["cardinality"]["field"] == "doc_id"
    histogram = body["aggs"]["facet_1"]["date_histogram"]
    assert histogram["calendar_interval"] == "month" and histogram["format"] == "yyyy-MM"
    assert body["collapse"] == {"field": "doc_id"}
    assert body["aggs"][DOCUMENT_COUNT] == {
        "cardinality": {"field": "doc_id", "precision_threshold": 40000}
    }


def test_number_facets_count_the_same_ranges_as_the_local_index() -> None:
    body = body_of(facets=[Facet("year", edges=(2000, 2020))])
    ranges = body["aggs"]["facet_0"]["range"]["ranges"]
    assert [r["key"] for r in ranges] == ["*-2000", "2000-2020", "2020-*"]


def test_sorting_keeps_scores_and_a_stable_order() -> None:
    body = body_of(sort=[SortKey("year", descending=True)])
    assert body["sort"][0] == {"fields.year": {"order": "desc", "missing": "_last"}}
    assert body["sort"][-2:] == [{"_score": {"order": "desc"}}, {"id": {"order": "asc"}}]
    assert body["track_scores"] is True


def test_highlights_use_private_marks_and_searchlibs_sizes() -> None:
    body = body_of(snippet_chars=150, max_fragments=3, page=2, limit=5)
    assert (body["from"], body["size"]) == (5, 5)
    hl = body["highlight"]
    assert hl["pre_tags"] == [OPEN] and hl["post_tags"] == [CLOSE]
    assert hl["fields"]["text"] == {"fragment_size": 150, "number_of_fragments": 3}
    assert hl["fields"]["title"] == {"number_of_fragments": 0}  # the whole title


# -- results -------------------------------------------------------------------------------


def test_fragments_are_found_again_in_the_passage() -> None:
    text = "Un juge. La cour fédérale a jugé l'affaire des États-Unis. Fin."
    snippet = snippet_from_fragments(text, [f"La {OPEN}cour{CLOSE} {OPEN}fédérale{CLOSE} a jugé"])
    assert snippet.spans == [(12, 16), (17, 25)]
    assert [text[a:b] for a, b in snippet.spans] == ["cour", "fédérale"]
    assert snippet.fragments[0].cut_before and snippet.fragments[0].cut_after
    # adjacent marks merge into one span, as searchlib's phrases
    merged = snippet_from_fragments(text, [f"{OPEN}cour{CLOSE}{OPEN} fédérale{CLOSE}"])
    assert merged.spans == [(12, 25)]
    # a fragment that is not in the text is left out: the start of the text instead
    assert snippet_from_fragments(text, ["autre chose"]).spans == []


def test_a_hit_is_searchlibs_hit() -> None:
    raw = {
        "_id": "d1#2",
        "_score": 3.5,
        "_source": {
            "id": "d1#2",
            "doc_id": "d1",
            "position": 1,
            "start": 40,
            "title": "La cour",
            "text": "La cour fédérale.",
            "fields": {"year": 2020},
        },
        "highlight": {"title": [f"La {OPEN}cour{CLOSE}"]},
    }
    hit = hit_from(raw, 3, highlight=True, snippet_chars=220)
    assert (hit.rank, hit.id, hit.doc_id, hit.position, hit.start) == (3, "d1#2", "d1", 1, 40)
    assert hit.score == 3.5 and hit.fields == {"year": 2020}
    assert hit.title_snippet.to_html() == "La <mark>cour</mark>"
    assert hit.snippet.to_text() == "La cour fédérale."  # no text highlight: its start


def test_totals_and_facets_from_a_response() -> None:
    response = {
        "hits": {"total": {"value": 42, "relation": "eq"}, "hits": []},
        "aggregations": {
            DOCUMENT_COUNT: {"value": 7},
            "facet_0": {"buckets": [{"key": "sp", "doc_count": 30, "documents": {"value": 5}}]},
        },
    }
    assert total_from(response, collapse=False) == 42
    assert total_from(response, collapse=True) == 7
    buckets = facets_from(response, [Facet("source")])["source"]
    assert [(b.key, b.documents) for b in buckets] == [("sp", 5)]


# -- documents, bulk, export ----------------------------------------------------------------


def test_passages_carry_the_document_and_a_bounded_title() -> None:
    text = "\n\n".join(f"Paragraphe {n} " + "mot " * 60 for n in range(6))
    doc = Document("d", "titre " * 300, text, {"source": "sp"})
    sources = passage_sources(doc, passage_chars=400)
    assert len(sources) > 1
    assert [pid for pid, _ in sources] == [f"d#{n + 1}" for n in range(len(sources))]
    first, second = sources[0][1], sources[1][1]
    assert first["title"] == doc.title and len(second["title"]) <= 1000
    assert "".join(s["text"] for _, s in sources) == doc.text
    assert all(s["fields"] == {"source": "sp"} and s["doc_id"] == "d" for _, s in sources)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"year": "2020"}, r"'year' \(number\)"),
        ({"year": True}, r"'year' \(number\)"),
        ({"source": ["a", "b"]}, r"'source' \(keyword\)"),
        ({"published": "2020-13-45"}, r"'published' \(date\)"),
        ({"published": "1700000000000"}, r"'published' \(date\)"),
    ],
)
def test_declared_values_of_the_wrong_kind_are_refused(
    fields: dict[str, Any], message: str
) -> None:
    types = field_types(DECLARED)
    with pytest.raises(DocumentError, match=message):
        passage_sources(Document("d", "t", "x", fields), fields=types)
    ok = Document("d", "t", "x", {"year": 2020, "published": "2020-05-01T10:00:00Z"})
    ((_, source),) = passage_sources(ok, fields=types)
    assert source["fields"] == {"year": 2020.0, "published": "2020-05-01T10:00:00+00:00"}


def test_bulk_lines_alternate_actions_and_sources() -> None:
    lines = list(bulk_lines([("d#1", {"text": "é"})], index="ix"))
    assert [json.loads(x) for x in lines] == [
        {"index": {"_index": "ix", "_id": "d#1"}},
        {"text": "é"},
    ]
    assert json.loads(next(bulk_lines([("d#1", {})])))["index"] == {"_id": "d#1"}
    docs = [Document("a", "1", "x"), Document("b", "", "y"), Document("a", "2", "z")]
    assert [d.title for d in unique_by_id(docs)] == ["", "2"]


def test_export_writes_the_index_body_with_acronyms_and_the_bulk_file(tmp_path: Path) -> None:
    docs = [*_docs(), Document("", "sans id", "refusé")]
    report = export(docs, tmp_path, declared=[MetadataField("source", "keyword")])
    assert report.documents == len(docs) - 1
    assert [r.doc_id for r in report.refused] == [""]  # reported, not dropped silently
    body = json.loads(report.index_file.read_text(encoding="utf-8"))
    assert body["mappings"]["_meta"]["searchlib"]["acronyms"]["cdd"] == {
        "contrat à durée déterminée": 2
    }
    assert body["mappings"]["properties"]["fields"]["properties"] == {"source": {"type": "keyword"}}
    lines = report.bulk_file.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 * report.passages
    actions = [json.loads(x)["index"]["_id"] for x in lines[::2]]
    assert actions[0] == "d1#1" and len(set(actions)) == report.passages
    assert not list(tmp_path.glob("*.part"))


def test_match_spec_of_an_empty_query() -> None:
    translation = QueryTranslator().translate("")
    assert translation.query is None and translation.match == MatchSpec()


# -- command line -------------------------------------------------------------------------


def test_cluster_specs() -> None:
    from searchlib.opensearch.cli import is_cluster_spec, parse_spec

    assert is_cluster_spec("https://h:9200/ix") and not is_cluster_spec("indexes/ix")
    assert not is_cluster_spec(None)
    env = {"SEARCHLIB_OPENSEARCH_USER": "u", "SEARCHLIB_OPENSEARCH_PASSWORD": "p"}
    spec = parse_spec("https://search.example.org:9200/cdtn-2", env)
    assert (spec.url, spec.index, spec.username, spec.password) == (
        "https://search.example.org:9200",
        "cdtn-2",
        "u",
        "p",
    )
    assert spec.verify_certs and spec.ca_certs is None
    spec = parse_spec("http://me:s%40cret@localhost/ix", {"SEARCHLIB_OPENSEARCH_INSECURE": "1"})
    assert (spec.url, spec.username, spec.password) == ("http://localhost", "me", "s@cret")
    assert not spec.verify_certs
    for bad in ("https://host:9200", "https://host/UPPER", "ftp://host/ix", "https://host/a/b"):
        with pytest.raises(ValueError, match="index"):
            parse_spec(bad, {})


def test_export_command(tmp_path: Path) -> None:
    import argparse
    import io

    from searchlib.opensearch.cli import add_export_parser, cmd_export

    parser = argparse.ArgumentParser(prog="searchlib")
    add_export_parser(parser.add_subparsers(dest="command"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "", "title": "t", "text": "sans id"}\n', encoding="utf-8")
    argv = ["export", str(CORPUS), str(bad), "--opensearch", str(tmp_path / "out")]
    with pytest.raises(CorpusFormatError, match="empty"):  # --on-error stop, the default
        cmd_export(parser.parse_args(argv), io.StringIO(), io.StringIO())
    out, err = io.StringIO(), io.StringIO()
    assert cmd_export(parser.parse_args([*argv, "--on-error", "skip"]), out, err) == 0
    assert "wrote 5 document(s)" in out.getvalue() and "curl -XPUT" in out.getvalue()
    assert err.getvalue().startswith("searchlib: warning: ") and "empty" in err.getvalue()
    written = tmp_path / "out"
    assert (written / "index.json").is_file() and (written / "bulk.ndjson").is_file()


def test_cluster_options() -> None:
    import argparse

    from searchlib.opensearch.cli import add_cluster_options

    parser = argparse.ArgumentParser()
    add_cluster_options(parser)
    assert parser.parse_args(["--approximate"]).approximate is True
    assert parser.parse_args([]).approximate is False


@pytest.mark.parametrize(
    ("value", "checked"),
    [
        # unset or false: the certificate is checked
        (None, True),
        ("", True),
        ("0", True),
        ("false", True),
        ("No", True),
        (" off ", True),
        # an explicit true value, any case: not checked
        ("1", False),
        ("TRUE", False),
        ("yes", False),
        ("On", False),
    ],
)
def test_insecure_is_off_unless_explicitly_true(value: str | None, checked: bool) -> None:
    from searchlib.opensearch.cli import parse_spec

    env = {} if value is None else {"SEARCHLIB_OPENSEARCH_INSECURE": value}
    assert parse_spec("https://h:9200/ix", env).verify_certs is checked


@pytest.mark.parametrize("value", ["n", "y", "disabled", "enable", "2", "insecure", "oui"])
def test_insecure_refuses_what_is_neither_true_nor_false(value: str) -> None:
    from searchlib.opensearch.cli import parse_spec
    from searchlib.opensearch.errors import ClusterConfigError

    with pytest.raises(ClusterConfigError, match=f"SEARCHLIB_OPENSEARCH_INSECURE={value!r}"):
        parse_spec("https://h:9200/ix", {"SEARCHLIB_OPENSEARCH_INSECURE": value})


def test_a_cluster_spec_keeps_its_password_out_of_messages() -> None:
    from searchlib.opensearch.cli import parse_spec
    from searchlib.opensearch.errors import ClusterConfigError

    spec = parse_spec("https://me:hunter2@h:9200/ix", {})
    assert spec.password == "hunter2" and "hunter2" not in repr(spec)
    for bad in (
        "https://me:hunter2@h:9200/IX",
        "https://me:hunter2@h:port/ix",
        "ftp://me:hunter2@h/ix",
    ):
        with pytest.raises(ClusterConfigError) as e:
            parse_spec(bad, {})
        assert "hunter2" not in str(e.value)
        assert bad.replace("me:hunter2@", "") in str(e.value)  # the URL, without the user part
