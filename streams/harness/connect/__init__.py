"""``headwater connect bench``: how fast each connector moves events into Kafka (:mod:`.bench`)."""
