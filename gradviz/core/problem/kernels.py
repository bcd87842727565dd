"""The covariance functions gradviz offers, each written once for every array library.

With d = a - b, r = |d|, S the signal variance, L the length scale (scikit-learn's and
GPflow's conventions)::

    rbf                 S exp(-d^2 / 2L^2)
    matern12            S exp(-r / L)
    matern32            S (1 + sqrt3 r / L) exp(-sqrt3 r / L)
    matern52            S (1 + sqrt5 r / L + 5 r^2 / 3L^2) exp(-sqrt5 r / L)
    rational-quadratic  S (1 + d^2 / (2 A L^2))^-A
    periodic            S exp(-2 sin^2(pi d / P) / L^2)

Each kernel is a small frozen class holding its parameters. Its value, its derivative in
the first argument (``slope``, for d mu/dx and d var/dx) and its derivatives in each
parameter (``parameter_slope``, for the log marginal likelihood's gradient) are written
once, against :class:`Elementwise` (exp, log, sin, cos, abs, sign, power of one array
library) and constants derived from the parameters by a :class:`ScalarMath` (float64 for
numpy and TensorFlow, exact balls for the reference). :class:`Form` binds a kernel to one
library: numpy here, TensorFlow in ``gradviz.core.numerics.paths``, python-flint balls in
``gradviz.core.numerics.reference``.

The rbf value keeps the seed's order of operations ``exp(-(d ** 2) / (2 l^2))`` with
``2 l^2`` computed in float64 and S = 1 not multiplied at all, so the seed's paths stay
bit for bit the seed's program. Only matern12's slope has a kink: ``-sign(d) / L k`` jumps
at d = 0, so mu is not differentiable at a data point. TensorFlow's ``sign(0)`` and the
gradient of ``abs`` at 0 are 0 (the mean of the two one-sided slopes); the ball form
raises :class:`NotDifferentiableError` where d may be 0. (r is ``abs(d)``, not
``sqrt(d^2)``: TensorFlow's gradient of sqrt at 0 is NaN, which is why GPflow and
GPyTorch clamp r^2 to a tiny positive number.)
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol, get_args

import numpy as np

KernelName = Literal["rbf", "matern12", "matern32", "matern52", "rational-quadratic", "periodic"]
KERNELS: tuple[KernelName, ...] = get_args(KernelName)
Parameter = Literal["length_scale", "signal_variance", "alpha", "period"]
# Parameters only some kernels have, with the value they take when not given.
OPTIONAL_DEFAULTS: Mapping[Parameter, float] = {"alpha": 1.0, "period": 1.0}

Array = Any  # one library's elementwise values: numpy array, tf.Tensor or arb ball
Number = Any  # a constant in a ScalarMath: float, or arb


class NotDifferentiableError(ArithmeticError):
    """A kernel's slope was asked where it does not exist (matern12 at d = 0)."""


class Elementwise(Protocol):
    """The elementwise functions a kernel formula needs from one array library; the
    arithmetic operators are the library's own."""

    def exp(self, a: Array) -> Array: ...
    def log(self, a: Array) -> Array: ...
    def sin(self, a: Array) -> Array: ...
    def cos(self, a: Array) -> Array: ...
    def abs(self, a: Array) -> Array: ...
    def sign(self, a: Array) -> Array: ...
    def power(self, a: Array, b: Array) -> Array: ...
    def constant(self, value: Number) -> Array:
        """A constant of :meth:`Kernel.constants` in the form this library computes with."""
        ...


class ScalarMath(Protocol):
    """The arithmetic in which a kernel's constants are derived from its parameters."""

    def number(self, value: float) -> Number:
        """The exact value of a float64 (a parameter, or a small integer)."""
        ...

    def sqrt(self, value: Number) -> Number: ...
    def pi(self) -> Number: ...


class FloatMath:
    """float64 constants: what numpy and TensorFlow compute with (a float32 path rounds
    each one once, as the seed rounds its ``2 l^2``)."""

    def number(self, value: float) -> float:
        return float(value)

    def sqrt(self, value: float) -> float:
        return math.sqrt(value)

    def pi(self) -> float:
        return math.pi


class NumpyMath:
    """numpy float64, elementwise."""

    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    sin = staticmethod(np.sin)
    cos = staticmethod(np.cos)
    abs = staticmethod(np.abs)
    sign = staticmethod(np.sign)
    power = staticmethod(np.power)

    def constant(self, value: Number) -> Array:
        return value


@dataclass(frozen=True)
class Kernel(ABC):
    """A stationary kernel k(a, b) = k(d), d = a - b, with its parameters.

    Subclasses give :meth:`constants` (numbers derived from the parameters, once per
    library), :meth:`value`, :meth:`slope` (dk/da) and :meth:`parameter_slope`
    (dk/dtheta for theta other than S, which is ``k / S`` for every kernel). Each takes
    the value k already computed where it can reuse it. Shapes broadcast as the library's
    arithmetic does: d may be [m, n], k has its shape.
    """

    length_scale: float
    signal_variance: float = 1.0

    name: ClassVar[KernelName]
    label: ClassVar[str]  # the formula in one line, for help texts
    extra_parameters: ClassVar[tuple[Parameter, ...]] = ()

    @property
    def parameters(self) -> tuple[Parameter, ...]:
        """Every parameter this kernel has, in the order the editor shows them."""
        return ("length_scale", "signal_variance", *self.extra_parameters)

    def constants(self, s: ScalarMath) -> dict[str, Number]:
        """Numbers the formulas use, derived from the parameters in ``s``'s arithmetic."""
        length = s.number(self.length_scale)
        return {"l": length, "l2": length**2, "s": s.number(self.signal_variance)}

    def scaled(self, c: Mapping[str, Array], shape: Array) -> Array:
        """S times ``shape``; S = 1 is not multiplied (the seed multiplies by nothing)."""
        return shape if self.signal_variance == 1.0 else c["s"] * shape

    @abstractmethod
    def value(self, f: Elementwise, d: Array, c: Mapping[str, Array]) -> Array:
        """k(d)."""

    @abstractmethod
    def slope(self, f: Elementwise, d: Array, c: Mapping[str, Array], k: Array) -> Array:
        """dk/da at d = a - b, given k = k(d)."""

    @abstractmethod
    def length_slope(self, f: Elementwise, d: Array, c: Mapping[str, Array], k: Array) -> Array:
        """dk/dL, given k = k(d)."""

    def extra_slope(self, f: Elementwise, d: Array, c: Mapping[str, Array], k: Array) -> Array:
        """dk/dtheta for the kernel's one extra parameter (alpha, period), given k = k(d)."""
        raise KeyError(f"the {self.name} kernel has no parameter beyond L and S")

    def parameter_slope(
        self, f: Elementwise, d: Array, c: Mapping[str, Array], k: Array, parameter: Parameter
    ) -> Array:
        """dk/dtheta for one of :attr:`parameters`, given k = k(d)."""
        if parameter == "signal_variance":
            return k / c["s"]
        if parameter == "length_scale":
            return self.length_slope(f, d, c, k)
        if parameter in self.extra_parameters:
            return self.extra_slope(f, d, c, k)
        raise KeyError(f"the {self.name} kernel has no parameter {parameter}")


@dataclass(frozen=True)
class RBF(Kernel):
    name: ClassVar[KernelName] = "rbf"
    label: ClassVar[str] = "S exp(-r^2 / 2L^2)"

    def constants(self, s: ScalarMath) -> dict[str, Number]:
        c = super().constants(s)
        # The seed's numbers: 2 ** 2 and 2 * l**2 in the arithmetic of the parameters.
        return {**c, "two": s.number(2), "two_l2": 2 * c["l2"], "l3": c["l2"] * c["l"]}

    def value(self, f: Elementwise, d: Array, c: Mapping[str, Array]) -> Array:
        return self.scaled(c, f.exp(-(d ** c["two"]) / c["two_l2"]))

    def slope(self, f: Elementwise, d: Array, c: Mapping[str, Array], k: Array) -> Array:
        return -d / c["l2"] * k  # the seed's closed form, -(x - p) / l^2 k

    def length_slope(self, f: Elementwise, d: Array, c: Mapping[str, Array], k: Array) -> Array:
        return k * (d * d) / c["l3"]


@dataclass(frozen=True)
class Matern12(Kernel):
    name: ClassVar[KernelName] = "matern12"
    label: ClassVar[str] = "S exp(-r / L)"

    def value(self, f: Elementwise, d: Array, c: Mapping[str, Array]) -> Array:
        return self.scaled(c, f.exp(-f.abs(d) / c["l"]))

    def slope(self, f: Elementwise, d: Array, c: Mapping[str, Array], k: Array) -> Array:
        return -f.sign(d) / c["l"] * k  # jumps at d = 0: the kink

    def length_slope(self, f: Elementwise, d: Array, c: Mapping[str, Array], k: Array) -> Array:
        return k * f.abs(d) / c["l2"]


@dataclass(frozen=True)
class Matern32(Kernel):
    name: ClassVar[KernelName] = "matern32"
    label: ClassVar[str] = "S (1 + sqrt3 r/L) exp(-sqrt3 r/L)"

    def constants(self, s: ScalarMath) -> dict[str, Number]:
        c = super().constants(s)
        three = s.number(3)
        return {
            **c,
            "sqrt3_l": s.sqrt(three) / c["l"],
            "three_s_l2": three * c["s"] / c["l2"],
            "three_s_l3": three * c["s"] / (c["l2"] * c["l"]),
        }

    def value(self, f: Elementwise, d: Array, c: Mapping[str, Array]) -> Array:
        u = c["sqrt3_l"] * f.abs(d)
        return self.scaled(c, (1 + u) * f.exp(-u))

    def slope(self, f: Elementwise, d: Array, c: Mapping[str, Array], k: Array) -> Array:
        # -3 S d / L^2 exp(-u): smooth through d = 0, no sign needed.
        return -c["three_s_l2"] * d * f.exp(-c["sqrt3_l"] * f.abs(d))

    def length_slope(self, f: Elementwise, d: Array, c: Mapping[str, Array], k: Array) -> Array:
        return c["three_s_l3"] * (d * d) * f.exp(-c["sqrt3_l"] * f.abs(d))


@dataclass(frozen=True)
class Matern52(Kernel):
    name: ClassVar[KernelName] = "matern52"
    label: ClassVar[str] = "S (1 + sqrt5 r/L + 5r^2/3L^2) exp(-sqrt5 r/L)"

    def constants(self, s: ScalarMath) -> dict[str, Number]:
        c = super().constants(s)
        five, three = s.number(5), s.number(3)
        return {
            **c,
            "three": three,
            "sqrt5_l": s.sqrt(five) / c["l"],
            "five_s_3l2": five * c["s"] / (three * c["l2"]),
            "five_s_3l3": five * c["s"] / (three * c["l2"] * c["l"]),
        }

    def value(self, f: Elementwise, d: Array, c: Mapping[str, Array]) -> Array:
        u = c["sqrt5_l"] * f.abs(d)
        return self.scaled(c, (1 + u + u * u / c["three"]) * f.exp(-u))

    def slope(self, f: Elementwise, d: Array, c: Mapping[str, Array], k: Array) -> Array:
        u = c["sqrt5_l"] * f.abs(d)  # -5 S d / 3L^2 (1 + u) exp(-u): smooth through d = 0
        return -c["five_s_3l2"] * d * (1 + u) * f.exp(-u)

    def length_slope(self, f: Elementwise, d: Array, c: Mapping[str, Array], k: Array) -> Array:
        u = c["sqrt5_l"] * f.abs(d)
        return c["five_s_3l3"] * (d * d) * (1 + u) * f.exp(-u)


@dataclass(frozen=True)
class RationalQuadratic(Kernel):
    alpha: float = OPTIONAL_DEFAULTS["alpha"]

    name: ClassVar[KernelName] = "rational-quadratic"
    label: ClassVar[str] = "S (1 + r^2 / (2 A L^2))^-A"
    extra_parameters: ClassVar[tuple[Parameter, ...]] = ("alpha",)

    def constants(self, s: ScalarMath) -> dict[str, Number]:
        c = super().constants(s)
        alpha = s.number(self.alpha)
        return {
            **c,
            "minus_alpha": -alpha,
            "two_alpha_l2": 2 * alpha * c["l2"],
            "l3": c["l2"] * c["l"],
        }

    def _base(self, d: Array, c: Mapping[str, Array]) -> Array:
        return 1 + d * d / c["two_alpha_l2"]

    def value(self, f: Elementwise, d: Array, c: Mapping[str, Array]) -> Array:
        return self.scaled(c, f.power(self._base(d, c), c["minus_alpha"]))

    def slope(self, f: Elementwise, d: Array, c: Mapping[str, Array], k: Array) -> Array:
        return -d / c["l2"] * k / self._base(d, c)

    def length_slope(self, f: Elementwise, d: Array, c: Mapping[str, Array], k: Array) -> Array:
        return (d * d) / c["l3"] * k / self._base(d, c)

    def extra_slope(self, f: Elementwise, d: Array, c: Mapping[str, Array], k: Array) -> Array:
        """dk/dA = k (z / (1 + z) - log(1 + z)), z = r^2 / (2 A L^2)."""
        base = self._base(d, c)
        return k * ((base - 1) / base - f.log(base))


@dataclass(frozen=True)
class Periodic(Kernel):
    period: float = OPTIONAL_DEFAULTS["period"]

    name: ClassVar[KernelName] = "periodic"
    label: ClassVar[str] = "S exp(-2 sin^2(pi r / P) / L^2)"
    extra_parameters: ClassVar[tuple[Parameter, ...]] = ("period",)

    def constants(self, s: ScalarMath) -> dict[str, Number]:
        c = super().constants(s)
        period = s.number(self.period)
        return {
            **c,
            "pi_p": s.pi() / period,
            "two_l2": 2 / c["l2"],  # 2 / L^2
            "four_pi_pl2": 4 * s.pi() / (period * c["l2"]),
            "four_l3": 4 / (c["l2"] * c["l"]),
            "four_pl2": 4 / (period * c["l2"]),
        }

    def value(self, f: Elementwise, d: Array, c: Mapping[str, Array]) -> Array:
        # sin^2 is even: d itself, no |d| and so no kink.
        sine = f.sin(c["pi_p"] * d)
        return self.scaled(c, f.exp(-c["two_l2"] * (sine * sine)))

    def slope(self, f: Elementwise, d: Array, c: Mapping[str, Array], k: Array) -> Array:
        angle = c["pi_p"] * d
        return -c["four_pi_pl2"] * f.sin(angle) * f.cos(angle) * k

    def length_slope(self, f: Elementwise, d: Array, c: Mapping[str, Array], k: Array) -> Array:
        sine = f.sin(c["pi_p"] * d)
        return c["four_l3"] * (sine * sine) * k

    def extra_slope(self, f: Elementwise, d: Array, c: Mapping[str, Array], k: Array) -> Array:
        """dk/dP = 4 t sin(t) cos(t) / (P L^2) k, t = pi d / P."""
        angle = c["pi_p"] * d
        return c["four_pl2"] * angle * f.sin(angle) * f.cos(angle) * k


KERNEL_CLASSES: Mapping[KernelName, type[Kernel]] = {
    cls.name: cls for cls in (RBF, Matern12, Matern32, Matern52, RationalQuadratic, Periodic)
}
if tuple(KERNEL_CLASSES) != KERNELS:
    raise ImportError("every KernelName needs exactly one class, in KERNELS order")


def parameters_of(name: KernelName) -> tuple[Parameter, ...]:
    """The parameters the kernel called ``name`` has."""
    return ("length_scale", "signal_variance", *KERNEL_CLASSES[name].extra_parameters)


class Form:
    """A kernel bound to one array library: its constants made once, then k, dk/da and
    dk/dtheta of any d (``d = a - b``, any shape the library broadcasts)."""

    def __init__(self, kernel: Kernel, f: Elementwise, s: ScalarMath) -> None:
        self.kernel = kernel
        self.f = f
        self.c = {name: f.constant(v) for name, v in kernel.constants(s).items()}

    def value(self, d: Array) -> Array:
        return self.kernel.value(self.f, d, self.c)

    def slope(self, d: Array, k: Array) -> Array:
        """dk/da, given ``k = self.value(d)``."""
        return self.kernel.slope(self.f, d, self.c, k)

    def parameter_slope(self, d: Array, k: Array, parameter: Parameter) -> Array:
        """dk/dtheta, given ``k = self.value(d)``."""
        return self.kernel.parameter_slope(self.f, d, self.c, k, parameter)


def numpy_form(kernel: Kernel) -> Form:
    """The kernel in numpy float64."""
    return Form(kernel, NumpyMath(), FloatMath())


def kernel_matrix(kernel: Kernel, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """k(a_i, b_j) in numpy float64 (for rbf the seed's own operations). [len(a), len(b)]"""
    matrix: np.ndarray = numpy_form(kernel).value(a[:, None] - b[None, :])
    return matrix
