"""The problem gradviz studies, validated at construction.

A :class:`Problem` is immutable and hashable, so it can key caches and travel
between threads as a request without copies. Every invalid field raises
:class:`ProblemError`, whose message names the field, the value and the
allowed range: that one sentence is what the CLI prints and the GUI shows
beside the field.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import re
from dataclasses import dataclass
from typing import Any, Literal, get_args

Solver = Literal["inverse", "solve", "cholesky"]
SOLVERS: tuple[Solver, ...] = get_args(Solver)
SOLVER_HELP: dict[Solver, str] = {
    "inverse": "explicit matrix inverse, as the seed does: (k(x) @ K^-1) @ y",
    "solve": "LU solve of K alpha = y, then k(x) @ alpha",
    "cholesky": "Cholesky factor L of K, then cholesky_solve for alpha",
}

N_RANGE = (2, 5000)
SEED_RANGE = (0, 2**32 - 1)
COORDINATE_LIMIT = 1e6
# 2 l^2 must stay a normal, finite number in float32 as well as float64.
LENGTH_SCALE_RANGE = (1e-6, 1e6)

DEFAULT_X = 2.0
MAX_SHOWN = 60  # characters of a rejected value quoted in a message
_INTEGER = re.compile(r"[+-]?[0-9]+")
_REAL = re.compile(
    r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?(inf|infinity|nan)", re.IGNORECASE
)


class ProblemError(ValueError):
    """An input value outside its allowed range; the message names all three."""

    def __init__(self, field: str, value: object, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        shown = repr(value)
        if len(shown) > MAX_SHOWN:  # a pasted megabyte must not become the message
            shown = shown[: MAX_SHOWN - 3] + "..."
        super().__init__(f"{field}: {shown} is not allowed; {field} must be {allowed}")


def _integer(field: str, value: object, lo: int, hi: int) -> int:
    allowed = f"an integer from {lo} to {hi}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ProblemError(field, value, allowed)
    if not lo <= int(value) <= hi:
        raise ProblemError(field, value, allowed)
    return int(value)


def _real(field: str, value: object, allowed: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ProblemError(field, value, allowed)
    try:
        number = float(value)
    except OverflowError:  # an int beyond the float range
        raise ProblemError(field, value, allowed) from None
    if not math.isfinite(number):
        raise ProblemError(field, value, allowed)
    return number


def check_coordinate(field: str, value: object) -> float:
    """A finite real number with magnitude at most 1e6 (grid ends, probe x)."""
    allowed = f"a finite number with |{field}| <= {COORDINATE_LIMIT:g}"
    number = _real(field, value, allowed)
    if abs(number) > COORDINATE_LIMIT:
        raise ProblemError(field, value, allowed)
    return number


def _domain(value: object) -> tuple[float, float]:
    allowed = f"two finite numbers lo < hi with |lo|, |hi| <= {COORDINATE_LIMIT:g}"
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ProblemError("domain", value, allowed)
    lo, hi = (check_coordinate("domain", v) for v in value)
    if not lo < hi:
        raise ProblemError("domain", tuple(value), allowed)
    return lo, hi


@dataclass(frozen=True)
class Problem:
    """Posterior mean of a GP sample, ``mu(x) = k(x)^T (K + jitter I)^-1 y``.

    The defaults are Stack Overflow 51006474's: 300 grid points on [-5, 5],
    RBF length scale 1.5, numpy seed 100, prior mean 1, no jitter, and an
    explicit matrix inverse.
    """

    n: int = 300
    domain: tuple[float, float] = (-5.0, 5.0)
    length_scale: float = 1.5
    seed: int = 100
    mean: float = 1.0
    jitter: float = 0.0
    solver: Solver = "inverse"

    def __post_init__(self) -> None:
        lo_l, hi_l = LENGTH_SCALE_RANGE
        length_scale = _real(
            "length_scale", self.length_scale, f"a finite number from {lo_l:g} to {hi_l:g}"
        )
        if not lo_l <= length_scale <= hi_l:
            raise ProblemError(
                "length_scale", self.length_scale, f"a finite number from {lo_l:g} to {hi_l:g}"
            )
        jitter = _real("jitter", self.jitter, "a finite number >= 0")
        if jitter < 0:
            raise ProblemError("jitter", self.jitter, "a finite number >= 0")
        if self.solver not in SOLVERS:
            raise ProblemError("solver", self.solver, "one of " + ", ".join(SOLVERS))
        fields = {
            "n": _integer("n", self.n, *N_RANGE),
            "domain": _domain(self.domain),
            "length_scale": length_scale,
            "seed": _integer("seed", self.seed, *SEED_RANGE),
            "mean": _real("mean", self.mean, "a finite number"),
            "jitter": jitter,
        }
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    def replace(self, **changes: Any) -> Problem:
        """A validated copy with ``changes`` applied; raises ProblemError."""
        return dataclasses.replace(self, **changes)

    def summary(self) -> str:
        """Short human label, e.g. ``n=300, l=1.5, jitter 0, inverse``."""
        lo, hi = self.domain
        parts = [f"n={self.n}", f"l={self.length_scale:g}", f"jitter {self.jitter:g}", self.solver]
        if (lo, hi) != (-5.0, 5.0):
            parts.insert(1, f"[{lo:g}, {hi:g}]")
        return ", ".join(parts)

    def description(self) -> str:
        """Every field, for a copied table or a bug report: ``n = 300, domain = [-5.0, 5.0],
        length_scale = 1.5, seed = 100, mean = 1.0, jitter = 0.0, solver = inverse``."""
        return ", ".join(f"{key} = {value}" for key, value in self.to_dict().items())

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready mapping of the fields (domain as a list)."""
        return {
            "n": self.n,
            "domain": list(self.domain),
            "length_scale": self.length_scale,
            "seed": self.seed,
            "mean": self.mean,
            "jitter": self.jitter,
            "solver": self.solver,
        }


def check_x(value: object) -> float:
    """Validate a probe position. The GP is defined everywhere, so any finite
    x with |x| <= 1e6 is accepted, inside the domain or not."""
    return check_coordinate("x", value)


def parse_number(text: str) -> int | float | str:
    """Read a typed value: an int when it looks like one, else a float, else the text.

    Only ASCII is a number: digits 0-9, an optional sign, one ".", an exponent
    ("1e-6"), or inf/nan; fullwidth or other scripts' digits, "1_000" and "0x10"
    stay text. The CLI and the editor both use it; conversion never fails, so
    validation (which names the field and the range) gets a number wherever one was
    typed.
    """
    stripped = text.strip()
    try:
        if _INTEGER.fullmatch(stripped):
            return int(stripped)
        if _REAL.fullmatch(stripped):
            return float(stripped)
    except ValueError:  # an int of more digits than Python converts
        pass
    return stripped
