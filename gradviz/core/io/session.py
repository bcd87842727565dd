"""Sessions: the problem, its data, the probe x and the view, as a small JSON file.

A session carries the problem's y (and its x when the data came from a file) exactly,
as ``float.hex()`` strings: the sample a grid problem draws depends on the machine's
BLAS, so without its y a session opened on another machine is another problem. Version
1 files (without ``data``) still open; their y is drawn again, as before.

A session file is data from somewhere else (a colleague, an old version, a
hand edit), so loading trusts nothing: only a regular file of at most 1 MB is
read, JSON syntax, nesting depth, duplicate keys, every key and every type are
checked, values go through :class:`Problem`'s validation, and any
problem becomes one :class:`SessionError` sentence. Nothing is evaluated or
unpickled. Saving is atomic.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from textwrap import shorten
from typing import Any

from gradviz.core.io.files import ReadError, parse_json, read_regular, save_text, shown
from gradviz.core.problem.spec import (
    COORDINATE_LIMIT,
    Problem,
    ProblemError,
    check_coordinate,
    check_probe,
)
from gradviz.core.problem.vector import Vector

FORMAT = "gradviz-session"
VERSION = 3
MAX_BYTES = 1_000_000  # 5000 points of x and y as hex strings take about 350 kB
# The problem's keys in each format version.
PROBLEM_KEYS: dict[int, tuple[str, ...]] = {
    1: ("n", "domain", "length_scale", "seed", "mean", "jitter", "solver"),
    2: (
        "n",
        "domain",
        "length_scale",
        "seed",
        "mean",
        "jitter",
        "solver",
        "kernel",
        "signal_variance",
        "alpha",
        "period",
    ),
}
# Version 3 adds the quantity (older files measured the mean's slope).
PROBLEM_KEYS[3] = (*PROBLEM_KEYS[2], "quantity")


class SessionError(ValueError):
    """A session file cannot be used; the message says which file and why."""


@dataclass(frozen=True)
class View:
    """What the window shows besides the problem: mu lines in the panel, the x zoom."""

    show_mu: bool = True
    x_range: tuple[float, float] | None = None


@dataclass(frozen=True)
class Session:
    """What a session file holds. Its problem carries y (``Problem.y``) when the file
    should reopen to the same numbers on any machine: the window pins the sample it drew
    before saving; a problem without y is saved without it and draws it again on load."""

    problem: Problem
    x: float
    view: View = field(default_factory=View)


def data_json(problem: Problem) -> dict[str, Any] | None:
    """The ``data`` object of a session: x (None for the grid) and y as ``float.hex()``
    strings; None when the problem draws its sample."""
    if problem.y is None:
        return None
    return {
        "x": None if problem.points is None else problem.points.hex(),
        "y": problem.y.hex(),
    }


def to_json(session: Session) -> str:
    view = session.view
    return json.dumps(
        {
            "format": FORMAT,
            "version": VERSION,
            "problem": session.problem.to_dict(),
            "data": data_json(session.problem),
            "x": session.x,
            "view": {
                "show_mu": view.show_mu,
                "x_range": None if view.x_range is None else list(view.x_range),
            },
        },
        indent=2,
        allow_nan=False,
    )


def save_session(path: Path, session: Session) -> None:
    """Write atomically; raises SaveError with the reason."""
    save_text(Path(path), to_json(session) + "\n")


def load_session(path: Path) -> Session:
    """Read and validate a session file; raises SessionError naming the file."""
    path = Path(path)
    name = shown(path)
    try:
        return parse_session(read_regular(path, MAX_BYTES).decode("utf-8"))
    except (SessionError, ReadError) as error:
        raise SessionError(f"Cannot open session {name}: {error}") from None
    except UnicodeDecodeError:
        raise SessionError(f"Cannot open session {name}: it is not UTF-8 text") from None
    except OSError as error:
        raise SessionError(f"Cannot open session {name}: {error.strerror or error}") from None


def parse_session(text: str) -> Session:
    """Validate a session document; raises SessionError (without the file name)."""
    try:
        document = parse_json(text)
    except json.JSONDecodeError as error:
        raise SessionError(f"it is not valid JSON ({error.msg} at line {error.lineno})") from None
    except ReadError as error:
        raise SessionError(str(error)) from None
    keys = {"format", "version", "problem", "x", "view"}
    given = set(document) if isinstance(document, dict) else set()
    _expect_keys("the session", document, keys | (given & {"data"}))
    if document["format"] != FORMAT:
        raise SessionError(f'"format" is {document["format"]!r}, not {FORMAT!r}')
    version = document["version"]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise SessionError(f'"version" must be a positive integer, not {version!r}')
    if version > VERSION:
        raise SessionError(
            f"it was written by a newer gradviz (format version {version}); "
            f"this version reads version {VERSION}"
        )
    _expect_keys("the session", document, keys if version == 1 else keys | {"data"})
    problem = _problem(document["problem"], version, document.get("data"))
    try:
        x = check_probe(problem, document["x"])
    except ProblemError as error:
        raise SessionError(str(error)) from None
    return Session(problem=problem, x=x, view=_view(document["view"]))


def _expect_keys(where: str, value: object, keys: set[str]) -> dict[str, Any]:
    """``value`` as a JSON object with exactly ``keys`` (values not checked yet)."""
    if not isinstance(value, dict):
        raise SessionError(f"{where} must be a JSON object, not {type(value).__name__}")
    unknown, missing = set(value) - keys, keys - set(value)
    if unknown:
        raise SessionError(f"{where} has unknown keys: {', '.join(sorted(unknown))}")
    if missing:
        raise SessionError(f"{where} lacks the keys: {', '.join(sorted(missing))}")
    return value


def _problem(value: object, version: int, data: object) -> Problem:
    fields = dict(_expect_keys('"problem"', value, set(PROBLEM_KEYS[version])))
    if isinstance(fields["domain"], list):
        fields["domain"] = tuple(fields["domain"])
    if data is not None:
        document = _expect_keys('"data"', data, {"x", "y"})
        fields["y"] = _vector("data.y", document["y"])
        if document["x"] is not None:
            fields["points"] = _vector("data.x", document["x"])
    try:
        problem = Problem(**fields)
    except ProblemError as error:
        raise SessionError(f"problem.{error}") from None
    for name in ("n", "domain"):  # with data from a file, derived from its x
        if getattr(problem, name) != fields[name]:
            raise SessionError(
                f"problem.{name} is {fields[name]!r} but the data gives {getattr(problem, name)!r}"
            )
    return problem


def with_data(problem: Problem, value: object) -> Problem:
    """``problem`` with the points and y of a :func:`data_json` object (the settings keep
    the last problem this way); raises SessionError."""
    document = _expect_keys('"data"', value, {"x", "y"})
    changes = {"y": _vector("data.y", document["y"])}
    if document["x"] is not None:
        changes["points"] = _vector("data.x", document["x"])
    try:
        return problem.replace(**changes)
    except ProblemError as error:
        raise SessionError(f"problem.{error}") from None


def _vector(where: str, value: object) -> Vector:
    """A list of ``float.hex()`` strings of finite numbers, as a Vector."""
    if not isinstance(value, list):
        raise SessionError(f"{where} must be a list of float.hex() strings or null")
    numbers = []
    for index, item in enumerate(value):
        try:
            if not isinstance(item, str):
                raise ValueError
            number = float.fromhex(item)
        except (ValueError, OverflowError):
            raise SessionError(
                f"{where}[{index}] is {shorten(repr(item), 60)}, not a float.hex() string"
            ) from None
        if not math.isfinite(number):
            raise SessionError(f"{where}[{index}] is {item!r}, not a finite number")
        numbers.append(number)
    return Vector.of(numbers)


def _view(value: object) -> View:
    view = _expect_keys('"view"', value, {"show_mu", "x_range"})
    show_mu, x_range = view["show_mu"], view["x_range"]
    if not isinstance(show_mu, bool):
        raise SessionError(f"view.show_mu must be true or false, not {show_mu!r}")
    if x_range is None:
        return View(show_mu=show_mu)
    try:
        lo, hi = (check_coordinate("view.x_range", v) for v in x_range)
        if not lo < hi:
            raise ValueError
    except (ProblemError, TypeError, ValueError):
        raise SessionError(
            f"view.x_range must be null or [lo, hi] with lo < hi and |lo|, |hi| <= "
            f"{COORDINATE_LIMIT:g}, not {shorten(repr(x_range), 60)}"
        ) from None
    return View(show_mu=show_mu, x_range=(lo, hi))
