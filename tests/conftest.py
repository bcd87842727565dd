"""Test-wide settings that must exist before anything imports Qt or TensorFlow."""

import os

import pytest
from in_process import compute_in_process

# No screen here or in CI: Qt renders offscreen. TensorFlow stays quiet.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture
def compute_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands run through ``gradviz.cli.main`` compute in this process (in_process.py)."""
    from gradviz.worker import stoppable

    monkeypatch.setattr(stoppable, "run_stoppable", compute_in_process)


# The test files that take longest (seconds of wall time in a full run here), longest first.
# With ``--dist loadfile`` a worker takes the next file when it is done with one; these go
# in front (pyproject's addopts turn off xdist's reordering by test count, which put them
# last) and the short files fill in at the end, so that no worker ends the run alone on a
# long file (sweep_worker, at the end of the alphabet, did: ~19 s).
LONG_FILES = [
    "test_no_warnings.py",  # 68
    "test_bench.py",  # 42
    "test_cli_script.py",  # 38
    "core/test_kernel_paths.py",  # 27
    "gui/test_window.py",  # 23
    "gui/test_screenshot_cli.py",  # 23
    "gui/test_export.py",  # 22
    "gui/test_window_processes.py",  # 21
    "worker/test_sweep_worker.py",  # 19
    "test_cli_faults.py",  # 18
    "core/test_paths.py",  # 15
    "gui/test_soak.py",  # 13
    "core/test_quantities.py",  # 11
    "gui/test_plots.py",  # 11
    "test_boundaries.py",  # 10
    "test_cli_quantity.py",  # 10
    "test_cli.py",  # 10
    "test_cli_session.py",  # 9
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests = config.rootpath / "tests"
    order = {tests / name: rank for rank, name in enumerate(LONG_FILES)}
    items.sort(key=lambda item: order.get(item.path, len(order)))
