"""Field paths: what parts of a value get embedded."""

from __future__ import annotations

from typing import Any

import pytest

from threadloom.errors import FieldPathError
from threadloom.store.base import get_text_at_path, tokenize_path

VALUE: dict[str, Any] = {
    "title": "Notes",
    "n": 3,
    "meta": {"lang": "en", "tags": ["a", "b"]},
    "parts": [{"text": "one", "n": 1}, {"text": "two"}, "plain"],
}


@pytest.mark.parametrize(
    ("path", "tokens"),
    [
        ("$", []),
        ("", []),
        ("title", ["title"]),
        ("a.b.c", ["a", "b", "c"]),
        ("parts[0].text", ["parts", "[0]", "text"]),
        ("parts[-1]", ["parts", "[-1]"]),
        ("parts[*].text", ["parts", "[*]", "text"]),
        ("meta.*", ["meta", "*"]),
        ("{title,meta.lang}", ["{title,meta.lang}"]),
        ("parts[*].{text,n}", ["parts", "[*]", "{text,n}"]),
        ("m[0][1]", ["m", "[0]", "[1]"]),
    ],
)
def test_tokenize(path: str, tokens: list[str]) -> None:
    assert tokenize_path(path) == tokens


@pytest.mark.parametrize(
    "path", ["a..b", ".a", "a.", "a[", "a[x]", "a[]", "a]", "{a,", "{}", "{a,}", "a{b}", "a,b"]
)
def test_malformed_paths(path: str) -> None:
    with pytest.raises(FieldPathError, match="Malformed field path"):
        tokenize_path(path)


@pytest.mark.parametrize(
    ("path", "texts"),
    [
        ("title", ["Notes"]),
        ("n", ["3"]),  # scalars become str()
        ("meta.tags", ['["a", "b"]']),  # lists and dicts become sorted JSON
        ("meta", ['{"lang": "en", "tags": ["a", "b"]}']),
        ("meta.tags[0]", ["a"]),
        ("meta.tags[-1]", ["b"]),
        ("meta.tags[5]", []),
        ("parts[*].text", ["one", "two"]),
        ("parts[*]", ['{"n": 1, "text": "one"}', '{"text": "two"}', "plain"]),
        ("meta.*", ["en", '["a", "b"]']),
        ("{title,meta.lang}", ["Notes", "en"]),
        ("parts[0].{text,n}", ["one", "1"]),
        ("missing", []),
        ("title[0]", []),  # a non-list under [...] yields nothing
        ("title.x", []),
    ],
)
def test_get_text_at_path(path: str, texts: list[str]) -> None:
    assert get_text_at_path(VALUE, path) == texts


def test_whole_value() -> None:
    assert get_text_at_path({"b": 1, "a": 2}, "$") == ['{"a": 2, "b": 1}']
