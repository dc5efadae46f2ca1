"""EncryptedSerializer: tags, pass-through of plain data, allow-list widening."""

from __future__ import annotations

import dataclasses

import pytest
from saver_helpers import config, make_checkpoint

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.checkpoint.serde.encrypted import EncryptedSerializer
from threadloom.checkpoint.serde.jsonplus import JsonPlusSerializer
from threadloom.errors import UnserializableValueError


class XorCipher:
    """A toy cipher for tests: the layer, not the cryptography, is under test."""

    def encrypt(self, plaintext: bytes) -> tuple[str, bytes]:
        return "xor", bytes(b ^ 0x5A for b in plaintext)

    def decrypt(self, ciphername: str, ciphertext: bytes) -> bytes:
        assert ciphername == "xor"
        return bytes(b ^ 0x5A for b in ciphertext)


@dataclasses.dataclass
class Secret:
    word: str


def test_round_trip_and_tags() -> None:
    serde = EncryptedSerializer(XorCipher())
    tag, data = serde.dumps_typed({"pin": 1234})
    assert tag == "msgpack+xor" and b"pin" not in data
    assert serde.loads_typed((tag, data)) == {"pin": 1234}
    assert serde.dumps_typed(None)[0] == "null+xor"
    plain = JsonPlusSerializer().dumps_typed([1, 2])
    assert serde.loads_typed(plain) == [1, 2]  # written before encryption was on


def test_saver_with_encryption_and_allowlist() -> None:
    saver = InMemorySaver(serde=EncryptedSerializer(XorCipher()))
    widened = saver.with_allowlist([Secret])
    assert isinstance(widened.serde, EncryptedSerializer)
    checkpoint = make_checkpoint({"s": Secret("swordfish"), "m": ["a"]})
    widened.put(config("t"), checkpoint, {"source": "loop", "step": 0}, {"s": 1, "m": 1})
    got = widened.get(config("t"))
    assert got is not None and got["channel_values"] == {"s": Secret("swordfish"), "m": ["a"]}
    assert widened.serde.with_allowlist([Secret]) is widened.serde


def test_error_paths_survive_encryption() -> None:
    serde = EncryptedSerializer(XorCipher())
    with pytest.raises(UnserializableValueError, match=r"state\['x'\]\[0\]"):
        serde.dumps_typed([object()], root="state['x']")


def test_aes_needs_pycryptodome_or_key(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        import Crypto  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pycryptodome"):
            EncryptedSerializer.from_pycryptodome_aes(key=b"k" * 16)
        return
    monkeypatch.delenv("LANGGRAPH_AES_KEY", raising=False)
    with pytest.raises(ValueError, match="no AES key"):
        EncryptedSerializer.from_pycryptodome_aes()
    serde = EncryptedSerializer.from_pycryptodome_aes(key=b"k" * 16)
    assert serde.loads_typed(serde.dumps_typed({"a": 1})) == {"a": 1}
