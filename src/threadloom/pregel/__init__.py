"""LangGraph's low-level API (``langgraph.pregel``): ``Pregel`` over named channels, and
``NodeBuilder`` for its nodes.

``Pregel`` is the class every compiled graph is (``StateGraph.compile()`` and ``@entrypoint``
return one); built directly, it runs nodes that subscribe to channels and write to channels::

    from threadloom.channels import EphemeralValue
    from threadloom.pregel import NodeBuilder, Pregel

    node = NodeBuilder().subscribe_only("a").do(lambda x: x + x).write_to("b")
    app = Pregel(
        nodes={"node": node},
        channels={"a": EphemeralValue(str), "b": EphemeralValue(str)},
        input_channels=["a"],
        output_channels=["b"],
    )
    app.invoke({"a": "foo"})  # {'b': 'foofoo'}
"""

from threadloom.engine.pregel import Pregel
from threadloom.pregel._build import ChannelWriteEntry, NodeBuilder, PregelNode

__all__ = ["ChannelWriteEntry", "NodeBuilder", "Pregel", "PregelNode"]
