"""Embedding adapters: whatever the user passes as ``IndexConfig["embed"]``, one checked interface.

``ensure_embeddings`` turns a LangChain ``Embeddings``, a sync or async function
``(list[str]) -> list[list[float]]`` or a ``"provider:model"`` string into an ``Embeddings``.
``EmbeddingIndex`` adds what every store needs on top: which texts of a value to embed, one
embedder call per batch of documents, and a check of every returned vector against ``dims``, so
a failing or misconfigured embedder raises :class:`~threadloom.errors.EmbeddingError` before a
store changes anything. Stores decide where vectors live; this module never stores.
"""

from __future__ import annotations

import importlib
import inspect
import math
import struct
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from threadloom.errors import EmbeddingError
from threadloom.store._paths import (
    get_text_at_path,
    index_fields_alias,
    tokenize_path,
    value_to_text,
)

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from threadloom.store.base import IndexConfig

__all__ = ["EmbeddingIndex", "Vectors", "ensure_embeddings"]

Vectors = npt.NDArray[np.float32]
"""A float32 matrix, one row per text."""

_FEW_ROWS = 8
"""Below this many vectors, checking finiteness in Python beats a numpy call."""

SyncEmbedFn = Callable[[list[str]], list[list[float]]]
AsyncEmbedFn = Callable[[list[str]], Awaitable[list[list[float]]]]


def _is_async_callable(obj: Any) -> bool:
    return inspect.iscoroutinefunction(obj) or inspect.iscoroutinefunction(
        getattr(obj, "__call__", None)  # noqa: B004 - an object whose __call__ is async
    )


def _is_embeddings(value: Any) -> bool:
    # A LangChain Embeddings instance exists only if its module was imported: look, don't import.
    module = sys.modules.get("langchain_core.embeddings")
    return module is not None and isinstance(value, module.Embeddings)


def ensure_embeddings(embed: Any) -> Embeddings:
    """Wrap ``embed`` (Embeddings, sync/async function or ``"provider:model"``) as Embeddings."""
    if embed is None:
        raise ValueError("embed must be provided")
    if _is_embeddings(embed):
        return embed  # type: ignore[no-any-return]
    if isinstance(embed, str):
        return _init_from_string(embed)
    # the wrappers subclass langchain-core's Embeddings, whose import costs seconds: load on use
    from threadloom.store import _function_embeddings as wrap

    if _is_async_callable(embed):
        return wrap.AsyncFunctionEmbeddings(embed)
    if callable(embed):
        return wrap.SyncFunctionEmbeddings(embed)
    raise TypeError(
        f"embed must be a LangChain Embeddings, a function (list[str]) -> list[list[float]] "
        f"(sync or async) or a 'provider:model' string, got {type(embed).__name__} {embed!r}."
    )


def _init_from_string(spec: str) -> Embeddings:
    try:
        module = importlib.import_module("langchain.embeddings")
    except ImportError as exc:
        raise ValueError(
            f"embed={spec!r} names a model by string, which needs the 'langchain' package "
            "(pip install langchain and the provider's package). Or pass an Embeddings "
            "instance or a function instead."
        ) from exc
    embeddings: Embeddings = module.init_embeddings(spec)
    return embeddings


@dataclass(slots=True, frozen=True)
class EmbeddingIndex:
    """A store's resolved ``IndexConfig``: the embedder, its dimensions and the fields to embed."""

    embeddings: Embeddings
    dims: int
    """Every vector must have this length."""
    fields: tuple[str, ...]
    """Field paths embedded when a put says ``index=None``; ``("$",)`` is the whole value."""
    _row: struct.Struct = field(init=False, repr=False, compare=False)
    """Packs one vector of ``dims`` Python numbers as float32 (see ``_pack_lists``)."""
    _plain: bool = field(init=False, repr=False, compare=False)
    """Every field is a plain top-level name (``"text"``), read without the path walker."""

    def __post_init__(self) -> None:
        # "=": native byte order (what numpy's float32 reads) with standard sizes, which makes
        # struct refuse a number too large for float32 instead of silently storing inf.
        object.__setattr__(self, "_row", struct.Struct(f"={self.dims}f"))
        object.__setattr__(self, "_plain", all(path.isidentifier() for path in self.fields))

    @classmethod
    def from_config(cls, config: IndexConfig | Mapping[str, Any]) -> EmbeddingIndex:
        """Check and resolve an ``IndexConfig``; raises ValueError/TypeError naming the fix."""
        if not isinstance(config, Mapping):
            raise TypeError(
                f"index must be a dict like {{'dims': 384, 'embed': ...}}, got {config!r}."
            )
        config = index_fields_alias(config)  # LangGraph's SqliteStore spells it text_fields
        unknown = set(config) - {"dims", "embed", "fields", "distance_type", "ann_index_config"}
        if unknown:
            raise ValueError(
                f"Unknown index setting(s) {sorted(unknown)!r}; use 'dims', 'embed' and 'fields'."
            )
        dims = config.get("dims")
        if isinstance(dims, bool) or not isinstance(dims, int) or dims <= 0:
            raise ValueError(
                f"index['dims'] must be the positive vector length of the embedding model, "
                f"got {dims!r}."
            )
        fields = config.get("fields") or ["$"]
        if isinstance(fields, str) or not all(isinstance(f, str) for f in fields):
            raise TypeError(f"index['fields'] must be a list of field paths, got {fields!r}.")
        for path in fields:
            tokenize_path(path)
        return cls(ensure_embeddings(config.get("embed")), dims, tuple(fields))

    def texts_for(
        self, value: Mapping[str, Any], index: Literal[False] | Sequence[str] | None
    ) -> list[tuple[str, str]]:
        """``(vector name, text)`` pairs to embed for one put.

        A path that yields one text names its vector after the path; a path that yields several
        (``items[*]``) names them ``f"{path}.{i}"``. Missing paths yield nothing.
        """
        if index is False:
            return []
        if index is None and self._plain:  # the common case, once per put: no path walking
            return [
                (path, text if type(text := value[path]) is str else value_to_text(text))
                for path in self.fields
                if value.get(path) is not None  # None: nothing to embed (as LangGraph)
            ]
        paths = self.fields if index is None else index
        pairs: list[tuple[str, str]] = []
        for path in paths:
            texts = get_text_at_path(value, path)
            if len(texts) == 1:
                pairs.append((path, texts[0]))
            else:
                pairs.extend((f"{path}.{i}", text) for i, text in enumerate(texts))
        return pairs

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Embed all ``texts`` in one call; a checked ``(len(texts), dims)`` float32 matrix."""
        if not texts:
            return np.empty((0, self.dims), dtype=np.float32)
        self._require_sync()
        try:
            raw = self.embeddings.embed_documents(list(texts))
        except Exception as exc:
            raise self._failed(exc, len(texts)) from exc
        return self._check(raw, len(texts))

    async def aembed_documents(self, texts: Sequence[str]) -> Vectors:
        """Async twin of ``embed_documents``."""
        if not texts:
            return np.empty((0, self.dims), dtype=np.float32)
        try:
            raw = await self.embeddings.aembed_documents(list(texts))
        except Exception as exc:
            raise self._failed(exc, len(texts)) from exc
        return self._check(raw, len(texts))

    def embed_query(self, text: str) -> Vectors:
        """Embed one search query; a checked vector of length ``dims``."""
        self._require_sync()
        try:
            raw = self.embeddings.embed_query(text)
        except Exception as exc:
            raise self._failed(exc, 1, query=True) from exc
        return self._check([raw], 1)[0]  # type: ignore[no-any-return]

    async def aembed_query(self, text: str) -> Vectors:
        """Async twin of ``embed_query``."""
        try:
            raw = await self.embeddings.aembed_query(text)
        except Exception as exc:
            raise self._failed(exc, 1, query=True) from exc
        return self._check([raw], 1)[0]  # type: ignore[no-any-return]

    def _require_sync(self) -> None:
        # An async-only embedder's own NotImplementedError says what to do; don't wrap it.
        no_sync = getattr(self.embeddings, "no_sync", None)
        if no_sync is not None:
            raise no_sync()

    def _failed(self, exc: Exception, count: int, *, query: bool = False) -> EmbeddingError:
        what = "a search query" if query else f"{count} text(s) to store"
        return EmbeddingError(
            f"The embedder {type(self.embeddings).__name__} raised {exc!r} while embedding "
            f"{what}; nothing in the store was changed. Fix the embedder (model name, "
            "credentials, network) and retry."
        )

    def _pack_lists(self, raw: Any, count: int) -> Vectors | None:
        """Lists of Python floats (what LangChain embedders return) as a float32 matrix, fast.

        ``np.asarray`` walks nested lists element by element to learn their shape and type
        before converting; ``struct`` packs each row straight to float32 bytes, about twice as
        fast. Returns None when a row is not a list of ``dims`` numbers that fit float32, or
        holds NaN or inf: then ``_check`` takes the general path and names the error.
        """
        if type(raw) is not list or len(raw) != count:
            return None
        pack = self._row.pack
        # Finite float32 values cannot sum to inf in float64, so a row's sum finds NaN and inf;
        # past a few rows one vectorized check over the matrix is cheaper.
        few = count < _FEW_ROWS
        packed = bytearray()  # a bytearray keeps the matrix writable
        try:
            for row in raw:
                if type(row) is not list:
                    return None
                packed += pack(*row)
                if few and not math.isfinite(sum(row)):
                    return None
        except (TypeError, ValueError, OverflowError, struct.error):
            return None  # not numbers, a number too large for float32, or the wrong length
        matrix = np.frombuffer(packed, dtype=np.float32).reshape(count, self.dims)
        if not few and not np.isfinite(matrix).all():
            return None
        return matrix

    def _check(self, raw: Any, count: int) -> Vectors:
        packed = self._pack_lists(raw, count)
        if packed is not None:
            return packed
        # Arrays (or anything else): one conversion, then shape and finiteness checks.
        try:
            matrix = np.asarray(raw, dtype=np.float32)
        except (TypeError, ValueError):
            matrix = None  # ragged or not numbers: the slow path below says which
        if matrix is not None and matrix.shape == (count, self.dims):
            if not np.isfinite(matrix).all():
                raise EmbeddingError(
                    "The embedder returned NaN or infinite values; nothing in the store was "
                    "changed."
                )
            return matrix
        try:
            lengths = [len(v) for v in raw]
        except TypeError:
            raise EmbeddingError(
                f"The embedder returned {raw!r:.200}, not a list of vectors; nothing in the store "
                "was changed. It must return one list of floats per text."
            ) from None
        if len(lengths) != count:
            raise EmbeddingError(
                f"The embedder returned {len(lengths)} vector(s) for {count} text(s); nothing in "
                "the store was changed. It must return exactly one vector per text."
            )
        bad = [n for n in lengths if n != self.dims]
        if bad:
            raise EmbeddingError(
                f"The embedder returned a vector of length {bad[0]} but the index is configured "
                f"with dims={self.dims}; nothing in the store was changed. Set index['dims'] to "
                "the model's output size or use the model the index was built with."
            )
        try:
            matrix = np.asarray(raw, dtype=np.float32).reshape(count, self.dims)
        except (TypeError, ValueError) as exc:
            raise EmbeddingError(
                f"The embedder returned values that are not numbers ({exc}); nothing in the "
                "store was changed."
            ) from exc
        if not np.isfinite(matrix).all():
            raise EmbeddingError(
                "The embedder returned NaN or infinite values; nothing in the store was changed."
            )
        return matrix
