"""``ValidationNode``: checks the tool calls of the last AI message against schemas, without
running any tool (extraction: the model's arguments are the result).

Each call becomes a ``ToolMessage``: the validated arguments as JSON, or the validation error
(``additional_kwargs={"is_error": True}``) for the model to fix. The input is a list of messages
(a list comes back) or a state with ``messages`` (``{"messages": [...]}`` comes back).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.messages import AIMessage, ToolCall, ToolMessage
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.config import ensure_config, get_executor_for_config
from langchain_core.tools import BaseTool, create_schema_from_function
from pydantic import BaseModel, ValidationError
from pydantic.v1 import BaseModel as BaseModelV1
from pydantic.v1 import ValidationError as ValidationErrorV1

__all__ = ["ValidationNode"]


def _default_format_error(error: BaseException, call: ToolCall, schema: Any) -> str:
    return f"{error!r}\n\nRespond after fixing all validation errors."


def _schema_of(item: Any) -> tuple[str, Any]:
    """A schema entry's name and model class."""
    if isinstance(item, BaseTool):
        schema = item.args_schema
        if schema is None:
            raise ValueError(f"Tool {item.name} does not have an args_schema defined.")
        if not (isinstance(schema, type) and issubclass(schema, BaseModel | BaseModelV1)):
            raise ValueError(
                "Validation node only works with tools that have a pydantic BaseModel "
                f"args_schema. Got {item.name} with args_schema: {schema}."
            )
        return item.name, schema
    if isinstance(item, type) and issubclass(item, BaseModel | BaseModelV1):
        return item.__name__, item
    if callable(item):
        return item.__name__, create_schema_from_function("Validation", item)
    raise ValueError(
        "Unsupported input to ValidationNode. Expected BaseModel, tool or function. "
        f"Got: {type(item)}."
    )


class ValidationNode(Runnable[Any, Any]):
    """A node validating every tool call of the last ``AIMessage`` (see the module)."""

    def __init__(
        self,
        schemas: Sequence[BaseTool | type[BaseModel] | Callable[..., Any]],
        *,
        format_error: Callable[[BaseException, ToolCall, Any], str] | None = None,
        name: str = "validation",
        tags: list[str] | None = None,
    ) -> None:
        self.name = name
        self.tags = tags
        self._format_error = format_error or _default_format_error
        self.schemas_by_name: dict[str, Any] = dict(_schema_of(s) for s in schemas)

    def _last_message(self, value: Any) -> tuple[bool, AIMessage]:
        """Whether the input is a list of messages, and its last message (an AIMessage)."""
        if isinstance(value, list):
            messages = value
        elif not (messages := value.get("messages", [])):
            raise ValueError("No message found in input")
        last = messages[-1]
        if not isinstance(last, AIMessage):
            raise ValueError("Last message is not an AIMessage")
        return isinstance(value, list), last

    def _validated(self, call: ToolCall) -> ToolMessage:
        schema = self.schemas_by_name[call["name"]]
        try:
            if issubclass(schema, BaseModel):
                content = schema.model_validate(call["args"]).model_dump_json()
            else:
                content = schema.validate(call["args"]).json()
        except (ValidationError, ValidationErrorV1) as error:
            return ToolMessage(
                content=self._format_error(error, call, schema),
                name=call["name"],
                tool_call_id=str(call["id"]),
                additional_kwargs={"is_error": True},
            )
        return ToolMessage(content=content, name=call["name"], tool_call_id=str(call["id"]))

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Validate the calls (in parallel threads); the messages keep the calls' order."""
        as_list, message = self._last_message(input)
        with get_executor_for_config(ensure_config(config)) as pool:
            outputs = list(pool.map(self._validated, message.tool_calls))
        return outputs if as_list else {"messages": outputs}
