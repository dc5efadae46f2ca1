"""A deterministic embedder for tests: character n-grams hashed into a fixed number of buckets.

Texts that share words share n-grams, so "what is my name?" lands near "User name is Bob" and
far from "I like pizza". No model, no network, the same vectors on every run and machine.
``FakeEmbeddings`` also counts its calls, so tests can check that a store embeds documents in
batches and each query once.
"""

from __future__ import annotations

import math
import re
import zlib

from langchain_core.embeddings import Embeddings

__all__ = ["FakeEmbeddings", "embed_texts"]


def _vector(text: str, dims: int) -> list[float]:
    counts = [0.0] * dims
    for word in re.findall(r"\w+", text.lower()):
        if len(word) < 3:  # "is", "my", "a": shared by everything, they would only add noise
            continue
        counts[zlib.crc32(word.encode()) % dims] += 2.0  # the whole word counts most
        padded = f"<{word}>"
        for n in (3, 4):
            for i in range(len(padded) - n + 1):
                gram = padded[i : i + n].encode()
                counts[zlib.crc32(gram) % dims] += 1.0
    norm = math.sqrt(sum(c * c for c in counts)) or 1.0
    return [c / norm for c in counts]


def embed_texts(texts: list[str], dims: int = 128) -> list[list[float]]:
    """Embed ``texts`` deterministically (a plain function, usable as ``index["embed"]``)."""
    return [_vector(t, dims) for t in texts]


class FakeEmbeddings(Embeddings):
    """LangChain ``Embeddings`` over ``embed_texts`` that records every call it receives."""

    def __init__(self, dims: int = 128) -> None:
        self.dims = dims
        self.document_calls: list[list[str]] = []
        self.query_calls: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.document_calls.append(list(texts))
        return embed_texts(texts, self.dims)

    def embed_query(self, text: str) -> list[float]:
        self.query_calls.append(text)
        return embed_texts([text], self.dims)[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_documents(texts)

    async def aembed_query(self, text: str) -> list[float]:
        return self.embed_query(text)
