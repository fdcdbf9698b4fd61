"""Near-duplicate texts: normalisation, word shingles, MinHash and LSH bands (TRIAGE L2).

Pure functions over plain values. A text becomes a :class:`Print`:

- ``digest``: a 63-bit hash of the normalised text (equal texts after normalising
  case, Unicode NFKC, white space, digits and the recipient's own names);
- ``signature``: ``PERMUTATIONS`` MinHash values of its word 3-shingles, whose share
  of equal positions between two texts estimates their Jaccard similarity;
- ``bands``: ``BANDS`` keys, each a hash of ``ROWS`` consecutive signature values
  (locality-sensitive hashing): two texts with Jaccard similarity ``s`` share at
  least one band with probability ``1 - (1 - s**ROWS) ** BANDS``: 0.99 at 0.7, 0.64
  at 0.5 and 0.03 at 0.2. Stored in an indexed table, the bands turn "which earlier texts look
  like this one?" into an index look-up of ``BANDS`` keys; candidates are then
  checked with :func:`similarity` against ``THRESHOLD``.

The hash family is ``blake2b`` of the shingle (64 bits) mixed with one odd
multiplier and offset per permutation modulo 2**61 - 1, the textbook universal
family (Broder 1997, as in datasketch's ``MinHash``); fixed seeds keep prints
comparable across processes and releases.
"""

from __future__ import annotations

import hashlib
import random
import re
import struct
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

THRESHOLD = 0.7
PERMUTATIONS = 64  # the estimate's standard error: about 0.06 at 0.7
BANDS = 16
ROWS = PERMUTATIONS // BANDS
SHINGLE = 3
_PRIME = (1 << 61) - 1
_MASK63 = (1 << 63) - 1
_rng = random.Random(20261130)  # fixed: prints must compare across processes
_A = tuple(_rng.randrange(1, _PRIME) | 1 for _ in range(PERMUTATIONS))
_B = tuple(_rng.randrange(0, _PRIME) for _ in range(PERMUTATIONS))
_WORD = re.compile(r"\w+", re.UNICODE)
_DIGITS = re.compile(r"\d+")
NAME_TOKEN = "\u2063name"  # what a recipient's own name becomes  # noqa: S105


@dataclass(frozen=True)
class Print:
    digest: int
    signature: tuple[int, ...]
    bands: tuple[int, ...]


def normalise(text: str, names: Iterable[str] = ()) -> list[str]:
    """The words of ``text`` after normalising, as compared (TRIAGE L2).

    NFKC, case folded, runs of digits as ``0``, and every word of ``names`` (the
    recipient's display name and username) as one token, so "Hi Anna" and "Hi Bob"
    are equal. White space and punctuation fall away with the split into words.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    words = _WORD.findall(_DIGITS.sub("0", folded))
    own = {
        w
        for name in names
        for w in _WORD.findall(_DIGITS.sub("0", unicodedata.normalize("NFKC", name).casefold()))
        if len(w) > 1
    }
    return [NAME_TOKEN if w in own else w for w in words]


def _hash64(data: str) -> int:
    return int.from_bytes(hashlib.blake2b(data.encode(), digest_size=8).digest(), "little")


def shingles(words: list[str]) -> set[str]:
    """Word 3-grams; a text of fewer words is one shingle of all of them."""
    if len(words) < SHINGLE:
        return {" ".join(words)}
    return {" ".join(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


def fingerprint(text: str, names: Iterable[str] = ()) -> Print:
    """The print of ``text`` as sent to a member called ``names``."""
    words = normalise(text, names)
    digest = _hash64(" ".join(words)) & _MASK63
    hashes = [_hash64(s) for s in shingles(words)]
    signature = tuple(
        min([(a * h + b) % _PRIME for h in hashes]) for a, b in zip(_A, _B, strict=True)
    )
    bands = tuple(
        _hash64(f"{band}:" + ",".join(map(str, signature[band * ROWS : (band + 1) * ROWS])))
        & _MASK63
        for band in range(BANDS)
    )
    return Print(digest=digest, signature=signature, bands=bands)


def similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """The Jaccard similarity of two texts, estimated from their signatures."""
    return sum(x == y for x, y in zip(a, b, strict=True)) / PERMUTATIONS


def similar(a: Print, b_digest: int, b_signature: tuple[int, ...]) -> bool:
    """Whether two prints are of similar texts: equal once normalised, or near-equal."""
    return a.digest == b_digest or similarity(a.signature, b_signature) >= THRESHOLD


def pack(signature: tuple[int, ...]) -> bytes:
    """A signature as stored (8 bytes a value)."""
    return struct.pack(f"<{PERMUTATIONS}Q", *signature)


def unpack(data: bytes | memoryview) -> tuple[int, ...]:
    return struct.unpack(f"<{PERMUTATIONS}Q", bytes(data))
