"""Settings that are broken, hostile or cannot be kept: every bad entry is ignored and
logged once, a special file in place of the settings file never reaches QSettings, and a
location that cannot be written is reported."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import pytest
from PyQt6.QtCore import QSettings

from gradviz.core.problem.spec import DEFAULT_X, Problem
from gradviz.gui.settings import WindowSettings, open_settings, settings_file

SAVED = Problem(n=20, jitter=1e-6, solver="cholesky")


def stored(tmp_path: Path, key: str, value: object) -> WindowSettings:
    """Settings over an INI file holding a valid state with ``key`` set to ``value``."""
    path = str(tmp_path / "gradviz.ini")
    settings = WindowSettings(QSettings(path, QSettings.Format.IniFormat))
    settings.save_state(SAVED, 1.5)
    settings.sync()
    raw = QSettings(path, QSettings.Format.IniFormat)
    raw.setValue(key, value)
    raw.sync()
    return WindowSettings(QSettings(path, QSettings.Format.IniFormat))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("problem", "{not json"),
        ("problem", '{"n": -3}'),
        ("problem", '{"colour": "red"}'),
        ("problem", '{"domain": [5, -5]}'),
        ("problem", "[1, 2]"),
        ("problem", "null"),
        ("x", "abc"),
        ("x", "nan"),
        ("x", "1e300"),
    ],
)
def test_corrupted_settings_fall_back_to_the_defaults(tmp_path: Path, key: str, value: str) -> None:
    settings = stored(tmp_path, key, value)
    assert settings.problem() == (Problem() if key == "problem" else SAVED)
    assert settings.x() == (DEFAULT_X if key == "x" else 1.5)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("[" * 100_000, "not a string of at most"),
        ("[" * 5_000, "deeper than"),
        ('{"n": 20, "n": 30}', "appears more than once"),
        (["n", "20"], "not a string"),
    ],
    ids=["nested 100000 deep", "nested 5000 deep", "duplicate key", "a list"],
)
def test_a_broken_stored_problem_is_ignored_and_logged_once(
    tmp_path: Path, value: object, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = stored(tmp_path, "problem", value)
    with caplog.at_level(logging.WARNING):
        assert settings.problem() == Problem()
        assert settings.x() == 1.5
    assert len(caplog.records) == 1 and reason in caplog.text


@pytest.mark.parametrize("value", ["\uff13", "\u0663.5"], ids=ascii)
def test_a_stored_x_in_non_ascii_digits_is_ignored(
    tmp_path: Path, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = stored(tmp_path, "x", value)
    with caplog.at_level(logging.WARNING):
        assert settings.x() == DEFAULT_X
    assert len(caplog.records) == 1 and "x" in caplog.text


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


def test_the_settings_file_is_where_qsettings_keeps_it(config_home: Path) -> None:
    assert settings_file() == config_home / "gradviz" / "gradviz.conf"
    assert QSettings("gradviz", "gradviz").fileName() == str(settings_file())


def test_a_fifo_settings_file_is_ignored_without_blocking(
    config_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings_file().parent.mkdir(parents=True)
    os.mkfifo(settings_file())
    opened: list[object] = []
    with caplog.at_level(logging.WARNING):
        thread = threading.Thread(target=lambda: opened.append(open_settings()), daemon=True)
        thread.start()
        thread.join(5)
    assert not thread.is_alive(), "opening the settings blocked on the FIFO"
    ((settings, problem),) = opened
    assert settings is None
    assert "named pipe" in problem and str(settings_file()) in problem
    assert len(caplog.records) == 1


@pytest.mark.parametrize("where", ["a file", "a read-only folder"])
def test_an_unwritable_location_is_reported(
    config_home: Path, where: str, caplog: pytest.LogCaptureFixture
) -> None:
    if where == "a file":
        config_home.write_text("not a folder")
    else:
        if os.geteuid() == 0:
            pytest.skip("running as root: a read-only folder is still writable")
        config_home.mkdir(mode=0o500)
    with caplog.at_level(logging.WARNING):
        settings, problem = open_settings()
    assert settings is not None
    assert problem is not None and "will not be saved" in problem
    assert len(caplog.records) == 1


def test_a_writable_location_reports_nothing(config_home: Path) -> None:
    settings, problem = open_settings()
    assert settings is not None and problem is None
