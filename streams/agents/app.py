"""Module-level app for the usual faust way: ``faust -A streams.agents.app worker -l info``.

Reads settings when imported; ``headwater worker`` is the preferred entry point.
"""

from streams.agents.worker import create_app
from streams.settings import Settings

app = create_app(Settings())
