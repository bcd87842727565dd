"""Find files of ``resources/`` wherever gradviz runs from.

A wheel carries them as ``gradviz/resources/`` (hatchling force-include); a
source checkout or editable install has them at the repository root. This is
the one place that knows both, so nothing else hard-codes a path.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CANDIDATES = (_PACKAGE / "resources", _PACKAGE.parent / "resources")


def resource_path(name: str) -> Path:
    """Absolute path of ``resources/<name>``; FileNotFoundError names where it looked."""
    for base in _CANDIDATES:
        candidate = base / name
        if candidate.exists():
            return candidate
    looked = ", ".join(str(base) for base in _CANDIDATES)
    raise FileNotFoundError(f"resource {name!r} not found in {looked}")
