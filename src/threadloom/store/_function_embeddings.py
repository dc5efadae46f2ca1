"""A plain sync or async function used as a LangChain ``Embeddings`` (``ensure_embeddings``).

Kept out of ``store/embed.py`` because langchain-core's ``Embeddings`` imports its callback and
tracing machinery, which a store without a function embedder should not pay for.
"""

from __future__ import annotations

import asyncio

from langchain_core.embeddings import Embeddings

from threadloom.store.embed import AsyncEmbedFn, SyncEmbedFn

__all__ = ["AsyncFunctionEmbeddings", "SyncFunctionEmbeddings"]


class SyncFunctionEmbeddings(Embeddings):
    """A plain function used as ``Embeddings``; async use runs it in a worker thread."""

    def __init__(self, func: SyncEmbedFn) -> None:
        self.func = func

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.func(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.func([text])[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return await asyncio.to_thread(self.func, texts)

    async def aembed_query(self, text: str) -> list[float]:
        return (await asyncio.to_thread(self.func, [text]))[0]


class AsyncFunctionEmbeddings(Embeddings):
    """An async function used as ``Embeddings``; only the async store methods can use it."""

    def __init__(self, func: AsyncEmbedFn) -> None:
        self.func = func

    def no_sync(self) -> NotImplementedError:
        name = getattr(self.func, "__name__", repr(self.func))
        return NotImplementedError(
            f"The embedder {name} is an async function, so it can only be used through the "
            "store's async methods (aput, asearch, abatch). Pass a sync function or a LangChain "
            "Embeddings to use the sync methods."
        )

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise self.no_sync()

    def embed_query(self, text: str) -> list[float]:
        raise self.no_sync()

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return await self.func(texts)

    async def aembed_query(self, text: str) -> list[float]:
        return (await self.func([text]))[0]
