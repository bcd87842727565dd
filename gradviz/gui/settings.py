"""What the window remembers between runs (QSettings), read defensively.

Stored values come back as strings or ints depending on the platform backend,
and a file may have been edited by hand or broken: every value is re-validated
(the problem through :class:`Problem`, its JSON through the same depth and
duplicate-key limits as sessions) and anything unusable is logged once and falls
back to the default. A settings file that is not a regular file (a FIFO would
hang QSettings' read) is never handed to QSettings, and a location where
settings cannot be written is reported instead of silently losing them.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from PyQt6.QtCore import QByteArray, QSettings, QStandardPaths

from gradviz.core.io.files import ReadError, parse_json, read_regular, shown
from gradviz.core.io.session import MAX_BYTES as SESSION_BYTES
from gradviz.core.io.session import data_json, with_data
from gradviz.core.problem.spec import DEFAULT_X, Problem, ProblemError, check_x, parse_number

ORGANIZATION = "gradviz"
APPLICATION = "gradviz"
# The settings file: what gradviz writes is well under 10 kB, plus the data of a problem
# from a file (5000 points take ~350 kB).
MAX_BYTES = 2 * SESSION_BYTES
RECENT_SESSIONS = 8
MAX_TEXT = 10_000  # characters of one stored value
# The side column's layout. Every close saves the splitter, so a splitter stored by a
# version whose column was wider (before 2: ~620 px, the plots 46 % of a 1280x720 window)
# would keep that width for good; a splitter saved under another layout is not restored.
LAYOUT_VERSION = 2

log = logging.getLogger(__name__)


def settings_file() -> Path:
    """Where ``QSettings(ORGANIZATION, APPLICATION)`` keeps its INI file (Linux: the XDG
    config folder), found without constructing a QSettings, which reads the file."""
    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericConfigLocation)
    return Path(folder) / ORGANIZATION / f"{APPLICATION}.conf"


def open_settings() -> tuple[WindowSettings | None, str | None]:
    """The window's settings (None: use the defaults, keep nothing) and a sentence for the
    status bar when they cannot be read or kept."""
    path = settings_file()
    try:
        read_regular(path, MAX_BYTES)
    except (FileNotFoundError, NotADirectoryError):
        pass  # nothing stored yet (or no folder to store it in: see _can_write)
    except (ReadError, OSError) as error:
        problem = f"Settings ignored, defaults used: {shown(path)}: {error}"
        log.warning(problem)
        return None, problem
    if not _can_write(path):
        problem = f"Settings will not be saved: {shown(path)} cannot be written"
        log.warning(problem)
        return WindowSettings(QSettings(ORGANIZATION, APPLICATION)), problem
    return WindowSettings(QSettings(ORGANIZATION, APPLICATION)), None


def _can_write(path: Path) -> bool:
    """Whether ``path`` can be written or created (its first existing ancestor is a
    writable folder)."""
    if path.exists():
        return path.is_file() and os.access(path, os.W_OK)
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)


class WindowSettings:
    """Typed access to the keys gradviz stores."""

    def __init__(self, settings: QSettings) -> None:
        self._settings = settings

    def clear(self) -> None:
        self._settings.clear()

    def _text(self, key: str, limit: int = MAX_TEXT) -> str | None:
        """A stored string, or None (and one warning) when it is missing or unusable."""
        value = self._settings.value(key)
        if value is None:
            return None
        if isinstance(value, str) and len(value) <= limit:
            return value
        log.warning("ignoring the stored %s: not a string of at most %d characters", key, limit)
        return None

    def problem(self) -> Problem:
        text = self._text("problem")
        if not text:
            return Problem()
        try:
            fields = parse_json(text)
            if not isinstance(fields, dict):
                raise TypeError("not a JSON object")
            if isinstance(fields.get("domain"), list):
                fields["domain"] = tuple(fields["domain"])
            problem = Problem(**fields)
            data = self._text("data", SESSION_BYTES)  # the points and y, exactly
            return problem if not data else with_data(problem, parse_json(data))
        except (ValueError, TypeError, ProblemError) as error:
            log.warning("ignoring the stored problem: %s", shown(str(error)))
            return Problem()

    def x(self) -> float:
        value = self._settings.value("x")
        if value is None:
            return DEFAULT_X
        try:
            return check_x(parse_number(value) if isinstance(value, str) else value)
        except ProblemError as error:
            log.warning("ignoring the stored x: %s", error)
            return DEFAULT_X

    def save_state(self, problem: Problem, x: float) -> None:
        self._settings.setValue("problem", json.dumps(problem.to_dict()))
        data = data_json(problem)
        if data is None:
            self._settings.remove("data")
        else:
            self._settings.setValue("data", json.dumps(data, separators=(",", ":")))
        self._settings.setValue("x", x)

    def _bytes(self, key: str) -> QByteArray | None:
        value = self._settings.value(key)
        if value is None or isinstance(value, QByteArray):
            return value
        log.warning("ignoring the stored %s: not binary data", key)
        return None

    def geometry(self) -> QByteArray | None:
        return self._bytes("geometry")

    def splitter(self) -> QByteArray | None:
        """The splitter as the user left it, or None when none was saved under this
        LAYOUT_VERSION (the window then gives the side column its default width)."""
        version = self._settings.value("layout_version")
        if str(version) != str(LAYOUT_VERSION):
            if self._settings.value("splitter") is not None:
                log.info("the stored splitter is of layout %s, not %d: not restored",
                         version, LAYOUT_VERSION)  # fmt: skip
            return None
        return self._bytes("splitter")

    def band(self) -> bool:
        """Whether the plots shade the variance band (on unless turned off)."""
        return self._text("band") != "off"

    def save_band(self, shown: bool) -> None:
        self._settings.setValue("band", "on" if shown else "off")

    def save_layout(self, geometry: QByteArray, splitter: QByteArray) -> None:
        self._settings.setValue("geometry", geometry)
        self._settings.setValue("splitter", splitter)
        self._settings.setValue("layout_version", LAYOUT_VERSION)

    def editor_expanded(self) -> bool:
        """Whether the Problem editor is open (folded on a fresh config: the plots get the
        room)."""
        return self._settings.value("editor_expanded") in (True, "true")

    def save_editor_expanded(self, expanded: bool) -> None:
        self._settings.setValue("editor_expanded", expanded)

    def export_folder(self) -> Path:
        text = self._text("export_folder")
        folder = Path(text) if text else Path.home()
        try:
            return folder if folder.is_dir() else Path.home()
        except (OSError, ValueError):  # a name too long, a NUL byte
            return Path.home()

    def save_export_folder(self, folder: Path) -> None:
        self._settings.setValue("export_folder", str(folder))

    def recent_sessions(self) -> list[Path]:
        """The last RECENT_SESSIONS session files opened or saved, newest first; entries
        that are not strings, or too long, are dropped (the files may since have gone)."""
        text = self._text("recent_sessions")
        try:
            names = json.loads(text) if text else []
        except ValueError:
            log.warning("ignoring the stored recent sessions: not a JSON list")
            return []
        if not isinstance(names, list):
            return []
        return [Path(name) for name in names if isinstance(name, str)][:RECENT_SESSIONS]

    def add_recent_session(self, path: Path) -> list[Path]:
        """Put ``path`` first in the recent sessions; returns the new list."""
        recent = [path, *(p for p in self.recent_sessions() if p != path)][:RECENT_SESSIONS]
        self._settings.setValue("recent_sessions", json.dumps([str(p) for p in recent]))
        return recent

    def sync(self) -> None:
        self._settings.sync()
        if self._settings.status() != QSettings.Status.NoError:
            log.warning("settings could not be saved to %s", self._settings.fileName())
