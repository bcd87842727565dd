"""A kernel's formula as TensorFlow source, rendered from its one definition.

``gradviz script`` writes standalone programs that must compute what gradviz computes, bit
for bit, without importing gradviz. Copying each kernel's formula into the program's
template would be a second definition to keep in step with
:mod:`gradviz.core.problem.kernels`. Instead the kernel's own :meth:`Kernel.value` is run
on :class:`Source` nodes: every operator and elementwise function it applies is recorded
in the order it applies them, with the constants named ``C["..."]``. The graph's shape
matters as much as the operations: a value the formula uses twice (matern's u = sqrt5 r/L)
is one TensorFlow node whose gradients are summed, and written out twice it would be two
nodes whose gradients are summed in another order, so other bits. Such values become
local variables of the rendered function, used once each; the rest is inlined.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gradviz.core.problem.kernels import FloatMath, Kernel

DISTANCE = "d"  # the name of the formula's argument in the program
CONSTANTS = "C"  # the name of the program's dict of the kernel's constants
SHARED = "u"  # the prefix of the names of values used more than once
TF_FUNCTIONS = {
    "exp": "tf.exp",
    "log": "tf.math.log",
    "sin": "tf.sin",
    "cos": "tf.cos",
    "abs": "tf.abs",
    "sign": "tf.sign",
    "power": "tf.pow",
}


@dataclass(frozen=True, eq=False)
class Source:
    """One node of the formula: a name or literal (``operator`` None), an operator applied
    to ``arguments`` (``"+"``, ``"neg"``...), or a TensorFlow call (``"tf.exp"``...).
    Nodes compare by identity: the same node used twice is one value."""

    text: str = ""
    operator: str | None = None
    arguments: tuple[Source, ...] = ()

    @staticmethod
    def of(value: Source | int | float) -> Source:
        if isinstance(value, Source):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return Source(repr(value))
        return Source(f'float.fromhex("{float(value).hex()}")')

    def _binary(self, symbol: str, other: Source | int | float, swapped: bool = False) -> Source:
        pair = (self.of(other), self) if swapped else (self, self.of(other))
        return Source(operator=symbol, arguments=pair)

    def __add__(self, other: Source | int | float) -> Source:
        return self._binary("+", other)

    def __radd__(self, other: Source | int | float) -> Source:
        return self._binary("+", other, swapped=True)

    def __sub__(self, other: Source | int | float) -> Source:
        return self._binary("-", other)

    def __rsub__(self, other: Source | int | float) -> Source:
        return self._binary("-", other, swapped=True)

    def __mul__(self, other: Source | int | float) -> Source:
        return self._binary("*", other)

    def __rmul__(self, other: Source | int | float) -> Source:
        return self._binary("*", other, swapped=True)

    def __truediv__(self, other: Source | int | float) -> Source:
        return self._binary("/", other)

    def __rtruediv__(self, other: Source | int | float) -> Source:
        return self._binary("/", other, swapped=True)

    def __pow__(self, other: Source | int | float) -> Source:
        return self._binary("**", other)

    def __neg__(self) -> Source:
        return Source(operator="neg", arguments=(self,))


class SourceMath:
    """The :class:`~gradviz.core.problem.kernels.Elementwise` functions as TensorFlow
    calls in source text."""

    @staticmethod
    def _call(name: str, *arguments: Source | int | float) -> Source:
        return Source(operator=TF_FUNCTIONS[name], arguments=tuple(map(Source.of, arguments)))

    def exp(self, a: Source) -> Source:
        return self._call("exp", a)

    def log(self, a: Source) -> Source:
        return self._call("log", a)

    def sin(self, a: Source) -> Source:
        return self._call("sin", a)

    def cos(self, a: Source) -> Source:
        return self._call("cos", a)

    def abs(self, a: Source) -> Source:
        return self._call("abs", a)

    def sign(self, a: Source) -> Source:
        return self._call("sign", a)

    def power(self, a: Source, b: Source) -> Source:
        return self._call("power", a, b)

    def constant(self, value: float) -> float:
        return value


def kernel_constants(kernel: Kernel) -> Mapping[str, float]:
    """The kernel's constants in float64, as gradviz's graph paths compute them."""
    return {name: float(value) for name, value in kernel.constants(FloatMath()).items()}


def _reference(name: str) -> str:
    return f'{CONSTANTS}["{name}"]'


class _Renderer:
    """Source text of a formula's nodes: shared ones as names assigned in the order the
    formula computed them, the others inlined where they are used."""

    def __init__(self, root: Source) -> None:
        self.uses: dict[int, int] = {}
        self._count(root)
        self.names: dict[int, str] = {}
        self.assignments: list[str] = []
        self.result = self.text(root, bare=True)

    def _count(self, node: Source) -> None:
        self.uses[id(node)] = self.uses.get(id(node), 0) + 1
        if self.uses[id(node)] == 1:
            for argument in node.arguments:
                self._count(argument)

    def text(self, node: Source, bare: bool = False) -> str:
        """The node as an operand (parenthesised unless atomic), or ``bare``."""
        if node.operator is None:
            return node.text
        if id(node) in self.names:
            return self.names[id(node)]
        rendered = self._expression(node)
        if self.uses[id(node)] > 1:
            name = f"{SHARED}{len(self.names) + 1}"
            self.names[id(node)] = name
            self.assignments.append(f"{name} = {rendered}")
            return name
        atomic = node.operator.startswith("tf.")
        return rendered if bare or atomic else f"({rendered})"

    def _expression(self, node: Source) -> str:
        operator = str(node.operator)
        if operator.startswith("tf."):
            return f"{operator}({', '.join(self.text(a, bare=True) for a in node.arguments)})"
        if operator == "neg":
            return f"-{self.text(node.arguments[0])}"
        left, right = (self.text(a) for a in node.arguments)
        return f"{left} {operator} {right}"


def kernel_value_source(kernel: Kernel) -> tuple[list[str], str]:
    """``k(d)`` as TensorFlow source of ``d`` and ``C``: the assignments of the values it
    uses more than once, then the expression of k."""
    names = {name: Source(_reference(name)) for name in kernel_constants(kernel)}
    renderer = _Renderer(kernel.value(SourceMath(), Source(DISTANCE), names))
    return renderer.assignments, renderer.result


def kernel_body_source(kernel: Kernel, indent: str = "    ") -> str:
    """The body of ``def kernel(d):``, indented."""
    assignments, result = kernel_value_source(kernel)
    return "\n".join(f"{indent}{line}" for line in [*assignments, f"return {result}"])


def constants_source(kernel: Kernel) -> str:
    """``C = {...}``: the constants k(d) uses, each bit for bit (float.hex) with its
    decimal value beside it."""
    used = kernel_body_source(kernel)
    lines = [
        f'    "{name}": float.fromhex("{value.hex()}"),  # {value!r}'
        for name, value in kernel_constants(kernel).items()
        if _reference(name) in used
    ]
    return CONSTANTS + " = {\n" + "\n".join(lines) + "\n}"
