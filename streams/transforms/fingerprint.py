"""Every hash Headwater keeps, each with one name and one job. Pure functions.

- :func:`document_fingerprint`: a document's rendered content and chunking settings; an equal one
  in the ledger means the document is indexed as it is, and nothing is written.
- :func:`chunk_fingerprint`: one chunk as stored (text, place, titles, readers, model); an equal one
  in the ledger means that chunk is neither embedded nor written again.
- :func:`dedup_key`: the exact-duplicate key of a text (case, spacing and punctuation do not count);
  stored as the chunk's ``content_hash`` and looked up by the dedup step.
- :func:`lsh_bands`: MinHash LSH band keys of a text, stored and looked up for near duplicates.

Dedup keys and bands are stored on every chunk in Weaviate and looked up there, so dedup state is
persistent and shared by every worker.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable

import numpy as np

from schemas.chunk import ChunkRecord

WORDS = re.compile(r"\w+", re.UNICODE)


def normalize(text: str) -> str:
    return " ".join(WORDS.findall(text.lower()))


def dedup_key(text: str) -> str:
    """Exact-duplicate key: equal for texts that differ only in case, spacing and punctuation."""
    return hashlib.sha256(normalize(text).encode()).hexdigest()


def shingles(text: str, k: int = 5) -> set[bytes]:
    norm = normalize(text)
    if len(norm) <= k:
        return {norm.encode()}
    return {norm[i:i + k].encode() for i in range(len(norm) - k + 1)}


def jaccard(a: str, b: str, k: int = 5) -> float:
    sa, sb = shingles(a, k), shingles(b, k)
    return len(sa & sb) / len(sa | sb) if sa or sb else 1.0


def lsh_bands(text: str, bands: int = 16, rows: int = 4, k: int = 5) -> list[str]:
    """MinHash of the text's character shingles, cut into LSH band keys.

    Two texts share at least one band key with probability 1 - (1 - J^rows)^bands,
    about 0.99 at Jaccard 0.7 and 0.05 at 0.3 with the defaults. The keys are stored, so
    their scheme is fixed: datasketch 2's ``affine32`` MinHash, seed 1, computed here with the same
    arithmetic (a test holds it to datasketch's) at under half its cost, most of which was a
    Python call per shingle to unpack its hash.
    """
    hv = _minhash(list(shingles(text, k)), bands * rows)
    return [f"{b}:{hashlib.blake2b(hv[b * rows:(b + 1) * rows].tobytes(), digest_size=8).hexdigest()}"
            for b in range(bands)]


def _minhash(values: list[bytes], num_perm: int) -> np.ndarray:
    """Per permutation, the least ``a * fmix32(sha1_32(v)) + b mod 2**32`` over ``values`` (not empty)."""
    sha1 = hashlib.sha1
    hv = np.frombuffer(b"".join([sha1(v).digest()[:4] for v in values]), dtype="<u4").astype(np.uint32)
    hv ^= hv >> np.uint32(16)  # MurmurHash3's 32-bit finalizer, as datasketch pre-mixes
    hv *= np.uint32(0x85EBCA6B)
    hv ^= hv >> np.uint32(13)
    hv *= np.uint32(0xC2B2AE35)
    hv ^= hv >> np.uint32(16)
    a, b = _permutations(num_perm)
    return np.asarray((hv[:, None] * a + b).min(axis=0), dtype=np.uint32)  # uint32 arithmetic wraps: mod 2**32


@functools.cache
def _permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 parameters for seed 1: odd multipliers ``a`` and offsets ``b``."""
    gen = np.random.RandomState(1)  # the legacy generator: its stream is fixed across numpy versions
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


# Part of every document fingerprint: bump it when chunking or enrichment changes what is stored,
# so that documents indexed before are chunked and written again.
LOGIC_VERSION = "2"


def document_fingerprint(title: str, uri: str, text: str, readers: Iterable[str], max_tokens: int,
                         overlap_tokens: int) -> str:
    """A document as it would be chunked: rendered content, readers and chunking settings.

    Readers count: an ACL change rewrites the document's chunks at once.
    """
    parts = (LOGIC_VERSION, str(max_tokens), str(overlap_tokens), title, uri, text, *sorted(set(readers)))
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def chunk_fingerprint(rec: ChunkRecord, model_id: str) -> str:
    """What decides whether a stored chunk is still right: its text, place and titles, and the model.

    The event id, version and Kafka position are left out on purpose: an unchanged chunk keeps
    citing the event its text came from, and is neither embedded nor written again.
    """
    p = rec.properties
    parts = (model_id, rec.text, p["title"], p["uri"], p["section"], str(p["char_start"]), str(p["char_end"]),
             *p["readers"])  # an ACL change must reach the stored chunk as fast as a text change
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]
