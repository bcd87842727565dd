"""Atomic file writes shared by screenshots and sessions.

The content goes to a temporary file in the target folder, is flushed to disk,
and then replaces the target in one ``os.replace``. A failure at any point
removes the temporary file: no partial, empty or stray file is left, and an
existing target stays exactly as it was.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

NEW_FILE_MODE = 0o644  # mkstemp creates 0o600; what gradviz saves is an ordinary file


class SaveError(Exception):
    """A file could not be written; the message names the path and says why."""


def reason(error: BaseException) -> str:
    """The words of an error without Python's decoration (errno, repeated file name)."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror[0].lower() + error.strerror[1:]
    return str(error) or type(error).__name__


def check_target(path: Path) -> None:
    """Reject a folder or a missing parent folder before any work is done."""
    if path.is_dir():
        raise SaveError(f"Cannot save {path}: that is a folder, not a file name.")
    if not path.parent.is_dir():
        raise SaveError(f"Cannot save {path}: the folder {path.parent} does not exist.")


def write_atomically(
    path: Path, write: Callable[[str], None], error: type[SaveError] = SaveError
) -> None:
    """Run ``write(temporary_path)``, then move the result onto ``path``.

    Any failure, an exception raised by ``write`` included, removes the temporary
    file and becomes ``error`` (a SaveError subclass) with the reason in words.
    """
    try:
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix.lower()
        )
    except OSError as failure:
        raise error(
            f"Cannot save {path}: no file can be created in {path.parent} ({reason(failure)})."
        ) from failure
    os.close(handle)
    try:
        write(temporary)
        if os.path.getsize(temporary) == 0:
            raise OSError("nothing was written")
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.chmod(temporary, _final_mode(path))
        os.replace(temporary, path)
    except Exception as failure:  # whatever went wrong, the target must stay untouched
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise error(f"Cannot save {path}: {reason(failure)}.") from failure


def _final_mode(path: Path) -> int:
    """Keep the permissions of a file being replaced; new files get NEW_FILE_MODE."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return NEW_FILE_MODE
