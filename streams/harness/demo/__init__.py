"""``headwater demo``: the live demo (:mod:`.live`) and what it streams (:mod:`.stream`)."""
