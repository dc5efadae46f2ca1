"""How the PostgreSQL saver stores values, writes and headers: zlib with a preset dictionary.

PostgreSQL compresses only rows over about 2 KB, and a checkpoint's rows are a few hundred bytes:
a chat message, a task's write, a header. Most of such a row is the same from row to row (a
message's class path and field names, channel names), which zlib alone cannot find in one short
row. With a preset dictionary of those bytes (``DICTIONARY``: LangChain messages as the
serializer writes them, the engine's channel and task names) it can: a message of 200 characters
takes about 150 bytes instead of 450 (250 with zlib alone), whatever its text.

``pack`` gives the ``(type, data)`` stored, ``unpack`` the one the serializer wrote: only the
stored row changes. The type of a packed row starts with ``PREFIX``, which names the dictionary:
the dictionary never changes; a better one would get a new prefix, and rows written with this
one would still read. Since schema 39 the packed bytes are raw deflate (``RAW_PREFIX``), 10
bytes shorter than the zlib format rows written before (``PREFIX``), which still read.
Rows the shared code packed with zlib alone (``_records.pack_data``, prefix ``zlib:``) are left
to it. The saver packs what it writes and unpacks what it reads in
one place (``_core.as_unit``), so the shared core and the saver's caches only see the
serializer's bytes.

Three more things are shortened as stored, since every row repeats them (issue 8: bytes per row):
the common type tags (``SHORT_TAGS``: ``zd1:msgpack``, 12 bytes in every value, write and header
row, is stored as ``~z``), and the engine's task paths (``pack_path``: ``~__pregel_pull, node``
as ``chr(1) + "node"``). A tag or path that itself starts with the marker is stored escaped, so
every stored form reads back as the one written; rows stored before read as they are (no
serializer's tag starts with ``~``); and the engine's step metadata (``pack_metadata``: the JSON
text ``{"source":"loop","step":7,"parents":{}}`` as ``[7,"loop"]``, 13 bytes instead of 42),
which the statements turn back into the text written (``_statements.METADATA_TEXT``).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any, Final

from threadloom.checkpoint._records import PACK_MAX_BYTES, PACKED_PREFIX

__all__ = [
    "DICTIONARY",
    "PREFIX",
    "RAW_PREFIX",
    "SHORT_TAGS",
    "pack",
    "pack_metadata",
    "pack_path",
    "unpack",
    "unpack_path",
    "unpack_rows",
]

DICTIONARY: Final = bytes.fromhex(
    "5f5f73746172745f5f6d657373616765736272616e63683a746f3a7e5f5f70726567656c5f70756c6c2c205f5f70"
    "726567656c5f7075736891c7810594be6c616e67636861696e5f636f72652e6d657373616765732e73797374656d"
    "ad53797374656d4d65737361676586a7636f6e74656e74a0b16164646974696f6e616c5f6b776172677380b17265"
    "73706f6e73655f6d6574616461746180a474797065a673797374656da46e616d65c0a26964a17892a7636f6e7465"
    "6e74a2696491c7b00594bc6c616e67636861696e5f636f72652e6d657373616765732e746f6f6cab546f6f6c4d65"
    "737361676589a7636f6e74656e74a0b16164646974696f6e616c5f6b776172677380b1726573706f6e73655f6d65"
    "74616461746180a474797065a4746f6f6ca46e616d65c0a26964a178ac746f6f6c5f63616c6c5f6964a178a86172"
    "746966616374c0a6737461747573a77375636365737393a7636f6e74656e74a26964ac746f6f6c5f63616c6c5f69"
    "6491c77e0594bd6c616e67636861696e5f636f72652e6d657373616765732e68756d616eac48756d616e4d657373"
    "61676586a7636f6e74656e74a0b16164646974696f6e616c5f6b776172677380b1726573706f6e73655f6d657461"
    "6461746180a474797065a568756d616ea46e616d65c0a26964a17892a7636f6e74656e74a2696491c7d20594ba6c"
    "616e67636861696e5f636f72652e6d657373616765732e6169a941494d65737361676589a7636f6e74656e74a0b1"
    "6164646974696f6e616c5f6b776172677380b1726573706f6e73655f6d6574616461746180a474797065a26169a4"
    "6e616d65c0a26964a178aa746f6f6c5f63616c6c739184a46e616d65a178a46172677380a26964a178a474797065"
    "a9746f6f6c5f63616c6cb2696e76616c69645f746f6f6c5f63616c6c7390ae75736167655f6d65746164617461c0"
    "93a7636f6e74656e74a26964aa746f6f6c5f63616c6c7391c7a50594ba6c616e67636861696e5f636f72652e6d65"
    "7373616765732e6169a941494d65737361676589a7636f6e74656e74a0b16164646974696f6e616c5f6b77617267"
    "7380b1726573706f6e73655f6d6574616461746180a474797065a26169a46e616d65c0a26964a178aa746f6f6c5f"
    "63616c6c7390b2696e76616c69645f746f6f6c5f63616c6c7390ae75736167655f6d65746164617461c092a7636f"
    "6e74656e74a26964"
)
"""Never edit: rows stored with it need it to be read."""
PREFIX: Final = "zd1:"
"""Type prefix of data packed with ``DICTIONARY`` in the zlib format (rows written before
schema 39; still read)."""
RAW_PREFIX: Final = "zd2:"
"""Type prefix of data packed with ``DICTIONARY`` as raw deflate (what ``pack`` writes): the
zlib format's header, dictionary id and checksum are 10 bytes of each row, which PostgreSQL's
own page checksums and WAL already guard; no serializer tag starts with it."""
MIN_BYTES: Final = 64
"""Smaller data is stored as it is (a value of ``None`` or an int: nothing to gain)."""
SHORT_TAGS: Final = {
    PREFIX + "msgpack": "~z",
    "msgpack": "~m",
    "null": "~n",
    PREFIX + "json": "~y",
    "json": "~j",
    RAW_PREFIX + "msgpack": "~d",
    RAW_PREFIX + "json": "~e",
}
"""Never edit (add only): the stored form of the commonest type tags. A tag starting with
``~`` is stored as ``~`` + tag."""
_LONG_TAGS: Final = {short: tag for tag, short in SHORT_TAGS.items()}
_PATH_PREFIXES: Final = ("~__pregel_pull, ", "~__pregel_push, ")
"""Never edit (add only): stored as ``chr(1 + their index)``."""
_PATH_ESCAPE: Final = "\x1f"
"""A path that starts with a character below a space is stored as this + the path."""


_PACKED: Final = (PREFIX, RAW_PREFIX, PACKED_PREFIX)


def _short(tag: str) -> str:
    short = SHORT_TAGS.get(tag)
    if short is not None:
        return short
    return "~" + tag if tag.startswith("~") else tag


def pack(tag: str, data: bytes) -> tuple[str, bytes]:
    """``(tag, data)`` as stored: packed when that saves a tenth or more."""
    if MIN_BYTES <= len(data) <= PACK_MAX_BYTES and not tag.startswith(_PACKED):
        packer = zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS, zdict=DICTIONARY)
        packed = packer.compress(data) + packer.flush()
        if len(packed) * 10 <= len(data) * 9:
            return _short(RAW_PREFIX + tag), packed
    return _short(tag), data


def unpack(tag: Any, data: Any) -> tuple[Any, Any]:
    """The ``(tag, data)`` that ``pack`` was given (anything else as it is, NULLs too)."""
    if type(tag) is str and tag.startswith("~"):
        tag = _LONG_TAGS.get(tag) or tag[1:]
    if type(tag) is str and tag.startswith(RAW_PREFIX):
        unpacker = zlib.decompressobj(-zlib.MAX_WBITS, zdict=DICTIONARY)
        return tag[len(RAW_PREFIX) :], unpacker.decompress(data) + unpacker.flush()
    if type(tag) is str and tag.startswith(PREFIX):
        unpacker = zlib.decompressobj(zdict=DICTIONARY)
        return tag[len(PREFIX) :], unpacker.decompress(data) + unpacker.flush()
    return tag, data


def pack_path(path: str) -> str:
    """A task path as stored: the engine's usual prefix as one character."""
    if path[:1] < " " or path.startswith(_PATH_ESCAPE):
        return _PATH_ESCAPE + path if path else path
    for n, prefix in enumerate(_PATH_PREFIXES):
        if path.startswith(prefix):
            return chr(1 + n) + path[len(prefix) :]
    return path


def unpack_path(stored: Any) -> Any:
    """The path ``pack_path`` was given (anything else, NULL too, as it is)."""
    if type(stored) is not str or not stored or stored[0] >= " ":
        return stored
    if stored[0] == _PATH_ESCAPE:
        return stored[1:]
    return _PATH_PREFIXES[ord(stored[0]) - 1] + stored[1:]


_ROOT_HEAD: Final = '{"source":'
_ROOT_STEP: Final = ',"step":'
_ROOT_TAIL: Final = ',"parents":{}}'


def pack_metadata(text: str) -> str:
    """The JSON text of checkpoint metadata as stored: the engine's step metadata
    ``{"source":S,"step":N,"parents":{}}`` (S a JSON string, N an integer, no spaces) as
    ``[N,S]``, each part the very text written; any other text as it is (an object, so the
    two never mix)."""
    if not (text.startswith(_ROOT_HEAD) and text.endswith(_ROOT_TAIL)):
        return text
    source, found, step = text[len(_ROOT_HEAD) : -len(_ROOT_TAIL)].rpartition(_ROOT_STEP)
    digits = step[1:] if step.startswith("-") else step
    number = digits.isascii() and digits.isdigit() and (digits == "0" or digits[0] != "0")
    # a quote inside a JSON string is escaped, so `,"step":` cannot be inside S
    if found and number and len(source) > 1 and source[0] == '"' == source[-1]:
        return f"[{step},{source}]"
    return text


def unpack_rows(
    rows: Sequence[Sequence[Any]], columns: Sequence[int], path: int | None = None
) -> list[tuple[Any, ...]]:
    """``rows`` with each (type, data) pair of columns starting at ``columns`` unpacked, and
    the task path in column ``path``."""
    out = []
    for row in rows:
        row = list(row)
        for at in columns:
            row[at], row[at + 1] = unpack(row[at], row[at + 1])
        if path is not None:
            row[path] = unpack_path(row[path])
        out.append(tuple(row))
    return out
