"""The kernel formulas ``gradviz script`` writes, against the kernels' own numpy form: the
rendered source, run with numpy's functions in place of TensorFlow's, gives every kernel's
values bit for bit, so it applies the same operations in the same order. (The programs
themselves are run against ``report`` in tests/test_cli_script.py.)"""

from __future__ import annotations

import ast
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from gradviz.core.io.kernel_source import constants_source, kernel_body_source
from gradviz.core.problem.kernels import KERNEL_CLASSES, KERNELS, Kernel, KernelName, numpy_form

NUMPY_AS_TF = SimpleNamespace(
    exp=np.exp,
    sin=np.sin,
    cos=np.cos,
    abs=np.abs,
    sign=np.sign,
    pow=np.power,
    math=SimpleNamespace(log=np.log),
)


def rendered(kernel_name: KernelName, signal_variance: float) -> tuple[Kernel, str, Any]:
    kernel = KERNEL_CLASSES[kernel_name](length_scale=0.8, signal_variance=signal_variance)
    source = f"{constants_source(kernel)}\n\ndef kernel(d):\n{kernel_body_source(kernel)}\n"
    namespace: dict[str, object] = {"tf": NUMPY_AS_TF}
    exec(compile(source, "kernel.py", "exec"), namespace)
    return kernel, source, namespace["kernel"]


@pytest.mark.parametrize("signal_variance", [1.0, 2.5])
@pytest.mark.parametrize("kernel_name", KERNELS)
def test_the_rendered_formula_is_the_kernels_own_bit_for_bit(
    kernel_name: KernelName, signal_variance: float
) -> None:
    kernel, _, function = rendered(kernel_name, signal_variance)
    d = np.linspace(-7.0, 7.0, 1001)[:, None] - np.array([[0.0, 0.1, -2.3]])
    d[500, 0] = 0.0
    expected = numpy_form(kernel).value(d)
    found = function(d)
    assert found.dtype == expected.dtype
    assert np.array_equal(found.view(np.int64), expected.view(np.int64))


@pytest.mark.parametrize("kernel_name", KERNELS)
def test_a_value_used_twice_is_computed_once(kernel_name: KernelName) -> None:
    """matern's u and periodic's sine are single nodes (their gradients are summed in the
    order the graph holds them); nothing else is named."""
    _, source, _ = rendered(kernel_name, 1.0)
    body = ast.parse(source).body[-1]
    assert isinstance(body, ast.FunctionDef)
    assigned = [node for node in body.body if isinstance(node, ast.Assign)]
    shared = {"matern32", "matern52", "periodic"}
    assert len(assigned) == (1 if kernel_name in shared else 0)
    if assigned:
        name = assigned[0].targets[0]
        assert isinstance(name, ast.Name)
        uses = [n for n in ast.walk(body) if isinstance(n, ast.Name) and n.id == name.id]
        assert len(uses) > 2  # assigned once, used at least twice


def test_only_the_constants_the_formula_uses_are_written() -> None:
    kernel = KERNEL_CLASSES["periodic"](length_scale=0.8, period=2.0)
    source = constants_source(kernel)
    assert '"pi_p"' in source and '"two_l2"' in source
    assert '"four_pl2"' not in source  # the period's slope only, not k itself
    assert float.fromhex(source.split('"pi_p": float.fromhex("')[1].split('"')[0]) == np.pi / 2
