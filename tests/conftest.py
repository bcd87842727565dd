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


# The test files that take longest (CPU seconds, measured here), longest first. With
# ``--dist loadfile`` a worker takes the next file when it is done with one; these are put
# in front (and pyproject's addopts turn off xdist's reordering by test count, which put
# them last), so that the workers do not end with one long file on one core.
LONG_FILES = [
    "test_no_warnings.py",
    "test_bench.py",
    "test_cli_script.py",
    "gui/test_screenshot_cli.py",
    "gui/test_window.py",
    "core/test_kernel_paths.py",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests = config.rootpath / "tests"
    order = {tests / name: rank for rank, name in enumerate(LONG_FILES)}
    items.sort(key=lambda item: order.get(item.path, len(order)))
