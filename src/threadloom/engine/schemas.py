"""What a compiled graph tells LangChain about its input and output, as LangGraph's does.

``InputType`` / ``OutputType``, ``get_input_schema`` / ``get_output_schema`` (pydantic models, so
``input_schema``, ``as_tool`` and LangServe-style tooling work), their JSON schemas, and
``get_context_jsonschema``. A ``StateGraph``'s come from its input and output schemas (TypedDict,
pydantic model or dataclass); an ``@entrypoint``'s from its function's annotations.
"""

from __future__ import annotations

import dataclasses
import types
import typing
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from langchain_core.runnables import RunnableConfig
from langchain_core.utils.pydantic import create_model_v2
from pydantic import BaseModel, TypeAdapter, create_model
from typing_extensions import is_typeddict

from threadloom.warnings import LangGraphDeprecatedSinceV10

__all__ = ["GraphSchemas"]


def _is_model(typ: Any) -> bool:
    return isinstance(typ, type) and issubclass(typ, BaseModel)


def _hints(schema: Any) -> dict[str, Any]:
    """Key → type, without ``Annotated`` reducers and ``Required``/``NotRequired`` markers."""
    try:
        return typing.get_type_hints(schema)
    except Exception:
        return dict(getattr(schema, "__annotations__", {}))


def _default(name: str, typ: Any, schema: Any) -> Any:
    """A key's default in a generated model: ``...`` (required) unless the schema says otherwise."""
    if name in getattr(schema, "__optional_keys__", ()):
        return None
    if dataclasses.is_dataclass(schema):
        for field in dataclasses.fields(schema):
            if field.name == name:
                if field.default is not dataclasses.MISSING:
                    return field.default
                if field.default_factory is not dataclasses.MISSING:
                    return field.default_factory()
    if typing.get_origin(typ) in (typing.Union, types.UnionType) and type(None) in typing.get_args(
        typ
    ):
        return None
    return ...


def _json_schema(typ: Any, name: str) -> dict[str, Any]:
    if _is_model(typ):
        return typ.model_json_schema()  # type: ignore[no-any-return]
    if is_typeddict(typ):
        return TypeAdapter(typ).json_schema()
    hints = _hints(typ)
    if not hints:  # a bare type: the graph's value as a whole
        return create_model_v2(name, root=(typ, None)).model_json_schema()  # a RootModel
    fields: dict[str, Any] = {k: (t, _default(k, t, typ)) for k, t in hints.items()}
    return create_model(name, **fields).model_json_schema()  # type: ignore[no-any-return]


class GraphSchemas:
    """Mixed into ``Pregel``: the Runnable schema methods (the Runnable base does the rest)."""

    io_types: tuple[Any, Any] = (Any, Any)
    """``(input, output)`` types of a graph without a builder (an ``@entrypoint``'s)."""
    plan: Any
    lowlevel_io: tuple[str | Sequence[str], str | Sequence[str]] | None

    if TYPE_CHECKING:

        def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str: ...

    def _schemas(self) -> tuple[Any, Any] | None:
        """The builder's ``(input_schema, output_schema)``, for a compiled ``StateGraph``."""
        builder = getattr(self, "builder", None)
        if builder is None:
            return None
        return builder.input_schema, builder.output_schema

    def _channel_type(self, channels: str | Sequence[str], kind: str) -> Any:
        """A low-level ``Pregel``'s type for one channel (``kind``: ``UpdateType`` for input,
        ``ValueType`` for output); None for a list of them (a dict: see the schema methods)."""
        if isinstance(channels, str):
            return getattr(self.plan.channels[channels], kind)
        return None

    def _channels_model(self, channels: Sequence[str], kind: str, suffix: str) -> type[BaseModel]:
        """A model with one optional field per channel, typed by the channel."""
        fields = {k: (getattr(self.plan.channels[k], kind), None) for k in channels}
        return create_model(self.get_name(suffix), **fields)  # type: ignore[call-overload, no-any-return]

    @property
    def InputType(self) -> Any:
        """The type the graph takes: the input schema, the input channel's update type (a
        low-level ``Pregel``), or the entrypoint's first parameter's."""
        schemas = self._schemas()
        if schemas is not None:
            return schemas[0]
        if self.lowlevel_io is not None:
            return self._channel_type(self.lowlevel_io[0], "UpdateType")
        return self.io_types[0]

    @property
    def OutputType(self) -> Any:
        """The entrypoint's return type, or the output channel's value type (a low-level
        ``Pregel``); None for a ``StateGraph`` or a list of channels (a dict of them)."""
        if self._schemas() is not None:
            return None
        if self.lowlevel_io is not None:
            return self._channel_type(self.lowlevel_io[1], "ValueType")
        return self.io_types[1]

    def get_input_schema(self, config: Any = None) -> type[BaseModel]:
        """A model of the input; a low-level ``Pregel`` with a list of input channels takes a
        dict of them (each optional, typed by its channel)."""
        io = self.lowlevel_io
        if io is not None and not isinstance(io[0], str):
            return self._channels_model(io[0], "UpdateType", "Input")
        return super().get_input_schema(config)  # type: ignore[misc, no-any-return]

    def get_output_schema(self, config: Any = None) -> type[BaseModel]:
        """A model of the output keys (each optional) for a ``StateGraph`` or a low-level
        ``Pregel`` with a list of output channels, else of the output."""
        io = self.lowlevel_io
        if io is not None and not isinstance(io[1], str):
            return self._channels_model(io[1], "ValueType", "Output")
        schemas = self._schemas()
        if schemas is None:
            return super().get_output_schema(config)  # type: ignore[misc, no-any-return]
        hints = _hints(schemas[1])
        keys = self.plan.output_channels
        fields = {k: (hints.get(k, Any), None) for k in ([keys] if isinstance(keys, str) else keys)}
        return create_model(self.get_name("Output"), **fields)  # type: ignore[call-overload, no-any-return]

    def get_input_jsonschema(self, config: Any = None) -> dict[str, Any]:
        """The JSON schema of the input (a TypedDict's or model's own; generated otherwise)."""
        schemas = self._schemas()
        if schemas is None:
            return super().get_input_jsonschema(config)  # type: ignore[misc, no-any-return]
        return _json_schema(schemas[0], self.get_name("Input"))

    def get_output_jsonschema(self, config: Any = None) -> dict[str, Any]:
        """The JSON schema of the output (the output schema's own; generated otherwise)."""
        schemas = self._schemas()
        if schemas is None:
            return super().get_output_jsonschema(config)  # type: ignore[misc, no-any-return]
        return _json_schema(schemas[1], self.get_name("Output"))

    def get_context_jsonschema(self) -> dict[str, Any] | None:
        """The JSON schema of the run context (``context_schema``), or None without one."""
        schema = self.plan.context_schema
        if schema is None:
            return None
        if _is_model(schema):
            return schema.model_json_schema()  # type: ignore[no-any-return]
        if is_typeddict(schema) or dataclasses.is_dataclass(schema):
            return TypeAdapter(schema).json_schema()
        raise ValueError(
            f"context_schema {schema!r} has no JSON schema: use a pydantic model, a TypedDict "
            "or a dataclass"
        )

    @property
    def context_schema(self) -> Any:
        """The type of the run context (``context=``), or None."""
        return self.plan.context_schema

    def config_schema(self, *, include: Sequence[str] | None = None) -> type[BaseModel]:
        """Deprecated (LangGraph 1.0): a model with ``configurable`` typed by ``context_schema``
        and the ``RunnableConfig`` keys named in ``include``. Use ``get_context_jsonschema``."""
        warnings.warn(
            "`config_schema` is deprecated. Use `get_context_jsonschema` for the relevant schema "
            "instead.",
            LangGraphDeprecatedSinceV10,
            stacklevel=2,
        )
        fields: dict[str, Any] = {}
        if self.plan.context_schema is not None:
            fields["configurable"] = (self.plan.context_schema, None)
        config_keys = typing.get_type_hints(RunnableConfig)
        for key in include or ():
            if key != "configurable" and key in config_keys:
                fields[key] = (config_keys[key], None)
        return create_model(self.get_name("Config"), **fields)

    def get_config_jsonschema(self, *, include: Sequence[str] | None = None) -> dict[str, Any]:
        """Deprecated (LangGraph 1.0): ``config_schema``'s JSON schema. Use
        ``get_context_jsonschema``."""
        warnings.warn(
            "`get_config_jsonschema` is deprecated. Use `get_context_jsonschema` instead.",
            LangGraphDeprecatedSinceV10,
            stacklevel=2,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LangGraphDeprecatedSinceV10)
            return self.config_schema(include=include).model_json_schema()
