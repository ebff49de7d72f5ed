"""Learning from relevance judgments: query expansion, a document prior, a reranker.

An index learns from queries and their judged documents
(:meth:`Index.learn <searchlib.index.Index.learn>`, ``searchlib learn``) and
keeps what it learned beside its files (``learned.json``, see
:mod:`searchlib.learn.model`); every later search of the index uses it. The
parts:

* :mod:`~searchlib.learn.judgments`: reading the judgments, counting what is wrong in them;
* :mod:`~searchlib.learn.train`: learning (associations, prior, reranker, cross-fitted),
  keeping only the parts that help in cross-validation;
* :mod:`~searchlib.learn.features`: the model bound to a searcher, the candidates' features;
* :mod:`~searchlib.learn.trees`: LightGBM's text model, evaluated with numpy;
* :mod:`~searchlib.learn.crossval`: K-fold evaluation by topic, with a sign-flip test;
* :mod:`~searchlib.learn.metrics`: the metrics (as ``searchlib eval``'s) and the test.
"""

from searchlib.learn.crossval import CrossValidation, FoldResult, cross_validate
from searchlib.learn.features import Learned
from searchlib.learn.judgments import Judgments
from searchlib.learn.model import (
    MODEL_FILE,
    Associations,
    LearnedModel,
    ModelFormatError,
    ModelMismatchWarning,
    Reranker,
)
from searchlib.learn.train import (
    MAX_P_VALUE,
    PARTS,
    LearnOptions,
    LearnReport,
    PartReport,
    PartStatus,
    learn,
    lightgbm_version,
)

__all__ = [
    "MAX_P_VALUE",
    "MODEL_FILE",
    "PARTS",
    "Associations",
    "CrossValidation",
    "FoldResult",
    "Judgments",
    "LearnOptions",
    "LearnReport",
    "Learned",
    "LearnedModel",
    "ModelFormatError",
    "ModelMismatchWarning",
    "PartReport",
    "PartStatus",
    "Reranker",
    "cross_validate",
    "learn",
    "lightgbm_version",
]
