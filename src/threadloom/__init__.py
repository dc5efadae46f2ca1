"""threadloom: stateful LLM workflows with durable memory.

Import what you need from the submodules, as with LangGraph: ``threadloom.graph``,
``threadloom.func``, ``threadloom.types``, ``threadloom.checkpoint.memory``,
``threadloom.store.memory`` and so on.
"""

__version__ = "0.1.0"
