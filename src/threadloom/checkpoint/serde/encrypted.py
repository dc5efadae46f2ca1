"""``EncryptedSerializer``: encrypt what another serializer produced; the tag says how.

Encryption is a layer over bytes, never mixed into decoding: the inner serializer's tag gets the
cipher's name appended (``"msgpack+aes"``). Loading a tag without ``+`` passes through
unencrypted, so a saver can switch encryption on for data written before.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from threadloom.checkpoint.serde._allowlist import TypeKey
from threadloom.checkpoint.serde.base import (
    CipherProtocol,
    SerializerProtocol,
    dumps_at,
    shared_encodings,
)
from threadloom.checkpoint.serde.jsonplus import JsonPlusSerializer
from threadloom.errors import CorruptDataError, shown_value

__all__ = ["EncryptedSerializer"]

_AES_KEY_ENV = "LANGGRAPH_AES_KEY"


class EncryptedSerializer:
    """Wraps ``serde`` (default ``JsonPlusSerializer()``) and encrypts its bytes with ``cipher``."""

    reports_paths = True

    def __init__(self, cipher: CipherProtocol, serde: SerializerProtocol | None = None) -> None:
        self.cipher = cipher
        self.serde = serde or JsonPlusSerializer()

    def dumps_typed(self, obj: Any, *, root: str = "value") -> tuple[str, bytes]:
        tag, data = dumps_at(self.serde, root, obj)
        cipher_name, ciphertext = self.cipher.encrypt(data)
        return f"{tag}+{cipher_name}", ciphertext

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        tag, payload = data
        if "+" not in tag:
            return self.serde.loads_typed(data)
        inner, cipher_name = tag.split("+", 1)
        try:
            plaintext = self.cipher.decrypt(cipher_name, payload)
        except Exception as exc:  # the cipher's own error (e.g. "MAC check failed") is not ours
            raise CorruptDataError(
                f"cannot decrypt it with the {cipher_name!r} cipher ({type(exc).__name__}: "
                f"{shown_value(str(exc))}); the key differs from the one that wrote it, or the "
                "ciphertext was changed",
                offset=None,
            ) from exc
        return self.serde.loads_typed((inner, plaintext))

    def with_allowlist(self, extra: Iterable[type | TypeKey] | bool | None) -> EncryptedSerializer:
        """The same cipher over a serializer that also rebuilds ``extra``."""
        widen = getattr(self.serde, "with_allowlist", None)
        if widen is None:
            return self
        inner = widen(extra)
        return self if inner is self.serde else EncryptedSerializer(self.cipher, inner)

    def sharing_encodings(self) -> EncryptedSerializer:
        """The same cipher over the inner serializer of one save (``shared_encodings``)."""
        inner = shared_encodings(self.serde)
        return self if inner is self.serde else EncryptedSerializer(self.cipher, inner)

    @classmethod
    def from_pycryptodome_aes(
        cls, serde: SerializerProtocol | None = None, **kwargs: Any
    ) -> EncryptedSerializer:
        """AES-EAX with ``key=`` (16, 24 or 32 bytes) or the ``LANGGRAPH_AES_KEY`` env var.

        Ciphertext layout: nonce (16) + tag (16) + ciphertext. Needs ``pycryptodome``.
        """
        try:
            from Crypto.Cipher import AES  # type: ignore[import-not-found]
        except ImportError as exc:
            raise ImportError(
                "EncryptedSerializer.from_pycryptodome_aes needs pycryptodome: "
                "pip install pycryptodome"
            ) from exc
        key = kwargs.pop("key", None)
        if key is None:
            env = os.environ.get(_AES_KEY_ENV)
            if env is None:
                raise ValueError(
                    f"no AES key: pass key=... or set {_AES_KEY_ENV} (16, 24 or 32 bytes)."
                )
            key = env.encode()
        if len(key) not in (16, 24, 32):
            raise ValueError(f"AES key must be 16, 24 or 32 bytes long, got {len(key)}.")
        return cls(_AesEax(AES, key, kwargs), serde)


class _AesEax:
    def __init__(self, aes: Any, key: bytes, options: dict[str, Any]) -> None:
        self._aes, self._key, self._options = aes, key, options

    def encrypt(self, plaintext: bytes) -> tuple[str, bytes]:
        cipher = self._aes.new(self._key, self._aes.MODE_EAX, **self._options)
        ciphertext, tag = cipher.encrypt_and_digest(plaintext)
        return "aes", bytes(cipher.nonce) + tag + ciphertext

    def decrypt(self, ciphername: str, ciphertext: bytes) -> bytes:
        if ciphername != "aes":
            raise ValueError(f"unknown cipher {ciphername!r}: this serializer decrypts 'aes'")
        nonce, tag, body = ciphertext[:16], ciphertext[16:32], ciphertext[32:]
        cipher = self._aes.new(self._key, self._aes.MODE_EAX, nonce=nonce, **self._options)
        return cipher.decrypt_and_verify(body, tag)  # type: ignore[no-any-return]
