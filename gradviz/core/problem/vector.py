"""An immutable float64 vector that compares and hashes by a digest of its content.

A :class:`~gradviz.core.problem.spec.Problem` keys caches on every probe and travels to
the compute processes with every request; with data from a file it holds up to 5000 x and
y. Hashing or comparing 10,000 floats per lookup would cost more than the lookup, so a
vector is its bytes (immutable, pickled as one block) plus their SHA-256, computed once:
equality and hash use the digest only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

DTYPE = np.dtype("<f8")  # little-endian float64, whatever the machine


@dataclass(frozen=True)
class Vector:
    """float64 values; ``array`` is a read-only view, ``digest`` their SHA-256 in hex."""

    raw: bytes = field(compare=False, repr=False)
    digest: str = field(init=False)

    def __post_init__(self) -> None:
        if len(self.raw) % DTYPE.itemsize:
            raise ValueError(f"{len(self.raw)} bytes are not a whole number of float64")
        object.__setattr__(self, "digest", hashlib.sha256(self.raw).hexdigest())

    @classmethod
    def of(cls, values: object) -> Vector:
        """The vector of any 1-d sequence of numbers, as float64."""
        array = np.asarray(values, dtype=np.float64)
        if array.ndim != 1:
            raise ValueError(f"expected a 1-d sequence of numbers, got shape {array.shape}")
        return cls(array.astype(DTYPE).tobytes())

    @property
    def array(self) -> np.ndarray:
        """The values as a read-only float64 array (no copy). [n]"""
        return np.frombuffer(self.raw, dtype=DTYPE)

    def __len__(self) -> int:
        return len(self.raw) // DTYPE.itemsize

    def hex(self) -> list[str]:
        """Every value as ``float.hex()``: exact on any machine and in any language."""
        return [value.hex() for value in self.array.tolist()]
