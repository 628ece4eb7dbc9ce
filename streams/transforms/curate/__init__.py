"""Curate: what is not worth indexing stays out, and personal data never gets in. Four steps, in order.

1. **redact** (:mod:`.redact`, before chunking): personal data is replaced in the rendered text,
   title and fields, so no chunk, vector, fingerprint or dead letter ever holds it. It runs first
   because every later step reads the text.
2. **judge** (:mod:`.judge`, after enrich): trivial, blocked or toxic records are dropped with a
   reason. It needs the detected language, which enrich adds.
3. **dedup, exact and near** (:mod:`.dedup`, in the indexer's decision): a record whose dedup key or
   MinHash bands match an indexed object of another entity is dropped, unless it states another
   fact (:mod:`.facts`). It needs the index, so the indexer looks the candidates up and passes them in.
4. **dedup, semantic** (:func:`.dedup.semantic_duplicates`, after embedding): a record whose nearest
   indexed neighbour (another entity) is at least as similar as the threshold is dropped. It needs
   vectors, so it comes last.

:mod:`.policy` holds one worker's configuration of these steps. Every step is pure; lookups come in
as arguments.
"""
