"""``headwater bench --peers``: one job through Headwater and other systems, side by side.

Not in the wheel (``pyproject.toml`` excludes this package): it runs from a source checkout with
``pip install -e ".[bench]"``. :mod:`.run` needs only the default install and skips the peers whose
packages are missing; :mod:`.llamaindex` and :mod:`.quix` import their libraries at the top and are
imported only when those are installed.
"""
