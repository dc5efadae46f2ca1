"""Field paths: what parts of a value get embedded."""

from __future__ import annotations

from collections import UserDict
from types import MappingProxyType
from typing import Any

import pytest

from threadloom.errors import FieldPathError, InvalidNamespaceError
from threadloom.store.base import (
    GetOp,
    ListNamespacesOp,
    MatchCondition,
    PutOp,
    SearchOp,
    get_text_at_path,
    tokenize_path,
    validate_op_namespace,
)

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


@pytest.mark.parametrize("path", ["items[].value", "items[abc].value", "{unclosed", "a[{b}]"])
def test_a_malformed_path_finds_no_text(path: str) -> None:
    # LangGraph 1.2.22's get_text_at_path finds nothing on a malformed path (it raised here);
    # an index given such a path is still refused when it is configured (tokenize_path).
    assert get_text_at_path({"items": [{"value": "x"}], "a": {"b": "y"}}, path) == []


@pytest.mark.parametrize(
    "mapping", [UserDict({"text": "searchable"}), MappingProxyType({"text": "searchable"})]
)
def test_a_mapping_that_is_no_dict_is_text_as_json(mapping: Any) -> None:
    # LangGraph 1.2.22 embeds it as the JSON of its items (it was the JSON of its repr here)
    assert get_text_at_path(mapping, "$") == ['{"text": "searchable"}']
    assert get_text_at_path(mapping, "text") == ["searchable"]


def test_validate_op_namespace_checks_the_labels_an_op_carries() -> None:
    # LangGraph 1.2.22's validate_op_namespace(op): labels only, the empty prefix and
    # wildcards allowed; put's own rules (a "langgraph" root) are not an op's.
    for op in (
        SearchOp(()),
        ListNamespacesOp(),
        ListNamespacesOp((MatchCondition("prefix", ("t", "*")), MatchCondition("suffix", ("*",)))),
        GetOp(("t", "a_%"), "key"),
        PutOp(("langgraph", "x"), "key", {"v": 1}),
    ):
        assert validate_op_namespace(op) is None
    for bad in [("foo.bar",), ("foo\x00",), ("foo", ""), (123,)]:
        for op in (
            GetOp(bad, "k"),
            PutOp(bad, "k", None),
            SearchOp(bad),
            ListNamespacesOp((MatchCondition("prefix", bad),)),
            ListNamespacesOp((MatchCondition("suffix", bad),)),
        ):
            with pytest.raises(InvalidNamespaceError):
                validate_op_namespace(op)
