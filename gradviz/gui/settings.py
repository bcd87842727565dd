"""What the window remembers between runs (QSettings), read defensively.

Stored values come back as strings or ints depending on the platform backend,
and a file may have been edited by hand: every value is re-validated through
:class:`Problem` and anything unusable falls back to the default.
"""

from __future__ import annotations

import json
from pathlib import Path

from PyQt6.QtCore import QByteArray, QSettings

from gradviz.core.problem import DEFAULT_X, Problem, ProblemError, check_x

ORGANIZATION = "gradviz"
APPLICATION = "gradviz"


class WindowSettings:
    """Typed access to the keys gradviz stores."""

    def __init__(self, settings: QSettings) -> None:
        self._settings = settings

    def clear(self) -> None:
        self._settings.clear()

    def problem(self) -> Problem:
        text = self._settings.value("problem", "", type=str)
        try:
            fields = json.loads(text) if text else {}
            if "domain" in fields:
                fields["domain"] = tuple(fields["domain"])
            return Problem(**fields)
        except (ValueError, TypeError, ProblemError):
            return Problem()

    def x(self) -> float:
        try:
            return check_x(float(self._settings.value("x", DEFAULT_X)))
        except (ValueError, TypeError, ProblemError):
            return DEFAULT_X

    def save_state(self, problem: Problem, x: float) -> None:
        self._settings.setValue("problem", json.dumps(problem.to_dict()))
        self._settings.setValue("x", x)

    def geometry(self) -> QByteArray | None:
        value = self._settings.value("geometry")
        return value if isinstance(value, QByteArray) else None

    def splitter(self) -> QByteArray | None:
        value = self._settings.value("splitter")
        return value if isinstance(value, QByteArray) else None

    def save_layout(self, geometry: QByteArray, splitter: QByteArray) -> None:
        self._settings.setValue("geometry", geometry)
        self._settings.setValue("splitter", splitter)

    def export_folder(self) -> Path:
        folder = Path(self._settings.value("export_folder", str(Path.home()), type=str))
        return folder if folder.is_dir() else Path.home()

    def save_export_folder(self, folder: Path) -> None:
        self._settings.setValue("export_folder", str(folder))

    def sync(self) -> None:
        self._settings.sync()
