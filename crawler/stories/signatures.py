"""MinHash signatures of 5-word shingles (datasketch) and their LSH band keys, for near-duplicates."""

from __future__ import annotations

import functools
import hashlib
import struct

import numpy as np


NUM_PERM = 64
BANDS = 32
ROWS = 2
SHINGLE = 5


@functools.cache
def _scheme():
    """datasketch's MinHash class and the one seeded permutation scheme every signature shares. Imported when
    first needed: datasketch imports scipy (0.4 s), which a crawl worker (it clusters no stories) never needs."""
    from datasketch import MinHash

    proto = MinHash(num_perm=NUM_PERM, seed=1)
    return MinHash, proto.permutations, proto.scheme


def minhash(tokens) -> tuple[np.ndarray, int]:
    """(uint32[NUM_PERM] signature, number of distinct shingles) of SHINGLE-word shingles."""
    if len(tokens) < SHINGLE:
        sh = {" ".join(tokens)} if tokens else set()
    else:
        sh = {" ".join(tokens[i:i + SHINGLE]) for i in range(len(tokens) - SHINGLE + 1)}
    minhash_class, permutations, scheme = _scheme()
    m = minhash_class(num_perm=NUM_PERM, permutations=permutations, scheme=scheme)
    if sh:
        m.update_batch([s.encode("utf-8") for s in sh])
    return m.hashvalues.astype(np.uint32), len(sh)


def band_keys(sig: np.ndarray) -> list[int]:
    """BANDS signed 64-bit keys (DuckDB BIGINT) of a signature."""
    raw = np.ascontiguousarray(sig, dtype=np.uint32).tobytes()
    w = ROWS * 4
    out = []
    for b in range(BANDS):
        d = hashlib.blake2b(raw[b * w:(b + 1) * w], digest_size=8, person=b"band%04d" % b).digest()
        out.append(struct.unpack("<q", d)[0])
    return out
