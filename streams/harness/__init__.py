"""What drives a worker from outside, in folders by role.

- ``bench/``: ``headwater bench`` and its measurements (``bench/peers/``, Headwater against other
  systems, is not in the wheel: it needs ``pip install -e ".[bench]"`` in a source checkout);
- ``connect/``: ``headwater connect bench``, how fast each connector moves events into Kafka;
- ``demo/``: ``headwater demo``, the live demo;
- ``chaos/``: ``headwater chaos``, a stream under faults checked against the oracle;
- ``oracle/``: the independent expected index, shared by chaos and the tests.

Shared by every role: :mod:`.worker_process` (a worker as a child process) and :mod:`.serving`
(an ASGI app under a real uvicorn server).
"""
