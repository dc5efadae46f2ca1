"""``threadloom.stream``: the run streams of ``stream_events(..., version="v3")`` and the stream
transformers that project a run's events (LangGraph 1.2's ``langgraph.stream``).

```python
run = graph.stream_events(inputs, config, version="v3")
for state in run.values:      # reading moves the run on; no thread in the background
    ...
final = run.output
```

Extra projections come from transformers: ``compile(transformers=[UpdatesTransformer])`` or
``stream_events(..., version="v3", transformers=[...])``; ``run.extensions`` holds them all.
"""

from threadloom.stream._types import (
    LifecyclePayload,
    ProtocolEvent,
    StreamTransformer,
    SubgraphStatus,
)
from threadloom.stream.channel import StreamChannel
from threadloom.stream.run_stream import (
    AsyncGraphRunStream,
    AsyncSubgraphRunStream,
    GraphRunStream,
    SubgraphRunStream,
)
from threadloom.stream.transformers import (
    CheckpointsTransformer,
    CustomTransformer,
    DebugTransformer,
    LifecycleTransformer,
    MessagesTransformer,
    SubgraphTransformer,
    TasksTransformer,
    UpdatesTransformer,
    ValuesTransformer,
)

__all__ = [
    "AsyncGraphRunStream",
    "AsyncSubgraphRunStream",
    "CheckpointsTransformer",
    "CustomTransformer",
    "DebugTransformer",
    "GraphRunStream",
    "LifecyclePayload",
    "LifecycleTransformer",
    "MessagesTransformer",
    "ProtocolEvent",
    "StreamChannel",
    "StreamTransformer",
    "SubgraphRunStream",
    "SubgraphStatus",
    "SubgraphTransformer",
    "TasksTransformer",
    "UpdatesTransformer",
    "ValuesTransformer",
]
