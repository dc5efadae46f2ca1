"""Ready-made agent pieces: ``create_react_agent``, ``ToolNode``, ``tools_condition``.

``InjectedState`` and ``InjectedStore`` mark tool parameters that ``ToolNode`` fills in from the
graph instead of the model.
"""

from threadloom.prebuilt.chat_agent_executor import AgentState, create_react_agent
from threadloom.prebuilt.tool_node import InjectedState, InjectedStore, ToolNode, tools_condition

__all__ = [
    "AgentState",
    "InjectedState",
    "InjectedStore",
    "ToolNode",
    "create_react_agent",
    "tools_condition",
]
