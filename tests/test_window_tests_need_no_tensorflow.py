"""The window's tests run on recorded workers: importing them brings in no TensorFlow and
no compute worker. (The few tests that start processes or TensorFlow on purpose live in
``gui/test_window_processes.py`` and ``worker/``.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).parent
WINDOW_TESTS = [
    "test_window.py",
    "test_plots.py",
    "test_panel.py",
    "test_sweeps.py",
    "test_session_gui.py",
    "test_export.py",
    "test_controls.py",
    "test_guide.py",
    "test_settings.py",
]
FORBIDDEN = [
    "tensorflow",
    "gradviz.core.numerics.paths",
    "gradviz.worker.compute_worker",
    "gradviz.worker.sweep_worker",
    "gradviz.worker.services",
]
# Each module in turn, as pytest imports it (its folder first on the path, for conftest),
# then what of FORBIDDEN is loaded after it.
CHECK = """
import importlib.util, json, sys
tests, gui, names, forbidden = sys.argv[1:5]
sys.path[:0] = [gui, tests]
found = {}
for name in json.loads(names):
    spec = importlib.util.spec_from_file_location(name[:-3], gui + "/" + name)
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found[name] = [m for m in json.loads(forbidden) if m in sys.modules]
print(json.dumps(found))
"""


def test_the_window_test_modules_import_no_tensorflow_and_no_compute_worker() -> None:
    done = subprocess.run(
        [
            sys.executable, "-c", CHECK, str(TESTS), str(TESTS / "gui"),
            json.dumps(WINDOW_TESTS), json.dumps(FORBIDDEN),
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found == {name: [] for name in WINDOW_TESTS}
    assert set(WINDOW_TESTS) <= {p.name for p in (TESTS / "gui").glob("test_*.py")}
