"""``python -m streams``: the same command line as ``headwater`` (the harness starts workers this way).

Importing :mod:`streams.cli` runs its ``quiet()`` first, so this entry point is as quiet as the other.
"""

from streams.cli import main

main()
