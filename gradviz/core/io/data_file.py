"""The user's own data: points x and values y from a file.

Formats, chosen by the file's extension:

- ``.npy``: one array of shape (n, 2), columns x and y;
- ``.npz``: arrays ``x`` and ``y`` of shape (n,) (other arrays are ignored);
- anything else is text, UTF-8: two numeric columns x, y per line, separated by a comma,
  a semicolon or white space, with an optional header line (a first line without any
  number); blank lines and lines starting with ``#`` are skipped.

The points need not be sorted or evenly spaced, and an x may repeat. A file comes from
anywhere, so nothing about it is trusted: only a regular file of at most MAX_BYTES is read
(:func:`gradviz.core.io.files.read_regular`), .npy headers are checked before any array
is allocated, .npz members are bounded by their uncompressed size, nothing is unpickled,
and every problem becomes one :class:`DataFileError` sentence naming the file, the line
(or row) where it applies, and the reason.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from gradviz.core.io.files import ReadError, read_regular, reason, shown
from gradviz.core.problem.spec import COORDINATE_LIMIT, N_RANGE, Problem
from gradviz.core.problem.vector import Vector

MAX_BYTES = 4 * 2**20  # 5000 lines of two 17-digit numbers take ~200 kB; text is generous
MIN_POINTS, MAX_POINTS = N_RANGE
MAX_SHOWN_FIELD = 40  # characters of a bad value quoted in a message
_NUMBER = re.compile(
    r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?(inf|infinity|nan)", re.IGNORECASE
)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_NPY_VERSIONS = ((1, 0), (2, 0))
Locate = Callable[[int], str]  # index of a point -> where it is in the file, in words


class DataFileError(ValueError):
    """A data file cannot be used; the message names the file and says where and why."""


class _BadContentError(ValueError):
    """What is wrong inside the file, without the file's name."""


def load_data(path: Path) -> tuple[Vector, Vector]:
    """The points x and values y of a data file; raises DataFileError."""
    path = Path(path)
    try:
        raw = read_regular(path, MAX_BYTES)
        parse = {".npy": _npy, ".npz": _npz}.get(path.suffix.lower(), _text)
        x, y, locate = parse(raw)
        _check(x, y, locate)
    except (_BadContentError, ReadError) as error:
        raise DataFileError(f"Cannot read data {shown(path)}: {error}") from None
    except OSError as error:
        raise DataFileError(f"Cannot read data {shown(path)}: {reason(error)}") from None
    return Vector.of(x), Vector.of(y)


def problem_with_data(problem: Problem, path: Path) -> Problem:
    """``problem`` (its kernel, parameters, jitter and solver) on the data of ``path``."""
    points, y = load_data(path)
    return problem.replace(points=points, y=y)


def _quoted(text: str) -> str:
    shown_text = text if len(text) <= MAX_SHOWN_FIELD else text[: MAX_SHOWN_FIELD - 3] + "..."
    return repr(shown_text)


# --- text ----------------------------------------------------------------------------------


def _fields(line: str) -> list[str]:
    """A line's columns: split at commas, else semicolons, else white space; a pair of
    double quotes around a column (as spreadsheets write) is dropped."""
    for separator in (",", ";"):
        if separator in line:
            parts = [part.strip() for part in line.split(separator)]
            break
    else:
        parts = line.split()
    return [
        part[1:-1].strip() if len(part) >= 2 and part[0] == part[-1] == '"' else part
        for part in parts
    ]


def _text(raw: bytes) -> tuple[np.ndarray, np.ndarray, Locate]:
    if not raw:
        raise _BadContentError("it is empty")
    nul = raw.find(0)
    if nul >= 0:
        raise _BadContentError(f"it is binary, not text (a NUL byte at offset {nul:,})")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        where = raw.count(b"\n", 0, error.start) + 1
        raise _BadContentError(
            f"line {where}: it is not UTF-8 text "
            f"(byte 0x{raw[error.start]:02x} at offset {error.start:,})"
        ) from None
    rows: list[tuple[float, float]] = []
    lines: list[int] = []
    header_allowed = True
    for number, line in enumerate(_LINE_BREAK.split(text), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        fields = _fields(stripped)
        if header_allowed and not any(_NUMBER.fullmatch(field) for field in fields):
            header_allowed = False  # a header: the first line, and no number in it
            continue
        header_allowed = False
        if len(fields) != 2:
            count = "one column" if len(fields) == 1 else f"{len(fields)} columns"
            raise _BadContentError(f"line {number}: {count}; expected two, x and y")
        rows.append((_value(number, fields[0]), _value(number, fields[1])))
        lines.append(number)
        if len(rows) > MAX_POINTS:
            raise _BadContentError(
                f"line {number}: more than {MAX_POINTS} points; at most {MAX_POINTS}"
            )
    array = np.array(rows, dtype=np.float64).reshape(len(rows), 2)
    return array[:, 0], array[:, 1], lambda index: f"line {lines[index]}"


def _value(line: int, field: str) -> float:
    if not _NUMBER.fullmatch(field):
        raise _BadContentError(f"line {line}: {_quoted(field)} is not a number")
    return float(field)  # may be inf or nan: _check says so with the line


# --- numpy -----------------------------------------------------------------------------------


def _array(raw: bytes, what: str) -> np.ndarray:
    """The array of one .npy image, its header checked before anything is allocated."""
    stream = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(stream)
        if version not in _NPY_VERSIONS:
            raise _BadContentError(
                f"{what} is a .npy of format version {version[0]}.{version[1]}, not 1.0 or 2.0"
            )
        read_header = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, _, dtype = read_header(stream)
    except ValueError as error:
        raise _BadContentError(f"{what} is not a .npy array ({error})") from None
    if dtype.fields is not None or dtype.kind not in "fiu":
        raise _BadContentError(
            f"{what} has dtype {dtype}; expected real numbers (float or integer)"
        )
    values = math.prod(shape)
    if values > 2 * MAX_POINTS:
        raise _BadContentError(f"{what} has shape {shape}: more than {MAX_POINTS} points")
    stream.seek(0)
    try:
        array: np.ndarray = np.load(stream, allow_pickle=False)
    except (ValueError, EOFError, OSError) as error:
        raise _BadContentError(f"{what} cannot be read ({error})") from None
    return array.astype(np.float64)


def _npy(raw: bytes) -> tuple[np.ndarray, np.ndarray, Locate]:
    array = _array(raw, "it")
    if array.ndim != 2 or array.shape[1] != 2:
        raise _BadContentError(
            f"it holds an array of shape {array.shape}; expected (n, 2): a row per point, x and y"
        )
    return array[:, 0], array[:, 1], lambda index: f"row {index} (from 0)"


def _npz(raw: bytes) -> tuple[np.ndarray, np.ndarray, Locate]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as error:
        raise _BadContentError(f"it is not a .npz archive ({error})") from None
    with archive:
        names = archive.namelist()
        missing = [key for key in ("x", "y") if f"{key}.npy" not in names]
        if missing:
            held = sorted(name.removesuffix(".npy") for name in names)
            raise _BadContentError(
                f"it has no array {' or '.join(missing)}; it holds "
                + (", ".join(map(_quoted, held)) if held else "no arrays")
            )
        x, y = (_member(archive, key) for key in ("x", "y"))
    if len(x) != len(y):
        raise _BadContentError(f"its arrays x and y differ in length ({len(x)} and {len(y)})")
    return x, y, lambda index: f"x[{index}], y[{index}]"


def _member(archive: zipfile.ZipFile, key: str) -> np.ndarray:
    """One array of a .npz, read only up to its declared uncompressed size."""
    info = archive.getinfo(f"{key}.npy")
    if info.file_size > MAX_BYTES:
        raise _BadContentError(
            f"its array {key} has {info.file_size:,} bytes; at most {MAX_BYTES:,} are read"
        )
    try:
        raw = archive.read(info)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError, zlib.error) as error:
        raise _BadContentError(f"its array {key} cannot be extracted ({error})") from None
    array = _array(raw, f"its array {key}")
    if array.ndim != 1:
        raise _BadContentError(f"its array {key} has shape {array.shape}; expected (n,)")
    return array


# --- what every format must satisfy -----------------------------------------------------------


def _check(x: np.ndarray, y: np.ndarray, locate: Locate) -> None:
    """Enough points and not too many, finite values, x in range and not all equal."""
    if len(x) < MIN_POINTS:
        found = "no data" if len(x) == 0 else f"{len(x)} point"
        raise _BadContentError(f"it has {found}; at least {MIN_POINTS} points are needed")
    if len(x) > MAX_POINTS:
        raise _BadContentError(f"it has {len(x):,} points; at most {MAX_POINTS} are allowed")
    for name, values in (("x", x), ("y", y)):
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            index = int(bad[0])
            raise _BadContentError(
                f"{locate(index)}: {name} is {float(values[index])}; "
                "NaN and infinity are not allowed"
            )
    outside = np.flatnonzero(np.abs(x) > COORDINATE_LIMIT)
    if outside.size:
        index = int(outside[0])
        raise _BadContentError(
            f"{locate(index)}: x = {x[index]:g} is outside |x| <= {COORDINATE_LIMIT:g}"
        )
    if np.all(x == x[0]):
        raise _BadContentError(
            f"every x is {x[0]:g}: the points must span a range (two distinct x at least)"
        )
