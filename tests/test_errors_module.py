"""``threadloom.errors`` is where every public error is imported from, wherever it is defined."""

from __future__ import annotations

import pickle

import threadloom.errors as errors


def _public_classes() -> list[type]:
    return [
        value
        for name in errors.__all__
        if name != "ToolInvocationError"  # loaded on use (langchain-core's tracers)
        and isinstance(value := getattr(errors, name), type)
    ]


def test_every_public_error_is_named_from_threadloom_errors() -> None:
    classes = _public_classes()
    assert len(classes) > 50
    assert [c for c in classes if c.__module__ != "threadloom.errors"] == []


def test_an_error_defined_in_a_topic_module_pickles_as_threadloom_errors() -> None:
    # An error raised in a worker process reaches its parent by pickle: the class must be found
    # again under the name it is shown with.
    error = errors.StorageError("the disk is full")
    data = pickle.dumps(error)
    assert b"threadloom.errors" in data and b"_errors" not in data
    again = pickle.loads(data)
    assert type(again) is errors.StorageError and again.args == ("the disk is full",)


def test_repr_of_a_moved_class_names_its_public_module() -> None:
    assert repr(errors.CliError) == "<class 'threadloom.errors.CliError'>"
