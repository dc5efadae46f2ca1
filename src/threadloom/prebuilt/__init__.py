"""Ready-made agent pieces: ``create_react_agent``, ``ToolNode``, ``tools_condition``,
``ValidationNode``; ``ToolCallTransformer`` streams each tool call (``run.tool_calls``).

``InjectedState`` and ``InjectedStore`` mark tool parameters that ``ToolNode`` fills in from the
graph instead of the model; a parameter typed ``ToolRuntime`` gets the run as the call sees it.
"""

from threadloom.prebuilt._tool_call_stream import ToolCallTransformer
from threadloom.prebuilt.chat_agent_executor import AgentState, create_react_agent
from threadloom.prebuilt.tool_node import InjectedState, InjectedStore, ToolNode, tools_condition
from threadloom.prebuilt.tool_runtime import ToolRuntime
from threadloom.prebuilt.tool_validator import ValidationNode

__all__ = [
    "AgentState",
    "InjectedState",
    "InjectedStore",
    "ToolCallTransformer",
    "ToolNode",
    "ToolRuntime",
    "ValidationNode",
    "create_react_agent",
    "tools_condition",
]
