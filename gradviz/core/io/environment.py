"""What a result was computed on: versions and the BLAS numpy uses.

The seed's sample is drawn through an SVD whose last bits depend on the CPU kernel
OpenBLAS picks, so every figure is reported with the machine it came from. Nothing
here imports TensorFlow or Qt: versions come from the installed distributions.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import os
import platform
from typing import Any

import numpy as np

from gradviz import __version__


def _installed(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


_CORENAME_SYMBOLS = (
    "scipy_openblas_get_corename64_",  # numpy's wheels (scipy-openblas, 64-bit integers)
    "scipy_openblas_get_corename",
    "openblas_get_corename64_",
    "openblas_get_corename",
)


def openblas_core() -> str | None:
    """The CPU kernel OpenBLAS chose at run time (e.g. ``SkylakeX``), asked of the library
    this process loaded, as threadpoolctl does; None without Linux's /proc or OpenBLAS."""
    try:
        with open("/proc/self/maps") as maps:
            loaded = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return None
    for path in sorted(name for name in loaded if name.startswith("/")):
        library = ctypes.CDLL(path)
        for symbol in _CORENAME_SYMBOLS:
            corename = getattr(library, symbol, None)
            if corename is not None:
                corename.restype = ctypes.c_char_p
                name: bytes = corename()
                return name.decode()
    return None


def blas() -> dict[str, str | None]:
    """numpy's BLAS: name and version as built, the build's configuration (with OpenBLAS
    its options and default core), the core in use, and ``$OPENBLAS_CORETYPE``, which
    overrides the core OpenBLAS would pick."""
    config: Any = np.show_config(mode="dicts")  # numpy's own nested dict of strings
    built: dict[str, str] = config.get("Build Dependencies", {}).get("blas", {})
    return {
        "name": built.get("name"),
        "version": built.get("version"),
        "configuration": built.get("openblas configuration"),
        "core": openblas_core(),
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
    }


def environment() -> dict[str, Any]:
    """Versions of gradviz, Python, TensorFlow, numpy, python-flint and Qt (None where not
    installed), and numpy's BLAS."""
    return {
        "gradviz": __version__,
        "python": platform.python_version(),
        "tensorflow": _installed("tensorflow"),
        "numpy": np.__version__,
        "python-flint": _installed("python-flint"),
        "qt": _installed("PyQt6-Qt6"),
        "blas": blas(),
    }
