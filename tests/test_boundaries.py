"""Layer boundaries seen from a fresh interpreter: what each import really loads.

The package root and the numpy-only core must start without TensorFlow or Qt; only the
gradient paths (gradviz.core.numerics.probe -> gradviz.core.numerics.paths) load TensorFlow,
and nothing in the core loads Qt. Each check runs in its own process because this test
process may already have imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

WATCHED = ("tensorflow", "PyQt6", "pyqtgraph")


def printed_by(code: str) -> list[str]:
    """Run ``code`` in a fresh interpreter; the lines it printed."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def loaded_after(code: str) -> set[str]:
    """Run ``code`` in a fresh interpreter; return which WATCHED modules it left loaded."""
    script = (
        f"{code}\n"
        "import json as _json, sys as _sys\n"
        f"print(_json.dumps([m for m in {WATCHED!r} if m in _sys.modules]))\n"
    )
    return set(json.loads(printed_by(script)[-1]))


@pytest.mark.parametrize(
    "code",
    [
        "import gradviz",
        "import gradviz.core",
        "import gradviz.core.problem.spec, gradviz.core.problem.data, "
        "gradviz.core.analysis.diagnosis, gradviz.core.io.report, "
        "gradviz.core.numerics.reference, gradviz.core.numerics.results",
        "import gradviz.cli",
    ],
)
def test_light_imports_load_neither_tensorflow_nor_qt(code: str) -> None:
    assert loaded_after(code) == set()


def test_probe_loads_tensorflow_but_not_qt() -> None:
    assert loaded_after("import gradviz.core.numerics.probe") == {"tensorflow"}


def test_tensorflow_loads_without_keras_which_still_loads_on_use() -> None:
    """Keras (and the scikit-learn it pulls in) is ~1 s of a cold start that no path
    uses: TensorFlow is imported without it, and ``tf.keras`` still works afterwards."""
    code = (
        "import sys\n"
        "import gradviz.core.numerics.probe\n"
        "print(sorted(m for m in ('keras', 'sklearn') if m in sys.modules))\n"
        "from gradviz.core.numerics.tf_ops import tf\n"
        "print(tf.keras.layers.Dense.__name__)\n"
    )
    assert printed_by(code)[-2:] == ["[]", "Dense"]


def test_help_loads_neither_tensorflow_nor_qt() -> None:
    code = (
        "import contextlib, io\n"
        "from gradviz.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit as exit:\n"
        "        assert exit.code == 0, exit.code\n"
        "    else:\n"
        "        raise AssertionError('--help did not exit')\n"
        "assert 'report' in out.getvalue()\n"
    )
    assert loaded_after(code) == set()


def test_the_checker_sees_imports() -> None:
    """The harness itself can fail: a module that is imported is reported."""
    assert loaded_after("import sys; sys.modules['PyQt6'] = sys") == {"PyQt6"}
