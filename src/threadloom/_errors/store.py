"""Errors of the long-term memory stores: namespaces, filters, field paths, embeddings."""

from __future__ import annotations

from threadloom._errors.base import ThreadloomError


class InvalidNamespaceError(ValueError):
    """A store namespace (a tuple of labels) breaks the label rules; the message says which."""


class StoreFilterError(ValueError):
    """A store search filter uses an unknown operator or has a malformed shape."""


class FieldPathError(ValueError):
    """A field path for indexing (``"a.b[0]"``, ``"{a,b}"``, ``"$"`` …) cannot be parsed."""


class EmbeddingError(ThreadloomError):
    """The embedder failed or returned vectors that do not fit the index; nothing was stored."""


class IndexDimensionsError(ValueError):
    """A database holds vectors of other dimensions than the store's ``index["dims"]``."""

    def __init__(self, stored_dims: int, configured_dims: int, vectors: int) -> None:
        self.stored_dims, self.configured_dims, self.vectors = stored_dims, configured_dims, vectors
        super().__init__(
            f"This store's vector index was built with dims={stored_dims!r} ({vectors} vector(s) "
            f"stored), but index['dims'] is {configured_dims!r}. Use the embedding model the "
            f"index was built with (dims={stored_dims}), or open a new database file to embed "
            "with the new model."
        )


class StoreArgumentError(TypeError, ValueError):
    """A store call got an argument of the wrong kind: a value that is not a dict with string
    keys, a ``limit``/``offset``/``max_depth`` that is not a non-negative int, an op that is not
    a store op. Both a ``TypeError`` and a ``ValueError``: LangGraph's stores fail on these with
    one or the other (or not at all), so code written for either kind catches it."""
