"""Named problems worth comparing, read from ``resources/presets.json``.

The file is a JSON list of ``{"name": ..., "problem": {field: value, ...}}``;
fields left out take :class:`~gradviz.core.problem.spec.Problem`'s defaults (the
seed's). An entry may name a data file of ``resources/`` (``"data": "co2.csv"``, read as
``--data`` reads any file) whose points and y replace the grid. Every entry is validated
by ``Problem`` itself, so a broken file fails at load with a ValueError naming the
preset, never later in a worker.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gradviz.core.io.data_file import DataFileError, load_data
from gradviz.core.io.files import ReadError, parse_json, read_regular
from gradviz.core.problem.spec import Problem, ProblemError
from gradviz.resources import resource_path

PRESETS_FILE = "presets.json"
MAX_BYTES = 100_000


@dataclass(frozen=True)
class Preset:
    """A problem with the name it is listed under."""

    name: str
    problem: Problem


def _preset(index: int, entry: Any) -> Preset:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
        raise ValueError(f"preset #{index}: needs a non-empty string 'name', got {entry!r}")
    name = entry["name"]
    fields = entry.get("problem", {})
    if not isinstance(fields, dict):
        raise ValueError(f"preset {name!r}: 'problem' must be an object, got {fields!r}")
    if "domain" in fields and isinstance(fields["domain"], list):
        fields = {**fields, "domain": tuple(fields["domain"])}
    data = entry.get("data")
    if data is not None and (not isinstance(data, str) or Path(data).name != data):
        raise ValueError(f"preset {name!r}: 'data' must name a file of resources/, got {data!r}")
    try:
        problem = Problem(**fields)
        if data is not None:
            points, y = load_data(resource_path(data))
            problem = problem.replace(points=points, y=y)
    except (ProblemError, DataFileError, FileNotFoundError) as error:
        raise ValueError(f"preset {name!r}: {error}") from error
    except TypeError as error:  # an unknown field name
        raise ValueError(f"preset {name!r}: {error}") from error
    return Preset(name, problem)


def load_presets(path: Path | None = None) -> tuple[Preset, ...]:
    """The presets in file order (default file: ``resources/presets.json``).

    Raises ValueError naming the file or the preset when the file is not a
    regular file of at most MAX_BYTES holding a list of valid, uniquely named
    entries (JSON with duplicate keys or deep nesting included).
    """
    path = resource_path(PRESETS_FILE) if path is None else path
    try:
        entries = parse_json(read_regular(path, MAX_BYTES).decode("utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON: {error}") from error
    except (ReadError, UnicodeDecodeError, OSError) as error:
        raise ValueError(f"{path}: cannot be read: {error}") from error
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a JSON list of presets")
    presets = tuple(_preset(index, entry) for index, entry in enumerate(entries))
    names = [preset.name for preset in presets]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"{path}: duplicate preset names {duplicates}")
    return presets
