"""Gradient-boosted trees read from LightGBM's text model format, evaluated with numpy.

A learned reranker is stored as the text LightGBM writes (``Booster.model_to_string``),
never as a pickle. Reading it takes numbers only: each tree's split features,
thresholds, decision types, children and leaf values. Searching with it needs
no LightGBM: :class:`Forest` evaluates every tree at once over a matrix of
candidates, with LightGBM's own decision rule (``value <= threshold`` goes
left; missing values, NaN or zero by the tree's missing type, go the default
way), and :meth:`Forest.contributions` splits one prediction among the
features (each split on the path credited with the change of the node's
value, Saabas' method), for explanations.

Trees of at most 64 leaves without rules of their own for missing values
(searchlib's) are evaluated as QuickScorer does (Lucchese et al., SIGIR
2015): each split is a mask of the leaves left when it goes right (those of
its left subtree cleared); the leaf a candidate reaches is the leftmost one
left once the masks of every split it goes right at are ANDed. Ordering each
feature's thresholds once, at load, turns that into one binary search per
feature and candidate and one table row a feature: a few numpy calls per
feature instead of several per level of the trees.

The text may come from a file of an index: it is read as numbers, every one
checked (integers in range, thresholds not NaN, leaf values finite and at most
:data:`MAX_VALUE`), and its size is bounded before anything is allocated for it
(:data:`MAX_FEATURES` features, :data:`MAX_TREES` trees, :data:`MAX_LEAVES`
leaves a tree, :data:`MAX_CELLS` for the trees times the inner nodes of the
largest, which bounds both the memory of the evaluation and its time per
candidate). Evaluating checks the search deadline
(:func:`~searchlib._whoosh.limits.check`) at each level of the trees (each
feature, with masks).

Example:
    >>> text = "\\n".join([
    ...     "tree", "version=v4", "num_class=1", "max_feature_idx=1",
    ...     "feature_names=a b", "",
    ...     "Tree=0", "num_leaves=2", "num_cat=0", "split_feature=1",
    ...     "threshold=0.5", "decision_type=2", "left_child=-1", "right_child=-2",
    ...     "leaf_value=-1 2", "internal_value=0.25", "shrinkage=1", "",
    ...     "end of trees",
    ... ])
    >>> forest = Forest.from_text(text)
    >>> forest.predict(np.array([[9.0, 0.0], [9.0, 1.0]])).tolist()
    [-1.0, 2.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from searchlib._whoosh.limits import check as check_deadline

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_CATEGORICAL = 1
_DEFAULT_LEFT = 2
_MISSING_ZERO = 1
_MISSING_NAN = 2
_ZERO = 1e-35  # LightGBM's kZeroThreshold
_CHUNK = 4096  # rows evaluated at once (bounds the arrays of a walk)
_MASK_BYTES = 16 << 20  # largest table of masks (past it, trees are walked)

MAX_TREES = 10_000
"""Most trees in a model."""
MAX_LEAVES = 1 << 12
"""Most leaves in a tree."""
MAX_FEATURES = 1 << 10
"""Most features of a model."""
MAX_CELLS = 1 << 16
"""Most trees × inner nodes of the largest tree: the evaluation holds arrays
of that size and walks every tree as deep as the deepest; reading a model
at this bound takes about half a second (2,000 trees of 33 leaves, or 16 of
:data:`MAX_LEAVES`, fit; searchlib's own models, 100 trees of 15 leaves, use
1,400)."""
MAX_VALUE = 1e6
"""Largest leaf (or inner node) value, in absolute value (LightGBM's lambdarank
leaves are below 10): the sum of :data:`MAX_TREES` of them stays finite."""
_MAX_INT = 1 << 31


class ForestFormatError(ValueError):
    """The text is not a LightGBM model this module can evaluate."""


@dataclass(frozen=True, slots=True)
class _Tree:
    feature: IntArray
    threshold: FloatArray
    decision: IntArray
    left: IntArray
    right: IntArray
    leaf_value: FloatArray
    internal_value: FloatArray


class Forest:
    """The trees of a LightGBM model (numerical splits), evaluated with numpy.

    Args:
        trees: the parsed trees.
        feature_names: the model's feature names, in column order.
        text: the model text the trees were read from (kept to be saved again).
    """

    def __init__(self, trees: list[_Tree], feature_names: tuple[str, ...], text: str) -> None:
        self.feature_names = feature_names
        self.text = text
        self.trees = trees
        n = len(trees)
        nodes = max([len(t.feature) for t in trees] + [1])
        leaves = max([len(t.leaf_value) for t in trees] + [1])
        # Padded arrays, one row per tree. A child below 0 is the leaf ~child;
        # a tree of one leaf starts at leaf 0 (root -1).
        self._feature = np.zeros((n, nodes), dtype=np.int64)
        self._threshold = np.zeros((n, nodes), dtype=np.float64)
        self._default_left = np.zeros((n, nodes), dtype=np.bool_)
        self._missing = np.zeros((n, nodes), dtype=np.int64)  # inner nodes only
        self._left = np.full((n, nodes), -1, dtype=np.int64)
        self._right = np.full((n, nodes), -1, dtype=np.int64)
        self._leaf = np.zeros((n, leaves), dtype=np.float64)
        self._root = np.zeros(n, dtype=np.int64)
        self._depth = 0
        for i, t in enumerate(trees):
            k = len(t.feature)
            self._feature[i, :k] = t.feature
            self._threshold[i, :k] = t.threshold
            self._default_left[i, :k] = (t.decision & _DEFAULT_LEFT) != 0
            self._missing[i, :k] = (t.decision >> 2) & 3
            self._left[i, :k] = t.left
            self._right[i, :k] = t.right
            self._leaf[i, : len(t.leaf_value)] = t.leaf_value
            self._root[i] = 0 if k else -1
            self._depth = max(self._depth, _depth(t))
        self._flatten()
        self._masks = None if self.missing_rules else _Masks.of(trees, len(feature_names))

    def _flatten(self) -> None:
        """One array of nodes for all trees: each tree's inner nodes, then its
        leaves (threshold +inf: a leaf's children are itself)."""
        features: list[IntArray] = []
        thresholds: list[FloatArray] = []
        children: list[IntArray] = []
        values: list[FloatArray] = []
        roots: list[int] = []
        at = 0
        for t in self.trees:
            inner, leaves = len(t.feature), len(t.leaf_value)
            roots.append(at)

            def where(child: IntArray, inner: int = inner, at: int = at) -> IntArray:
                return np.where(child >= 0, at + child, at + inner + ~child)

            own = at + inner + np.arange(leaves, dtype=np.int64)
            features += [t.feature, np.zeros(leaves, dtype=np.int64)]
            thresholds += [t.threshold, np.full(leaves, np.inf)]
            pairs = np.stack([where(t.left), where(t.right)], axis=1).ravel()
            children += [pairs, np.repeat(own, 2)]
            values += [np.zeros(inner), t.leaf_value]
            at += inner + leaves
        # Each node as two slots (its left child's, then its right child's),
        # so that a walk steps by ``slot = child[slot + (value > threshold)]``:
        # a slot's feature, threshold and value are its node's, a child slot
        # is the child's first. Indices of the platform's size: gathered
        # without a conversion (int32 ones are converted at every gather).
        self._slot_feature = np.repeat(np.concatenate(features), 2).astype(np.intp)
        self._slot_threshold = np.repeat(np.concatenate(thresholds), 2).astype(np.float64)
        self._slot_child = (2 * np.concatenate(children)).astype(np.intp)
        self._slot_value = np.repeat(np.concatenate(values), 2).astype(np.float64)
        self._slot_root = (2 * np.asarray(roots)).astype(np.intp)

    @classmethod
    def from_text(cls, text: str, *, features: Sequence[str] | None = None) -> Forest:
        """Read a model from LightGBM's text format.

        Args:
            text: the model text.
            features: the features the model must have, in order (``None``:
                any, at most :data:`MAX_FEATURES`), checked before its trees
                are read.

        Raises:
            ForestFormatError: not such a model, other features than
                ``features``, a categorical split, linear trees, a number
                out of range, or too large (see the module docstring).
        """
        lines = text.splitlines()
        header: dict[str, str] = {}
        at = 0
        while at < len(lines) and not lines[at].startswith("Tree="):
            key, sep, value = lines[at].partition("=")
            if sep:
                header[key.strip()] = value.strip()
            at += 1
        if not lines or lines[0].strip() != "tree":
            raise ForestFormatError("not a LightGBM text model (no 'tree' header)")
        if header.get("num_class", "1") != "1" or header.get("num_tree_per_iteration", "1") != "1":
            raise ForestFormatError("only models of one output are supported")
        if "max_feature_idx" not in header:
            raise ForestFormatError("no max_feature_idx in the model header")
        last = header["max_feature_idx"]
        if features is not None and last != str(len(features) - 1):
            raise ForestFormatError(
                f"max_feature_idx is {last[:30]!r}: the model should have the "
                f"{len(features)} features searchlib computes"
            )
        n_features = _count(last, "max_feature_idx", MAX_FEATURES - 1) + 1
        given = tuple(header.get("feature_names", "").split()[: n_features + 1])
        names = given or tuple(f"f{i}" for i in range(n_features))
        if len(names) != n_features:
            raise ForestFormatError("feature_names do not match max_feature_idx")
        if features is not None and given and names != tuple(features):
            raise ForestFormatError("the model's features are not searchlib's")
        trees: list[_Tree] = []
        block: dict[str, str] = {}
        widest = 0  # inner nodes of the largest tree so far
        for line in lines[at:]:
            if line.startswith("Tree=") or line.strip() == "end of trees":
                if block:
                    tree = _tree(block, n_features, len(trees), widest)
                    trees.append(tree)
                    widest = max(widest, len(tree.feature))
                    if len(trees) > MAX_TREES:
                        raise ForestFormatError(f"more than {MAX_TREES:,} trees")
                block = {"Tree": line[5:]} if line.startswith("Tree=") else {}
                if not block:
                    break
            else:
                key, sep, value = line.partition("=")
                if sep and block:
                    block[key.strip()] = value.strip()
        if block:
            trees.append(_tree(block, n_features, len(trees), widest))
        if not trees:
            raise ForestFormatError("the model has no tree")
        if len(trees) > MAX_TREES:
            raise ForestFormatError(f"more than {MAX_TREES:,} trees")
        return cls(trees, names, text)

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    @property
    def steps(self) -> int:
        """Tree nodes evaluated per candidate: every tree walked as deep as the deepest."""
        return len(self.trees) * max(self._depth, 1)

    @property
    def missing_rules(self) -> bool:
        """Whether some split sends missing values (NaN, or zeros) a way of its own:
        then trees are evaluated node by node, slower than all at once."""
        return bool(self._missing.any())

    def predict(self, x: FloatArray) -> FloatArray:
        """The model's output for each row of ``x`` (rows: candidates, columns: features)."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(f"expected rows of {self.n_features} features, not {x.shape}")
        if self._masks is None and self.missing_rules:  # (masks are made only without them)
            leaves = self._leaves(x)
            rows = np.arange(len(self.trees))[:, None]
            return summed_rows(self._leaf[rows, leaves])
        if x.shape[0] > _CHUNK:
            return np.concatenate(
                [self.predict(x[i : i + _CHUNK]) for i in range(0, x.shape[0], _CHUNK)]
            )
        # Every node goes by ``value <= threshold`` (NaN read as 0).
        if np.isnan(x).any():
            x = np.nan_to_num(x, nan=0.0, posinf=np.inf, neginf=-np.inf)
        if self._masks is not None:
            return self._masks.predict(x)
        # All trees at once over flat arrays, leaves looping on themselves.
        n = x.shape[0]
        values = np.ascontiguousarray(x).ravel()
        slot = np.repeat(self._slot_root, n)
        row = np.tile(np.arange(n, dtype=np.intp) * self.n_features, len(self.trees))
        feature, threshold, child = self._slot_feature, self._slot_threshold, self._slot_child
        at = np.empty_like(slot)
        value = np.empty(len(slot), dtype=np.float64)
        limit = np.empty(len(slot), dtype=np.float64)
        right = np.empty(len(slot), dtype=np.bool_)
        for _ in range(self._depth):
            check_deadline()
            # Every index is in range: "wrap" gathers without checking.
            feature.take(slot, out=at, mode="wrap")
            at += row
            values.take(at, out=value, mode="wrap")
            threshold.take(slot, out=limit, mode="wrap")
            np.greater(value, limit, out=right)  # not ``<=``: no NaN is left
            slot += right
            child.take(slot, out=at, mode="wrap")
            slot, at = at, slot
        reached = self._slot_value.take(slot, mode="wrap")
        return summed_rows(reached.reshape(len(self.trees), n))

    def _leaves(self, x: FloatArray) -> IntArray:
        """The leaf each row reaches in each tree (trees × rows), missing values as LightGBM."""
        n_trees, n_rows = len(self.trees), x.shape[0]
        node = np.repeat(self._root[:, None], n_rows, axis=1)
        trees = np.arange(n_trees)[:, None]
        rows = np.arange(n_rows)[None, :]
        for _ in range(self._depth):
            check_deadline()
            inner = node >= 0
            if not inner.any():
                break
            at = np.where(inner, node, 0)
            value = x[rows, self._feature[trees, at]]
            left = self._goes_left(value, trees, at)
            nxt = np.where(left, self._left[trees, at], self._right[trees, at])
            node = np.where(inner, nxt, node)
        return ~node

    def _goes_left(self, value: FloatArray, trees: IntArray, at: IntArray) -> npt.NDArray[np.bool_]:
        """LightGBM's ``NumericalDecision`` for each (tree, row)."""
        missing = self._missing[trees, at]
        nan = np.isnan(value)
        value = np.where(nan & (missing != _MISSING_NAN), 0.0, value)
        default = ((missing == _MISSING_ZERO) & (np.abs(value) <= _ZERO)) | (
            (missing == _MISSING_NAN) & nan
        )
        left = value <= self._threshold[trees, at]
        return np.where(default, self._default_left[trees, at], left)

    def contributions(self, row: FloatArray) -> tuple[float, FloatArray]:
        """The prediction for one row split among the features (Saabas' method).

        Returns:
            ``(base, shares)``: the sum of the trees' root values, and per
            feature the sum of the changes of value along each tree's path at
            the splits on that feature; ``base + shares.sum()`` is the prediction.
        """
        x = np.asarray(row, dtype=np.float64).reshape(1, -1)
        shares = np.zeros(self.n_features, dtype=np.float64)
        base = 0.0
        for i, t in enumerate(self.trees):
            if not len(t.feature):
                base += float(t.leaf_value[0])
                continue
            check_deadline()
            node = 0
            value = float(t.internal_value[0])
            base += value
            while node >= 0:
                left = self._goes_left(
                    x[:, t.feature[node]], np.array([[i]]), np.array([[node]])
                ).item()
                child = int(t.left[node] if left else t.right[node])
                after = float(t.internal_value[child] if child >= 0 else t.leaf_value[~child])
                shares[t.feature[node]] += after - value
                value, node = after, child
        return base, shares


class _Masks:
    """The trees as QuickScorer's masks (see the module docstring).

    Attributes:
        features: the features split on, in column order.
        bounds: for each of them, its distinct thresholds, ascending.
        tables: for each of them, one row per number of its thresholds below
            a value (``0 .. len(bounds)``), one column per tree: the AND of
            the masks of the tree's splits on that feature at those
            thresholds (bit ``i``: the ``i``-th leaf from the left).
        values: each tree's leaf values from left to right, padded to
            :attr:`width` (trees × width, flat).
        width: leaves a tree at most.
    """

    __slots__ = ("bounds", "features", "leaf_offsets", "tables", "values", "width")

    def __init__(
        self,
        features: list[int],
        bounds: list[FloatArray],
        tables: list[npt.NDArray[np.unsignedinteger]],
        values: FloatArray,
        width: int,
    ) -> None:
        self.features = features
        self.bounds = bounds
        self.tables = tables
        self.values = values
        self.width = width
        self.leaf_offsets = np.arange(len(values) // width, dtype=np.intp) * width
        """Each tree's first leaf in :attr:`values`."""

    @classmethod
    def of(cls, trees: Sequence[_Tree], n_features: int) -> _Masks | None:
        """The masks of ``trees``, or ``None``: a tree of more than 64 leaves,
        or a table over :data:`_MASK_BYTES`."""
        width = max(len(t.leaf_value) for t in trees)
        if width > 64:
            return None
        dtype = np.dtype(np.uint16 if width <= 16 else np.uint32 if width <= 32 else np.uint64)
        nodes = sum(len(t.feature) for t in trees)
        if (nodes + n_features) * len(trees) * dtype.itemsize > _MASK_BYTES:
            return None
        full = (1 << (8 * dtype.itemsize)) - 1
        values = np.zeros((len(trees), width), dtype=np.float64)
        splits: dict[int, list[tuple[float, int, int]]] = {}  # feature: (threshold, tree, mask)
        for i, t in enumerate(trees):
            inner = len(t.feature)
            spans = _leaf_spans(t)
            for node in range(inner):
                left = int(t.left[node])
                first, end = spans[left] if left >= 0 else spans[inner + ~left]
                splits.setdefault(int(t.feature[node]), []).append(
                    (float(t.threshold[node]), i, full ^ ((1 << end) - (1 << first)))
                )
            for leaf in range(len(t.leaf_value)):
                values[i, spans[inner + leaf][0]] = t.leaf_value[leaf]
        features = sorted(splits)
        bounds: list[FloatArray] = []
        rows: list[npt.NDArray[np.unsignedinteger]] = []
        for f in features:
            threshold = np.array([c[0] for c in splits[f]], dtype=np.float64)
            tree = np.array([c[1] for c in splits[f]], dtype=np.intp)
            mask = np.array([c[2] for c in splits[f]], dtype=dtype)
            bound = np.unique(threshold)
            block = np.full((len(bound) + 1, len(trees)), full, dtype=dtype)
            # Row j + 1 holds the masks of the j-th threshold: a value above it
            # goes right there, and at every threshold below (rows up to j + 1).
            np.bitwise_and.at(block, (bound.searchsorted(threshold) + 1, tree), mask)
            rows.append(np.bitwise_and.accumulate(block, axis=0))
            bounds.append(bound)
        return cls(features, bounds, rows, values.ravel(), width)

    def predict(self, x: FloatArray) -> FloatArray:
        """The sum of the trees' leaves for each row of ``x`` (no NaN)."""
        columns = x.T
        left: npt.NDArray[np.unsignedinteger] | None = None  # rows × trees
        check_deadline()  # (the loop below takes well under a millisecond)
        for f, bound, table in zip(self.features, self.bounds, self.tables, strict=True):
            # The row of how many of the thresholds are below the value (the
            # splits where it goes right).
            masks = table.take(bound.searchsorted(columns[f]), axis=0)
            if left is None:
                left = masks
            else:
                left &= masks
        if left is None:  # trees of one leaf
            return summed_rows(np.repeat(self.values[self.leaf_offsets][:, None], len(x), axis=1))
        # The leftmost leaf left: the lowest bit set.
        if left.dtype == np.uint16:
            leaf = _LOWEST_BIT.take(left) + self.leaf_offsets
        else:
            lowest = left & (~left + 1)
            leaf = np.log2(lowest).astype(np.intp) + self.leaf_offsets  # powers of 2: exact
        return summed_rows(self.values.take(leaf).T)  # trees × rows


_LOWEST_BIT = np.zeros(1 << 16, dtype=np.uint8)
"""The index of the lowest bit set of every 16-bit number (0 for 0)."""
for _bit in range(16):
    _LOWEST_BIT[1 << _bit :: 1 << (_bit + 1)] = _bit


def _leaf_spans(tree: _Tree) -> list[tuple[int, int]]:
    """For each inner node, then each leaf: the positions from the left
    (``first``, ``end``) of the leaves under it."""
    inner = len(tree.feature)
    spans = [(0, 0)] * (inner + len(tree.leaf_value))
    if not inner:
        return [(0, 1)]
    at = 0

    def visit(child: int) -> tuple[int, int]:
        nonlocal at
        if child < 0:
            spans[inner + ~child] = (at, at + 1)
            at += 1
        else:
            first = visit(int(tree.left[child]))[0]
            end = visit(int(tree.right[child]))[1]
            spans[child] = (first, end)
        return spans[inner + ~child] if child < 0 else spans[child]

    visit(0)
    return spans


def summed_rows(rows: FloatArray) -> FloatArray:
    """The sum of the rows of a 2-D array, added one after the other, first to
    last: the same sums, to the bit, as adding them in a loop (as LightGBM adds
    its trees' outputs).

    (``sum(axis=0)`` over rows in C order adds row after row when they are
    longer than 1; with a single column it would sum pairwise.)

    >>> summed_rows(np.array([[1e16, 1.0], [1.0, 2.0], [-1e16, 3.0]])).tolist()
    [0.0, 6.0]
    """
    rows = np.ascontiguousarray(rows, dtype=np.float64)
    if rows.ndim == 2 and rows.shape[1] == 1:
        return np.asarray(np.add.accumulate(rows, axis=0)[-1], dtype=np.float64)
    return np.asarray(rows.sum(axis=0), dtype=np.float64)


def _count(value: str, what: str, most: int) -> int:
    """The integer ``value`` of a header or tree field, from 0 to ``most``."""
    try:
        n = int(value) if len(value) <= 20 else -1
    except ValueError:
        n = -1
    if not 0 <= n <= most:
        raise ForestFormatError(f"{what} is {value[:30]!r}, not an integer from 0 to {most:,}")
    return n


def _numbers(block: dict[str, str], key: str, kind: type, count: int) -> npt.NDArray[np.generic]:
    """The ``count`` numbers of field ``key`` of a tree: integers in ``±2**31``,
    floats not NaN (thresholds may be infinite), leaf and inner values finite
    and at most :data:`MAX_VALUE`."""
    raw = block.get(key, "")
    tree = block.get("Tree", "?")[:20]
    words = raw.split(None, count)  # count + 1 words: too many
    if len(words) != count:
        n = f"more than {count}" if len(words) > count else str(len(words))
        raise ForestFormatError(f"tree {tree}: {key} holds {n} numbers, not {count}")
    try:
        values = [kind(v) for v in words]
    except ValueError as e:
        raise ForestFormatError(f"tree {tree}: bad {key}") from e
    if kind is int:
        if not all(-_MAX_INT <= v < _MAX_INT for v in values):
            raise ForestFormatError(f"tree {tree}: {key} out of range")
        return np.asarray(values, dtype=np.int64)
    array = np.asarray(values, dtype=np.float64)
    if np.isnan(array).any():
        raise ForestFormatError(f"tree {tree}: {key} is not a number")
    if key != "threshold" and not (np.abs(array) <= MAX_VALUE).all():
        raise ForestFormatError(f"tree {tree}: {key} beyond ±{MAX_VALUE:g}")
    return array


def _tree(block: dict[str, str], n_features: int, before: int, widest: int) -> _Tree:
    """One tree's block of fields; ``before`` trees of at most ``widest`` inner
    nodes were read before it."""
    tree_id = block.get("Tree", "?")[:20]
    if "num_leaves" not in block:
        raise ForestFormatError(f"tree {tree_id}: no num_leaves")
    leaves = _count(block["num_leaves"], f"tree {tree_id}: num_leaves", MAX_LEAVES)
    if leaves < 1:
        raise ForestFormatError(f"tree {tree_id}: no leaves")
    cells = (before + 1) * max(widest, leaves - 1)
    if cells > MAX_CELLS:
        raise ForestFormatError(
            f"too large to search with: {before + 1:,} trees of up to "
            f"{max(widest, leaves - 1):,} inner nodes (trees × inner nodes at most {MAX_CELLS:,})"
        )
    if block.get("num_cat", "0") != "0":
        raise ForestFormatError("categorical splits are not supported")
    if block.get("is_linear", "0") != "0":
        raise ForestFormatError("linear trees are not supported")
    inner = leaves - 1
    leaf_value = _numbers(block, "leaf_value", float, leaves).astype(np.float64)
    if not inner:
        empty = np.zeros(0, dtype=np.int64)
        return _Tree(empty, np.zeros(0), empty, empty, empty, leaf_value, np.zeros(0))
    feature = _numbers(block, "split_feature", int, inner).astype(np.int64)
    decision = _numbers(block, "decision_type", int, inner).astype(np.int64)
    left = _numbers(block, "left_child", int, inner).astype(np.int64)
    right = _numbers(block, "right_child", int, inner).astype(np.int64)
    tree = _Tree(
        feature,
        _numbers(block, "threshold", float, inner).astype(np.float64),
        decision,
        left,
        right,
        leaf_value,
        _numbers(block, "internal_value", float, inner).astype(np.float64),
    )
    if (decision & _CATEGORICAL).any():
        raise ForestFormatError("categorical splits are not supported")
    if ((decision < 0) | (decision > 15)).any():
        raise ForestFormatError(f"tree {tree_id}: a decision_type out of range")
    if ((feature < 0) | (feature >= n_features)).any():
        raise ForestFormatError(f"tree {tree_id}: split on an unknown feature")
    for child in (left, right):
        if ((child >= inner) | (child < -leaves)).any():
            raise ForestFormatError(f"tree {tree_id}: a child out of range")
    _depth(tree)  # rejects cycles
    return tree


def _depth(tree: _Tree) -> int:
    """Longest path from the root to a leaf (a tree whose nodes do not form a
    tree, a cycle or a node reached twice, is a format error)."""
    if not len(tree.feature):
        return 0
    deepest = 0
    seen: set[int] = set()
    stack = [(0, 1)]
    while stack:
        node, depth = stack.pop()
        if node in seen:
            raise ForestFormatError("a tree's nodes do not form a tree")
        seen.add(node)
        deepest = max(deepest, depth)
        for child in (int(tree.left[node]), int(tree.right[node])):
            if child >= 0:
                stack.append((child, depth + 1))
    return deepest
