"""Step 1 of every persistent store's batch, shared: check the ops and embed what they need.

``prepare_batch`` validates a batch, keeps the last put per (namespace, key), encodes every value
and asks for the embeddings of all documents in one ``EmbedTexts`` effect and of each distinct
search query in one ``EmbedQuery`` effect. It does no I/O, so a bad op or a failing embedder
changes nothing; ``embed_sync`` / ``embed_async`` carry out its effects with the index's embedder.
The SQLite and PostgreSQL stores then run step 2 (their SQL) on the ``Prepared`` result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from threadloom.store.base import Op, PutOp, SearchOp, validate_ops
from threadloom.store.embed import EmbeddingIndex, Vectors

__all__ = [
    "EmbedQuery",
    "EmbedTexts",
    "MicrosClock",
    "NamespaceKey",
    "Prepared",
    "embed_async",
    "embed_sync",
    "prepare_batch",
]

NamespaceKey: TypeAlias = tuple[tuple[str, ...], str]


@dataclass(slots=True, frozen=True)
class EmbedTexts:
    """Embed documents in one embedder call; the result is a ``(n, dims)`` float32 matrix."""

    texts: tuple[str, ...]


@dataclass(slots=True, frozen=True)
class EmbedQuery:
    """Embed one search query; the result is a vector."""

    text: str


@dataclass(slots=True)
class Prepared:
    """A checked batch with everything it needs from the embedder."""

    ops: list[Op]
    puts: dict[NamespaceKey, PutOp]
    """Last put per (namespace, key) wins; dict order is the order of the last writes."""
    values: dict[NamespaceKey, str]
    """JSON text of every put value, encoded before the transaction."""
    names: dict[NamespaceKey, tuple[int, tuple[str, ...]]] = field(default_factory=dict)
    """Per put: where its vectors start in ``vectors`` and their field names."""
    vectors: Vectors | None = None
    queries: dict[str, Vectors] = field(default_factory=dict)


class MicrosClock:
    """Microseconds since the epoch that never repeat or go back, so write order is time order."""

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        now = time.time_ns() // 1000
        self._last = now if now > self._last else self._last + 1
        return self._last


Embedding: TypeAlias = Generator[EmbedTexts | EmbedQuery, Any, Prepared]


def prepare_batch(
    ops: Sequence[Op],
    index: EmbeddingIndex | None,
    store_name: str,
    encode_value: Callable[[Any], str],
) -> Embedding:
    """Check the batch and embed its documents (one call) and its queries."""
    ops = validate_ops(list(ops), store_name=store_name, supports_ttl=True)
    puts: dict[NamespaceKey, PutOp] = {}
    for op in ops:
        if isinstance(op, PutOp):
            where = (tuple(op.namespace), op.key)
            puts.pop(where, None)  # re-insert: the order follows the last write
            puts[where] = op
    values = {w: encode_value(op.value) for w, op in puts.items() if op.value is not None}
    prepared = Prepared(ops, puts, values)
    if index is None:
        return prepared
    texts: list[str] = []
    for where, op in puts.items():
        if op.value is not None:
            pairs = index.texts_for(op.value, op.index)
            prepared.names[where] = (len(texts), tuple(name for name, _ in pairs))
            texts.extend(text for _, text in pairs)
    if texts:
        prepared.vectors = yield EmbedTexts(tuple(texts))
    for op in ops:
        if isinstance(op, SearchOp) and op.query and op.query not in prepared.queries:
            prepared.queries[op.query] = yield EmbedQuery(op.query)
    return prepared


def embed_sync(index: EmbeddingIndex | None, steps: Embedding) -> Prepared:
    """Run ``prepare_batch`` with the embedder's sync methods."""
    result: Any = None
    try:
        while True:
            effect = steps.send(result)
            assert index is not None
            match effect:
                case EmbedTexts(texts):
                    result = index.embed_documents(texts)
                case EmbedQuery(text):
                    result = index.embed_query(text)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def embed_async(index: EmbeddingIndex | None, steps: Embedding) -> Prepared:
    """Run ``prepare_batch`` with the embedder's async methods."""
    result: Any = None
    try:
        while True:
            effect = steps.send(result)
            assert index is not None
            match effect:
                case EmbedTexts(texts):
                    result = await index.aembed_documents(texts)
                case EmbedQuery(text):
                    result = await index.aembed_query(text)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
