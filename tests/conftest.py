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

