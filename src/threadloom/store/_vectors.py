"""An in-memory vector index: every vector in one float32 matrix, searched without Python loops.

Rows are unit-normalized, so cosine similarity is one matrix-vector product. Each row records the
item it belongs to and its namespace; each namespace keeps the array of its rows, so a search
under a namespace prefix scores only the rows of the namespaces under it (the candidates are
narrowed before top-k, never after). Freed rows go to a free list and are reused; the matrix
grows by doubling. Items are opaque integer ids chosen by the caller (the store).

Writes are buffered: ``put`` only records an item's new vectors, and the next search (or
``flush``) normalizes and copies every pending vector into the matrix in one pass. A single put
thus costs no numpy call at all, and a burst of puts costs one bulk copy.

The index knows nothing about values, filters or TTL: a caller that filters passes the allowed
item ids as a boolean mask.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import accumulate, pairwise

import numpy as np
import numpy.typing as npt

__all__ = ["VectorIndex"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]
BoolArray = npt.NDArray[np.bool_]

# Above this many namespaces, picking rows by a per-row namespace mask beats concatenating
# per-namespace arrays (one vectorized pass instead of a Python step per namespace).
_MANY_NAMESPACES = 32
# When the candidates are more than this share of the used rows, one product over the whole
# matrix is cheaper than gathering the candidate rows into a copy first.
_GATHER_SHARE = 0.25
# The same trade within the span of rows a namespace occupies: a product over the span beats
# gathering when the candidates fill more than this share of it (measured at 1,000 x 384).
_SPAN_SHARE = 0.6


class _RowList:
    """The rows of one namespace: a growable int array with O(1) swap-remove."""

    __slots__ = ("pos", "rows", "size")

    def __init__(self) -> None:
        self.rows: IntArray = np.empty(8, dtype=np.int64)
        self.size = 0
        self.pos: dict[int, int] = {}  # row -> its index in self.rows

    def add(self, new: IntArray) -> None:
        need = self.size + len(new)
        if need > len(self.rows):
            grown = np.empty(max(need, 2 * len(self.rows)), dtype=np.int64)
            grown[: self.size] = self.rows[: self.size]
            self.rows = grown
        self.rows[self.size : need] = new
        self.pos.update(zip(new.tolist(), range(self.size, need), strict=True))
        self.size = need

    def remove(self, row: int) -> None:
        i = self.pos.pop(row)
        last = self.size - 1
        if i != last:  # move the last row into the hole
            moved = int(self.rows[last])
            self.rows[i] = moved
            self.pos[moved] = i
        self.size = last

    def view(self) -> IntArray:
        return self.rows[: self.size]


class VectorIndex:
    """Unit vectors of items, grouped by namespace, searched by cosine similarity."""

    def __init__(self, dims: int) -> None:
        self.dims = dims
        self._matrix: FloatArray = np.zeros((64, dims), dtype=np.float32)
        self._row_item: IntArray = np.full(64, -1, dtype=np.int64)
        self._row_ns: IntArray = np.full(64, -1, dtype=np.int64)
        self._high = 0  # rows [0, high) have been used; the rest were never touched
        self._free: list[int] = []
        self._ns_ids: dict[tuple[str, ...], int] = {}
        self._ns_rows: dict[int, _RowList] = {}
        self._vectors_per_item: Counter[int] = Counter()  # how many items have k vectors
        # item -> (namespace id, its rows); plain ints, because flush and remove run once per
        # item and a small numpy array per item costs more to make and to index than a tuple
        self._placed: dict[int, tuple[int, tuple[int, ...]]] = {}
        self._pending: dict[int, tuple[tuple[str, ...], FloatArray]] = {}  # not yet in matrix

    @property
    def live_rows(self) -> int:
        """How many vectors are stored (pending ones included)."""
        return self._high - len(self._free) + sum(len(v) for _, v in self._pending.values())

    def put(self, namespace: tuple[str, ...], item: int, vectors: FloatArray) -> None:
        """Give ``item`` these vectors (rows of a float32 matrix), replacing any it had."""
        self.remove(item)
        if len(vectors):
            self._pending[item] = (namespace, vectors)

    def remove(self, item: int) -> None:
        """Forget an item's vectors; unknown items are ignored."""
        if self._pending.pop(item, None) is not None:
            return
        placed = self._placed.pop(item, None)
        if placed is None:
            return
        ns_id, rows = placed
        row_list = self._ns_rows[ns_id]
        for row in rows:
            row_list.remove(row)
        if len(rows) == 1:  # scalar stores: no index array to build
            self._row_item[rows[0]] = -1
            self._row_ns[rows[0]] = -1
        else:
            self._row_item[list(rows)] = -1
            self._row_ns[list(rows)] = -1
        self._free.extend(rows)
        self._vectors_per_item[len(rows)] -= 1
        if row_list.size == 0:
            del self._ns_rows[ns_id]

    def flush(self) -> None:
        """Copy every pending vector into the matrix: one normalization, one bulk copy.

        Pending items are filed namespace by namespace, so after a bulk load each namespace's
        rows form one contiguous block and a search scores it without gathering rows. The
        per-item bookkeeping is plain list and dict work, no numpy call per item.
        """
        if not self._pending:
            return
        entries = list(self._pending.items())
        self._pending.clear()
        ns_of = self._ns_ids.setdefault
        ns_ids = [ns_of(ns, len(self._ns_ids)) for _, (ns, _) in entries]
        if any(a > b for a, b in pairwise(ns_ids)):  # stable: within a namespace, put order
            order = sorted(range(len(entries)), key=ns_ids.__getitem__)
            entries = [entries[i] for i in order]
            ns_ids = [ns_ids[i] for i in order]
        items = [item for item, _ in entries]
        counts = [len(vectors) for _, (_, vectors) in entries]
        parts = [vectors for _, (_, vectors) in entries]
        total = sum(counts)
        fresh_only = not self._free
        rows = self._take_rows(total)
        if fresh_only:  # rows is one range: build it where it will live, touching memory once
            target = self._matrix[int(rows[0]) : int(rows[0]) + total]
            np.concatenate(parts, axis=0, out=target)
        else:
            target = np.concatenate(parts, axis=0)
        norms = np.sqrt(np.einsum("ij,ij->i", target, target))
        norms[norms == 0] = 1.0  # a zero vector stays zero and scores 0 against anything
        target /= norms[:, None]
        if not fresh_only:
            self._matrix[rows] = target
        one_each = total == len(entries)  # the usual case: one vector per item
        row_ns = np.asarray(ns_ids, dtype=np.int64)
        if one_each:
            self._row_item[rows] = items
        else:
            counts_array = np.asarray(counts, dtype=np.int64)
            self._row_item[rows] = np.repeat(np.asarray(items, dtype=np.int64), counts_array)
            row_ns = np.repeat(row_ns, counts_array)
        self._row_ns[rows] = row_ns
        row_numbers = rows.tolist()
        if one_each:
            placed = zip(ns_ids, zip(row_numbers), strict=True)
            self._placed.update(zip(items, placed, strict=True))
        else:
            ends = accumulate(counts)
            self._placed.update(
                (item, (ns_id, tuple(row_numbers[end - n : end])))
                for item, ns_id, end, n in zip(items, ns_ids, ends, counts, strict=True)
            )
        self._vectors_per_item.update(counts)
        # The rows are in namespace order: one slice of them per namespace.
        starts = (np.flatnonzero(np.diff(row_ns)) + 1).tolist()
        for start, end in zip([0, *starts], [*starts, len(rows)], strict=True):
            ns_id = int(row_ns[start])
            row_list = self._ns_rows.get(ns_id)
            if row_list is None:
                row_list = self._ns_rows[ns_id] = _RowList()
            row_list.add(rows[start:end])

    def _take_rows(self, count: int) -> IntArray:
        reused = [self._free.pop() for _ in range(min(count, len(self._free)))]
        fresh = count - len(reused)
        if self._high + fresh > len(self._matrix):
            self._grow(self._high + fresh)
        rows = np.arange(self._high - len(reused), self._high + fresh, dtype=np.int64)
        rows[: len(reused)] = reused
        self._high += fresh
        return rows

    def _grow(self, need: int) -> None:
        capacity = len(self._matrix)
        while capacity < need:
            capacity *= 2
        matrix = np.zeros((capacity, self.dims), dtype=np.float32)
        matrix[: self._high] = self._matrix[: self._high]
        row_item = np.full(capacity, -1, dtype=np.int64)
        row_item[: self._high] = self._row_item[: self._high]
        row_ns = np.full(capacity, -1, dtype=np.int64)
        row_ns[: self._high] = self._row_ns[: self._high]
        self._matrix, self._row_item, self._row_ns = matrix, row_item, row_ns

    def _candidate_rows(self, namespaces: Sequence[tuple[str, ...]] | None) -> IntArray:
        """Rows of the given namespaces (None: every namespace)."""
        if namespaces is None:
            return np.flatnonzero(self._row_item[: self._high] >= 0)
        ns_ids = [i for ns in namespaces if (i := self._ns_ids.get(ns)) in self._ns_rows]
        if not ns_ids:
            return np.empty(0, dtype=np.int64)
        if len(ns_ids) <= _MANY_NAMESPACES:
            return np.concatenate([self._ns_rows[i].view() for i in ns_ids])
        wanted = np.zeros(len(self._ns_ids) + 1, dtype=np.bool_)
        wanted[ns_ids] = True
        return np.flatnonzero(wanted[self._row_ns[: self._high]])  # free rows hold -1: False

    def _score(self, rows: IntArray, q: FloatArray) -> FloatArray:
        """``matrix[rows] @ q``, reading the matrix in place when the rows are dense enough.

        Gathering rows copies them before the product. When the candidates fill most of the
        span of rows between their lowest and highest (a namespace filed in one flush fills
        its span exactly), scoring the span in place and picking from it is cheaper.
        """
        if len(rows) > _GATHER_SHARE * self._high:
            return (self._matrix[: self._high] @ q)[rows]
        low, high = int(rows.min()), int(rows.max()) + 1
        if len(rows) > _SPAN_SHARE * (high - low):
            return (self._matrix[low:high] @ q)[rows - low]
        return self._matrix[rows] @ q

    def search(
        self,
        query: FloatArray,
        need: int,
        namespaces: Sequence[tuple[str, ...]] | None = None,
        allowed_items: BoolArray | None = None,
    ) -> tuple[IntArray, FloatArray]:
        """The ``need`` best items by cosine similarity to ``query``, best first.

        ``namespaces`` narrows the candidates (None: all); ``allowed_items[item]`` further keeps
        only allowed item ids. An item with several vectors scores its best one.
        """
        self.flush()
        rows = self._candidate_rows(namespaces)
        if allowed_items is not None and len(rows):
            rows = rows[allowed_items[self._row_item[rows]]]
        if need <= 0 or len(rows) == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        norm = float(np.linalg.norm(query))
        q = (query / norm if norm else query).astype(np.float32, copy=False)
        scores = self._score(rows, q)
        # With at most V vectors per item, the best `need` items all have their best row among
        # the top need*V rows, so partitioning that many rows is enough.
        per_item = max((k for k, n in self._vectors_per_item.items() if n > 0), default=1)
        top = min(len(rows), need * per_item)
        if top < len(rows):
            # every row scoring at least the top-th best: all the rows tied with it too, in row
            # order, as without a partition (its pick among ties is arbitrary, so pages of one
            # search at growing offsets could repeat an item and skip another)
            threshold = -np.partition(-scores, top - 1)[top - 1]
            picked = np.flatnonzero(scores >= threshold)
        else:
            picked = np.arange(len(rows))
        picked = picked[np.argsort(-scores[picked], kind="stable")]  # ties: in row order
        items = self._row_item[rows[picked]]
        best = scores[picked]
        if per_item > 1:  # keep each item's first (best) row
            _, first = np.unique(items, return_index=True)
            first.sort()
            items, best = items[first], best[first]
        return items[:need], best[:need]
