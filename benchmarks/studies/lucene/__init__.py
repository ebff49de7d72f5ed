"""searchlib's OpenSearch settings checked on real Lucene 9.5 (no cluster needed).

:mod:`~benchmarks.studies.lucene.jar` fetches Lucene (Anserini's fat jar, from the
``pyserini==0.22.1`` wheel, cached outside the repository) and compiles
``LuceneParity.java``; :mod:`~benchmarks.studies.lucene.parity` compares searchlib's
analyzer with the Lucene analyzer built from the generated settings;
:mod:`~benchmarks.studies.lucene.relevance` indexes a corpus in Lucene from the exported
bulk file, runs the translated queries and scores both engines. Run::

    python -m benchmarks.studies.lucene tokens      # whole cdtn corpus + its queries
    python -m benchmarks.studies.lucene relevance   # cdtn in Lucene and in searchlib

(results in ``benchmarks/RESULTS.md``, "OpenSearch backend: parity on Lucene 9.5").
"""
