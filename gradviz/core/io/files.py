"""Reading and writing the files gradviz owns: sessions, settings, presets, screenshots.

Reads trust nothing about the path: only a regular file is read (a FIFO, a device
or a folder is refused without blocking), at most a fixed number of bytes is read
whatever size the file reports, and JSON is parsed with a nesting limit and with
duplicate keys refused.

Writes are atomic: the content goes to a temporary file in the target folder, is
flushed to disk, and then replaces the target in one ``os.replace``. The temporary
file has a short ASCII name, so a target name of any legal length and encoding
works, and a failure at any point (KeyboardInterrupt and other BaseExceptions
included) removes it: no partial, empty or stray file is left, and an existing
target stays exactly as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

NEW_FILE_MODE = 0o644  # mkstemp creates 0o600; what gradviz saves is an ordinary file
TEMPORARY_PREFIX = ".gvz-"  # with mkstemp's 8 random characters and ".tmp": 17 ASCII bytes
TEMPORARY_SUFFIX = ".tmp"
MAX_JSON_DEPTH = 32  # gradviz's own documents nest 3 deep
NAME_MAX = 255  # bytes per file name where the file system does not say
MAX_SHOWN_NAME = 200  # characters of a path quoted in a message
_JSON_NESTING = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class SaveError(Exception):
    """A file could not be written; the message names the path and says why."""


class ReadError(ValueError):
    """A file cannot be read as data; the message says why (the caller names the file)."""


def reason(error: BaseException) -> str:
    """The words of an error without Python's decoration (errno, repeated file name)."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror[0].lower() + error.strerror[1:]
    return str(error) or type(error).__name__


def shown(path: Path | str) -> str:
    """A path as quoted in a message: a pasted 4000-character name is cut short."""
    text = str(path)
    return text if len(text) <= MAX_SHOWN_NAME else text[: MAX_SHOWN_NAME - 3] + "..."


def _not_regular(mode: int) -> str:
    kind = next((words for test, words in _KINDS if test(mode)), "not a regular file")
    return f"it is {kind}, not a regular file"


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes.

    The file is opened non-blocking (a FIFO cannot stall the open) and checked on
    the open descriptor; then at most ``limit + 1`` bytes are read, so a device
    that reports size 0 and never ends costs nothing. Raises ReadError (refused)
    or OSError (missing, no permission).
    """
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise ReadError(_not_regular(mode))
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    with os.fdopen(descriptor, "rb") as handle:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):  # replaced between the two looks
            raise ReadError(_not_regular(mode))
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ReadError(f"it has at least {limit + 1:,} bytes; at most {limit:,} are read")
    return data


def parse_json(text: str) -> Any:
    """JSON with at most MAX_JSON_DEPTH levels of nesting, no duplicate keys, no NaN or
    Infinity. Raises ReadError in words; json.JSONDecodeError (a ValueError) for bad syntax."""
    depth = 0
    for match in _JSON_NESTING.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise ReadError(f"it nests deeper than {MAX_JSON_DEPTH} levels")
        elif token in "]}":
            depth -= 1
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except ValueError as error:
        if isinstance(error, (json.JSONDecodeError, ReadError)):
            raise
        raise ReadError(f"it holds a number too long to read ({error})") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) < len(pairs):
        keys = [key for key, _ in pairs]
        twice = next(key for index, key in enumerate(keys) if key in keys[:index])
        raise ReadError(f'the key "{shown(twice)}" appears more than once in one object')
    return document


def _no_constant(name: str) -> Any:
    raise ReadError(f"it contains {name}, which is not a number JSON allows")


def check_target(path: Path) -> None:
    """Reject, before any work is done, a target that cannot be written: a name too long
    for its folder, a folder, a missing parent folder or one gradviz may not write in."""
    name_max = _name_max(path.parent)
    if len(os.fsencode(path.name)) > name_max:
        raise SaveError(
            f"Cannot save {shown(path)}: the file name is {len(os.fsencode(path.name)):,} "
            f"bytes long; this file system allows at most {name_max}."
        )
    try:
        if path.is_dir():
            raise SaveError(f"Cannot save {shown(path)}: that is a folder, not a file name.")
        if not path.parent.is_dir():
            raise SaveError(
                f"Cannot save {shown(path)}: the folder {shown(path.parent)} does not exist."
            )
    except OSError as failure:  # a path too long as a whole, a symlink loop
        raise SaveError(f"Cannot save {shown(path)}: {reason(failure)}.") from None
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise SaveError(
            f"Cannot save {shown(path)}: the folder {shown(path.parent)} is not writable."
        )


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return NAME_MAX


def write_atomically(
    path: Path, write: Callable[[str], None], error: type[SaveError] = SaveError
) -> None:
    """Run ``write(temporary_path)``, then move the result onto ``path``.

    Any failure, an exception raised by ``write`` included, removes the temporary
    file and becomes ``error`` (a SaveError subclass) with the reason in words;
    KeyboardInterrupt and other BaseExceptions remove it too and pass through.
    """
    try:
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=TEMPORARY_PREFIX, suffix=TEMPORARY_SUFFIX
        )
    except OSError as failure:
        raise error(
            f"Cannot save {shown(path)}: no file can be created in {shown(path.parent)} "
            f"({reason(failure)})."
        ) from failure
    try:
        os.close(handle)
        write(temporary)
        if os.path.getsize(temporary) == 0:
            raise OSError("nothing was written")
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.chmod(temporary, _final_mode(path))
        os.replace(temporary, path)
    except BaseException as failure:  # whatever went wrong, the target must stay untouched
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(failure, Exception):
            raise error(f"Cannot save {shown(path)}: {reason(failure)}.") from failure
        raise


def save_text(path: Path, text: str) -> None:
    """Check the target, then write ``text`` (UTF-8) atomically; raises SaveError."""
    check_target(path)

    def write(temporary: str) -> None:
        Path(temporary).write_text(text, encoding="utf-8")

    write_atomically(path, write)


def _final_mode(path: Path) -> int:
    """Keep the permissions of a file being replaced; new files get NEW_FILE_MODE."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return NEW_FILE_MODE
