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

import numpy as np

from gradviz.core.problem.kernels import (
    KERNEL_CLASSES,
    KERNELS,
    OPTIONAL_DEFAULTS,
    Kernel,
    KernelName,
    Parameter,
    parameters_of,
)
from gradviz.core.problem.quantity import (
    QUANTITIES,
    QUANTITY,
    Quantity,
    QuantityName,
    quantities_of,
    theta_range,
)
from gradviz.core.problem.vector import Vector

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
# 2 l^2 must stay a normal, finite number in float32 as well as float64; the same holds
# for every kernel parameter (S, alpha, period).
LENGTH_SCALE_RANGE = (1e-6, 1e6)
PARAMETER_RANGE = LENGTH_SCALE_RANGE
# Fields that describe the generated grid problem; with data from a file they do not apply.
GRID_FIELDS = ("n", "domain", "seed", "mean")
# Fields the drawn sample depends on: changing one draws a new y (a pinned y is dropped).
SAMPLE_FIELDS = (*GRID_FIELDS, "kernel", "length_scale", "signal_variance", "alpha", "period")

DEFAULT_X = 2.0
# Where an LML quantity's probe may stand on its theta axis (log scale, so above 0).
THETA_LIMITS: dict[str, tuple[float, float]] = {"jitter": (0.0, COORDINATE_LIMIT)}
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


def _parameter(field: str, value: object) -> float:
    """A kernel parameter: a finite number in PARAMETER_RANGE."""
    lo, hi = PARAMETER_RANGE
    allowed = f"a finite number from {lo:g} to {hi:g}"
    number = _real(field, value, allowed)
    if not lo <= number <= hi:
        raise ProblemError(field, value, allowed)
    return number


def _optional_parameter(kernel: KernelName, field: Parameter, value: object) -> float | None:
    """alpha or period: required (with its default) where the kernel has it, else unset."""
    if field in parameters_of(kernel):
        return OPTIONAL_DEFAULTS[field] if value is None else _parameter(field, value)
    if value is not None:
        owners = [name for name in KERNELS if field in parameters_of(name)]
        raise ProblemError(
            field,
            value,
            f"left unset: the {kernel} kernel has no {field} (only {', '.join(owners)})",
        )
    return None


def _check_quantity(kernel: KernelName, quantity: object, jitter: float) -> None:
    """A quantity the kernel has; lml-jitter's probe starts at the jitter, on a log axis."""
    if quantity not in QUANTITIES:
        raise ProblemError("quantity", quantity, "one of " + ", ".join(QUANTITIES))
    available = quantities_of(parameters_of(kernel))
    if quantity not in available:
        raise ProblemError(
            "quantity", quantity, f"one the {kernel} kernel has: " + ", ".join(available)
        )
    lo, hi = THETA_LIMITS["jitter"]
    if quantity == "lml-jitter" and not lo < jitter <= hi:
        raise ProblemError(
            "quantity",
            quantity,
            f"used with a jitter {lo:g} < jitter <= {hi:g} (its probe moves along log "
            f"jitter from the problem's jitter, {jitter:g} here)",
        )


def _vector(field: str, value: object) -> Vector:
    allowed = "a vector of finite float64 values"
    if not isinstance(value, Vector) or not np.all(np.isfinite(value.array)):
        raise ProblemError(field, value, allowed)
    return value


def _data_fields(points: Vector, y: Vector) -> dict[str, object]:
    """n and domain of data read from a file; seed and mean do not apply (their defaults)."""
    lo_n, hi_n = N_RANGE
    if not lo_n <= len(points) <= hi_n:
        raise ProblemError("points", f"{len(points)} points", f"from {lo_n} to {hi_n} points")
    if len(y) != len(points):
        raise ProblemError("y", f"{len(y)} values", f"{len(points)} values, one per point")
    lo, hi = float(points.array.min()), float(points.array.max())
    limit = f"within |x| <= {COORDINATE_LIMIT:g}, not all equal"
    if not -COORDINATE_LIMIT <= lo < hi <= COORDINATE_LIMIT:
        raise ProblemError("points", f"x from {lo:g} to {hi:g}", limit)
    defaults = Problem.__dataclass_fields__
    return {"n": len(points), "domain": (lo, hi)} | {
        name: defaults[name].default for name in ("seed", "mean")
    }


@dataclass(frozen=True)
class Problem:
    """Posterior mean of a GP, ``mu(x) = k(x)^T (K + jitter I)^-1 y``.

    The defaults are Stack Overflow 51006474's: 300 grid points on [-5, 5],
    RBF length scale 1.5, numpy seed 100, prior mean 1, no jitter, and an
    explicit matrix inverse. ``kernel`` and its parameters choose k
    (:mod:`gradviz.core.problem.kernels`); ``alpha`` (rational-quadratic) and
    ``period`` (periodic) are None for the kernels that do not have them.

    Where the data comes from: with ``points`` (and ``y``) the data was read from a file,
    and n and domain follow from it (seed and mean do not apply); otherwise the points are
    the grid ``linspace(*domain, n)`` and y is the sample drawn from the seed, or ``y``
    when given (the sample a session saved, so it is the same on any machine).
    """

    n: int = 300
    domain: tuple[float, float] = (-5.0, 5.0)
    length_scale: float = 1.5
    seed: int = 100
    mean: float = 1.0
    jitter: float = 0.0
    solver: Solver = "inverse"
    kernel: KernelName = "rbf"
    signal_variance: float = 1.0
    alpha: float | None = None
    period: float | None = None
    points: Vector | None = None
    y: Vector | None = None
    quantity: QuantityName = "mean-slope"

    def __post_init__(self) -> None:
        if self.kernel not in KERNELS:
            raise ProblemError("kernel", self.kernel, "one of " + ", ".join(KERNELS))
        jitter = _real("jitter", self.jitter, "a finite number >= 0")
        if jitter < 0:
            raise ProblemError("jitter", self.jitter, "a finite number >= 0")
        _check_quantity(self.kernel, self.quantity, jitter)
        if self.solver not in SOLVERS:
            raise ProblemError("solver", self.solver, "one of " + ", ".join(SOLVERS))
        fields: dict[str, object] = {
            "n": _integer("n", self.n, *N_RANGE),
            "domain": _domain(self.domain),
            "length_scale": _parameter("length_scale", self.length_scale),
            "seed": _integer("seed", self.seed, *SEED_RANGE),
            "mean": _real("mean", self.mean, "a finite number"),
            "jitter": jitter,
            "signal_variance": _parameter("signal_variance", self.signal_variance),
            "alpha": _optional_parameter(self.kernel, "alpha", self.alpha),
            "period": _optional_parameter(self.kernel, "period", self.period),
        }
        if self.points is not None:
            if self.y is None:
                raise ProblemError("y", None, "the data's y, one value per point")
            fields |= _data_fields(_vector("points", self.points), _vector("y", self.y))
        elif self.y is not None and len(_vector("y", self.y)) != fields["n"]:
            raise ProblemError("y", f"{len(self.y)} values", f"{fields['n']} values, one per n")
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    @property
    def covariance(self) -> Kernel:
        """The kernel with this problem's parameters."""
        extra = {name: getattr(self, name) for name in parameters_of(self.kernel)}
        return KERNEL_CLASSES[self.kernel](**extra)

    @property
    def from_file(self) -> bool:
        """The points and y were read from a data file (not the grid and its sample)."""
        return self.points is not None

    @property
    def measured(self) -> Quantity:
        """The quantity this problem differentiates (its name is ``quantity``)."""
        return QUANTITY[self.quantity]

    @property
    def theta(self) -> float | None:
        """The problem's own value of an LML quantity's theta (None for a slope in x)."""
        name = self.measured.theta
        return None if name is None else float(getattr(self, name))

    @property
    def default_x(self) -> float:
        """Where the probe starts: for an LML quantity the problem's own theta; else the
        seed's x, or the middle of the data's range."""
        if self.theta is not None:
            return self.theta
        lo, hi = self.domain
        return (lo + hi) / 2 if self.from_file else DEFAULT_X

    @property
    def probe_domain(self) -> tuple[float, float]:
        """Where the probe moves and the curves are drawn: the domain (the data's range),
        or for an LML quantity THETA_DECADES either side of its theta, within its limits."""
        if self.theta is None:
            return self.domain
        lo, hi = theta_range(self.theta)
        limit_lo, limit_hi = _theta_limits(self.measured)
        return max(lo, limit_lo), min(hi, limit_hi)

    def replace(self, **changes: Any) -> Problem:
        """A validated copy with ``changes`` applied; raises ProblemError.

        A new kernel drops the parameters it does not have and gives those it has their
        default (unless given). With data from a file, n, domain, seed and mean cannot
        change (unless ``points`` goes back to None). A changed field the drawn sample
        depends on drops a pinned ``y``: the grid problem's y is its sample.
        """
        kernel = changes.get("kernel", self.kernel)
        if kernel != self.kernel and kernel in KERNELS:
            for name in OPTIONAL_DEFAULTS:
                if name not in changes and name not in parameters_of(kernel):
                    changes[name] = None
        changed = {name for name in changes if changes[name] != getattr(self, name)}
        clash = sorted(changed.intersection(GRID_FIELDS))
        if self.from_file and "points" not in changes and clash:
            raise ProblemError(
                clash[0],
                changes[clash[0]],
                "left as it is: the points come from a data file "
                "(n, domain, seed and mean describe the generated grid)",
            )
        pinned = not self.from_file and self.y is not None and "y" not in changes
        if pinned and changed.intersection(SAMPLE_FIELDS):
            changes["y"] = None
        return dataclasses.replace(self, **changes)

    def summary(self) -> str:
        """Short human label, e.g. ``n=300, l=1.5, jitter 0, inverse``."""
        lo, hi = self.domain
        kernel = [] if self.kernel == "rbf" else [self.kernel]
        parameters = [f"l={self.length_scale:g}"]
        if self.signal_variance != 1.0:
            parameters.append(f"S={self.signal_variance:g}")
        for name, short in (("alpha", "A"), ("period", "P")):
            if getattr(self, name) is not None:
                parameters.append(f"{short}={getattr(self, name):g}")
        size = f"{self.n} data points" if self.from_file else f"n={self.n}"
        parts = [size, *kernel, *parameters, f"jitter {self.jitter:g}", self.solver]
        if self.quantity != "mean-slope":
            parts.append(self.quantity)
        if (lo, hi) != (-5.0, 5.0) and not self.from_file:
            parts.insert(1, f"[{lo:g}, {hi:g}]")
        return ", ".join(parts)

    def description(self) -> str:
        """Every field, for a copied table or a bug report: ``n = 300, domain = [-5.0, 5.0],
        length_scale = 1.5, seed = 100, mean = 1.0, jitter = 0.0, solver = inverse, ...``."""
        items = [(key, value) for key, value in self.config().items() if value is not None]
        return ", ".join(f"{key} = {value}" for key, value in items)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready mapping of the scalar fields (domain as a list; alpha and period
        None where the kernel lacks them); ``Problem(**d)`` is this problem without its data."""
        return {
            "n": self.n,
            "domain": list(self.domain),
            "length_scale": self.length_scale,
            "seed": self.seed,
            "mean": self.mean,
            "jitter": self.jitter,
            "solver": self.solver,
            "kernel": self.kernel,
            "signal_variance": self.signal_variance,
            "alpha": self.alpha,
            "period": self.period,
            "quantity": self.quantity,
        }

    def data_summary(self) -> dict[str, Any] | None:
        """Where x and y come from, by digest: None for the grid and the sample drawn here;
        else the SHA-256 of the float64 x (None for the grid) and y."""
        if self.y is None:
            return None
        return {
            "points": self.n,
            "x_sha256": None if self.points is None else self.points.digest,
            "y_sha256": self.y.digest,
        }

    def config(self) -> dict[str, Any]:
        """:meth:`to_dict` and :meth:`data_summary` (key ``data``): the ``config`` of every
        JSON export."""
        return {**self.to_dict(), "data": self.data_summary()}


def _theta_limits(quantity: Quantity) -> tuple[float, float]:
    """The open-below, closed-above range of an LML quantity's theta."""
    if quantity.theta == "jitter":
        return THETA_LIMITS["jitter"]
    return PARAMETER_RANGE


def check_probe(problem: Problem, value: object) -> float:
    """Validate the probe on ``problem``'s quantity's axis: x for a slope in x (see
    :func:`check_x`), theta for an LML quantity (a positive number within the limits of
    its field: it is drawn on a log axis)."""
    quantity = problem.measured
    if quantity.theta is None:
        return check_x(value)
    lo, hi = _theta_limits(quantity)
    allowed = (
        f"the {quantity.name} probe, theta = {quantity.theta}: a number "
        f"{lo:g} {'<' if lo == 0 else '<='} x <= {hi:g}"
    )
    number = _real("x", value, allowed)
    if not (lo < number if lo == 0 else lo <= number) or number > hi:
        raise ProblemError("x", value, allowed)
    return number


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
