"""``headwater chaos``: a seeded stream under faults (:mod:`.run`), each fault timed and checked (:mod:`.faults`)."""
