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
target stays exactly as it was. A symlink is followed: its target is what is
replaced, the link stays.

A target that is not a regular file is never replaced. A character device
(``/dev/null``, ``/dev/stdout``, a terminal) or a named pipe is written through, as
the shell's ``>`` would, from a temporary file in the temporary folder; a socket
or a block device is refused by name before any work. Every write error (``ENOSPC``
from ``/dev/full``, a pipe whose reader went away) is a SaveError, never silence.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import signal
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

NEW_FILE_MODE = 0o644  # mkstemp creates 0o600; what gradviz saves is an ordinary file
TEMPORARY_PREFIX = ".gvz-"  # with mkstemp's 8 random characters and ".tmp": 17 ASCII bytes
TEMPORARY_SUFFIX = ".tmp"
MAX_JSON_DEPTH = 32  # gradviz's own documents nest 3 deep
NAME_MAX = 255  # bytes per file name where the file system does not say
MAX_SHOWN_NAME = 200  # characters of a path quoted in a message
NUL_WORDS = "no file name can hold a NUL byte"  # what the OS's "embedded null byte" means
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
    if isinstance(error, ValueError) and "null byte" in str(error):  # os.* on such a name
        return NUL_WORDS
    return str(error) or type(error).__name__


def shown(path: Path | str) -> str:
    """A path as quoted in a message: a pasted 4000-character name is cut short."""
    text = str(path).replace("\0", "\\0")  # a NUL would end the message in C-based widgets
    return text if len(text) <= MAX_SHOWN_NAME else text[: MAX_SHOWN_NAME - 3] + "..."


def _not_regular(mode: int) -> str:
    kind = next((words for test, words in _KINDS if test(mode)), "not a regular file")
    return f"it is {kind}, not a regular file"


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes.

    The file is opened non-blocking (a FIFO cannot stall the open) and checked on
    the open descriptor; then at most ``limit + 1`` bytes are read, so a device
    that reports size 0 and never ends costs nothing. Raises ReadError (refused,
    or a name no file can have) or OSError (missing, no permission).
    """
    if "\0" in str(path):  # a remembered name can hold one; no file name can
        raise ReadError(f"its name has a NUL byte in it, and {NUL_WORDS}")
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


def _mode_of(path: Path) -> int | None:
    """``st_mode`` of what ``path`` names, symlinks followed; None when nothing is there
    (a dangling symlink included). Raises OSError or ValueError (a NUL byte)."""
    try:
        return os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None


def _is_stream(mode: int | None) -> bool:
    """A character device or a named pipe: written through, never replaced."""
    return mode is not None and (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode))


def is_stream(path: Path) -> bool:
    """``path`` names a character device or a named pipe (writing it replaces nothing)."""
    try:
        return _is_stream(_mode_of(path))
    except (OSError, ValueError):
        return False


def check_target(path: Path) -> None:
    """Reject, before any work is done, a target that cannot be written: a name too long
    for its folder, a folder, a socket or block device, a device or pipe that is not
    writable, a missing parent folder (of the symlink's target, for a symlink) or one
    gradviz may not write in."""
    name_max = _name_max(path.parent)
    if len(os.fsencode(path.name)) > name_max:
        raise SaveError(
            f"Cannot save {shown(path)}: the file name is {len(os.fsencode(path.name)):,} "
            f"bytes long; this file system allows at most {name_max}."
        )
    if "\0" in str(path):
        raise SaveError(f"Cannot save {shown(path)}: {NUL_WORDS}.")
    try:
        mode = _mode_of(path)
        target = Path(os.path.realpath(path))
        parent_is_folder = target.parent.is_dir()
    except OSError as failure:  # a path too long as a whole, a symlink loop, a file as folder
        raise SaveError(f"Cannot save {shown(path)}: {reason(failure)}.") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise SaveError(f"Cannot save {shown(path)}: that is a folder, not a file name.")
    if mode is not None and (stat.S_ISSOCK(mode) or stat.S_ISBLK(mode)):
        raise SaveError(
            f"Cannot save {shown(path)}: {_not_regular(mode)}; gradviz writes regular "
            "files, and writes through character devices and named pipes."
        )
    if _is_stream(mode):
        if not os.access(path, os.W_OK):
            raise SaveError(f"Cannot save {shown(path)}: it is not writable.")
        return
    if not parent_is_folder:
        raise SaveError(
            f"Cannot save {shown(path)}: the folder {shown(target.parent)} does not exist."
        )
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise SaveError(
            f"Cannot save {shown(path)}: the folder {shown(target.parent)} is not writable."
        )


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return NAME_MAX


def write_atomically(
    path: Path,
    write: Callable[[str], None],
    error: type[SaveError] = SaveError,
    *,
    on_commit: Callable[[], None] | None = None,
    wait_for_reader: bool = False,
) -> None:
    """Run ``write(temporary_path)``, then move the result onto ``path`` (the target of a
    symlink), or, for a character device or named pipe, write it through.

    Any failure, an exception raised by ``write`` included, removes the temporary
    file and becomes ``error`` (a SaveError subclass) with the reason in words;
    KeyboardInterrupt and other BaseExceptions remove it too and pass through.
    ``on_commit`` runs the moment the output is complete (right after the rename, with
    SIGINT and SIGTERM held until it returns), so that a caller stopped by a signal can
    tell for sure whether its output exists. ``wait_for_reader``: a named pipe nobody
    reads yet is waited for (the command line) instead of refused (the window).
    """
    try:
        if _is_stream(_mode_of(path)):
            _write_through(path, write, error, on_commit, wait_for_reader)
            return
        target = Path(os.path.realpath(path))
    except (OSError, ValueError) as failure:
        raise error(f"Cannot save {shown(path)}: {reason(failure)}.") from failure
    try:
        handle, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=TEMPORARY_PREFIX, suffix=TEMPORARY_SUFFIX
        )
    except OSError as failure:
        raise error(
            f"Cannot save {shown(path)}: no file can be created in {shown(target.parent)} "
            f"({reason(failure)})."
        ) from failure
    try:
        os.close(handle)
        write(temporary)
        if os.path.getsize(temporary) == 0:
            raise OSError("nothing was written")
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.chmod(temporary, _final_mode(target))
        with _stop_signals_held(on_commit is not None):
            os.replace(temporary, target)
            if on_commit is not None:
                on_commit()
    except BaseException as failure:  # whatever went wrong, the target must stay untouched
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(failure, Exception):
            raise error(f"Cannot save {shown(path)}: {reason(failure)}.") from failure
        raise


def _write_through(
    path: Path,
    write: Callable[[str], None],
    error: type[SaveError],
    on_commit: Callable[[], None] | None,
    wait_for_reader: bool,
) -> None:
    """``write`` to a temporary file in the temporary folder (a device's folder need not
    take files), then its bytes through to the device or pipe at ``path``."""
    try:
        handle, temporary = tempfile.mkstemp(prefix=TEMPORARY_PREFIX, suffix=TEMPORARY_SUFFIX)
    except OSError as failure:
        raise error(
            f"Cannot save {shown(path)}: no temporary file can be created ({reason(failure)})."
        ) from failure
    try:
        os.close(handle)
        write(temporary)
        data = Path(temporary).read_bytes()
        if not data:
            raise OSError("nothing was written")
        descriptor = _open_stream(path, wait_for_reader)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view) :]
        finally:
            os.close(descriptor)
        if on_commit is not None:
            on_commit()
    except Exception as failure:
        raise error(f"Cannot save {shown(path)}: {reason(failure)}.") from failure
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)


def _open_stream(path: Path, wait_for_reader: bool) -> int:
    """A blocking descriptor writing to the device or pipe at ``path``. The open itself
    does not block: a pipe nobody reads is refused, or waited for with
    ``wait_for_reader`` (a stop signal interrupts the wait)."""
    flags = os.O_WRONLY | os.O_NOCTTY | os.O_CLOEXEC
    try:
        descriptor = os.open(path, flags | os.O_NONBLOCK)
    except OSError as failure:
        if failure.errno != errno.ENXIO:
            raise
        if not wait_for_reader:
            raise OSError(errno.ENXIO, "no program is reading from this named pipe") from None
        descriptor = os.open(path, flags)
    os.set_blocking(descriptor, True)
    if not _is_stream(os.fstat(descriptor).st_mode):  # replaced since it was checked
        os.close(descriptor)
        raise OSError("it was replaced by a regular file while being written")
    return descriptor


@contextlib.contextmanager
def _stop_signals_held(hold: bool) -> Iterator[None]:
    """SIGINT and SIGTERM wait (pending) until the block is done, when ``hold``."""
    stops = {signal.SIGINT, signal.SIGTERM}
    if not hold:
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, stops)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def save_text(
    path: Path,
    text: str,
    *,
    on_commit: Callable[[], None] | None = None,
    wait_for_reader: bool = False,
) -> None:
    """Check the target, then write ``text`` (UTF-8) atomically or through a device or
    pipe (see :func:`write_atomically`); raises SaveError."""
    check_target(path)

    def write(temporary: str) -> None:
        Path(temporary).write_text(text, encoding="utf-8")

    write_atomically(path, write, on_commit=on_commit, wait_for_reader=wait_for_reader)


def _final_mode(path: Path) -> int:
    """Keep the permissions of a file being replaced; new files get NEW_FILE_MODE."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return NEW_FILE_MODE
