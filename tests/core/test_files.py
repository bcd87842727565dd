"""Faults around files: special files in place of data, hostile JSON, temporaries that must
never outlive a failed or interrupted write, and target names at the limits.

Every file gradviz reads (session, presets; settings in tests/gui/test_settings.py) goes
through ``files.read_regular`` and ``files.parse_json``; every file it writes through
``files.write_atomically``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from gradviz.core.io.files import (
    MAX_JSON_DEPTH,
    ReadError,
    SaveError,
    check_target,
    parse_json,
    read_regular,
    save_text,
    write_atomically,
)
from gradviz.core.io.presets import load_presets
from gradviz.core.io.session import Session, SessionError, load_session, save_session, to_json
from gradviz.core.problem.spec import Problem

SAMPLE = Session(Problem(n=20), 0.5)
NOT_UTF8 = os.fsdecode(b"caf\xe9 \xff.json")  # what a Latin-1 file name looks like here


def finishes(call: Callable[[], object], seconds: float = 5.0) -> BaseException | None:
    """Run ``call`` in a thread; fail if it blocks. Returns what it raised."""
    raised: list[BaseException | None] = [None]

    def run() -> None:
        try:
            call()
        except BaseException as error:
            raised[0] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the read blocked"
    return raised[0]


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "lab.json"
    os.mkfifo(path)
    return path


# ------------------------------------------------------------------ special files
def test_a_fifo_session_is_refused_without_blocking(fifo: Path) -> None:
    error = finishes(lambda: load_session(fifo))
    assert isinstance(error, SessionError)
    assert str(fifo) in str(error) and "named pipe" in str(error)


def test_a_fifo_preset_file_is_refused_without_blocking(fifo: Path) -> None:
    error = finishes(lambda: load_presets(fifo))
    assert isinstance(error, ValueError)
    assert str(fifo) in str(error) and "named pipe" in str(error)


@pytest.mark.parametrize(("device", "kind"), [("/dev/null", "character device")])
def test_a_device_session_is_refused(device: str, kind: str) -> None:
    with pytest.raises(SessionError) as info:
        load_session(Path(device))
    assert device in str(info.value) and kind in str(info.value)


def test_a_socket_session_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(SessionError, match="socket"):
            load_session(path)


def test_reading_stops_one_byte_past_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "eleven.bin"
    path.write_bytes(b"x" * 11)
    assert read_regular(path, 11) == b"x" * 11
    with pytest.raises(ReadError, match="at least 11 bytes; at most 10"):
        read_regular(path, 10)


@pytest.mark.faults
def test_dev_zero_is_refused_without_reading_it() -> None:
    """/dev/zero reports size 0 and never ends: without the checks a load eats all memory,
    so this runs in a child with a 1 GiB address-space limit."""
    code = (
        "import resource\n"
        "resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30))\n"
        "from pathlib import Path\n"
        "from gradviz.core.io.session import load_session, SessionError\n"
        "try:\n"
        "    load_session(Path('/dev/zero'))\n"
        "except SessionError as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "/dev/zero" in done.stdout and "character device" in done.stdout


# ------------------------------------------------------------------ hostile JSON
def test_duplicate_keys_are_an_error_even_for_format() -> None:
    text = to_json(SAMPLE).replace('"format":', '"format": "other", "format":', 1)
    assert json.loads(text)["format"] == "gradviz-session"  # plain json: the last one wins
    with pytest.raises(ReadError, match='"format" appears more than once'):
        parse_json(text)


def test_a_session_with_a_duplicate_problem_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "twice.json"
    path.write_text(to_json(SAMPLE).replace('"n": 20', '"n": 20, "n": 30'), encoding="utf-8")
    with pytest.raises(SessionError) as info:
        load_session(path)
    assert str(path) in str(info.value) and '"n" appears more than once' in str(info.value)


def test_duplicate_preset_keys_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "presets.json"
    path.write_text('[{"name": "a", "name": "b"}]', encoding="utf-8")
    with pytest.raises(ValueError, match=r'presets\.json.*"name" appears more than once'):
        load_presets(path)


@pytest.mark.parametrize(
    "text",
    ["[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), '{"a":' * 100_000, "[" * 100_000],
    ids=["one too deep", "100000 objects", "100000 brackets"],
)
def test_nesting_beyond_the_limit_is_refused_before_parsing(text: str) -> None:
    with pytest.raises(ReadError, match=f"deeper than {MAX_JSON_DEPTH}"):
        parse_json(text)


def test_nesting_at_the_limit_and_brackets_in_strings_are_fine() -> None:
    assert parse_json("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH) is not None
    value = "[" * 1000 + '"{'
    assert parse_json(json.dumps({"a": value})) == {"a": value}


# ------------------------------------------------------------------ temporaries
def names(folder: Path) -> list[bytes]:
    return sorted(os.listdir(os.fsencode(folder)))


def test_a_target_name_that_is_not_utf8(tmp_path: Path) -> None:
    target = tmp_path / NOT_UTF8
    save_session(target, SAMPLE)
    assert names(tmp_path) == [b"caf\xe9 \xff.json"]
    assert load_session(target) == SAMPLE


@pytest.mark.parametrize("length", [246, 255])
def test_a_long_legal_name_is_not_rejected_for_its_temporary(tmp_path: Path, length: int) -> None:
    name = "s" * (length - len(".json")) + ".json"
    save_session(tmp_path / name, SAMPLE)
    assert names(tmp_path) == [name.encode()]


def test_a_name_too_long_for_the_file_system_is_refused_up_front(tmp_path: Path) -> None:
    target = tmp_path / ("s" * 4000 + ".png")
    with pytest.raises(SaveError) as info:
        check_target(target)
    message = str(info.value)
    assert "4,004 bytes long" in message and "at most 255" in message
    assert len(message) < 400  # the name is not quoted in full


def test_a_file_as_the_parent_folder_is_refused_up_front(tmp_path: Path) -> None:
    parent = tmp_path / "file"
    parent.write_text("x")
    with pytest.raises(SaveError, match="does not exist"):
        check_target(parent / "out.png")


def test_sigint_during_a_write_removes_the_temporary(tmp_path: Path) -> None:
    # Python's own handler even where the suite was started with SIGINT ignored (a
    # background job of a non-interactive shell inherits SIG_IGN).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    target = tmp_path / "out.json"
    target.write_text("previous")

    def write_then_interrupt(temporary: str) -> None:
        Path(temporary).write_text("half")
        os.kill(os.getpid(), signal.SIGINT)  # Python's handler: KeyboardInterrupt, here

    try:
        with pytest.raises(KeyboardInterrupt):
            write_atomically(target, write_then_interrupt)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert names(tmp_path) == [b"out.json"]
    assert target.read_text() == "previous"


def test_the_temporary_is_short_ascii_in_the_target_folder(tmp_path: Path) -> None:
    seen: list[str] = []
    target = tmp_path / NOT_UTF8
    write_atomically(
        target, lambda temporary: (seen.append(temporary), Path(temporary).write_text("x"))
    )
    (temporary,) = seen
    name = Path(temporary).name
    assert Path(temporary).parent == tmp_path
    assert name.isascii() and name.startswith(".") and len(name) <= 20


# ------------------------------------------------------------------ targets that are not files
def test_a_private_device_node_is_written_through_not_replaced(tmp_path: Path) -> None:
    """As root (containers, CI) os.replace onto /dev/null would make it a regular file."""
    node = tmp_path / "null"
    try:
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # what /dev/null is
    except PermissionError:
        pytest.skip("creating a device node needs CAP_MKNOD")
    save_text(node, "x,y\n1,2\n")
    assert stat.S_ISCHR(node.stat().st_mode) and node.stat().st_rdev == os.makedev(1, 3)
    assert names(tmp_path) == [b"null"]  # no temporary left beside it either


def test_a_fifo_is_written_through_to_its_reader(fifo: Path) -> None:
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    save_text(fifo, "seen through the pipe\n", wait_for_reader=True)
    reader.join(5)
    assert received == [b"seen through the pipe\n"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_fifo_without_a_reader_is_refused_at_once_unless_told_to_wait(fifo: Path) -> None:
    raised = finishes(lambda: save_text(fifo, "nobody reads this"))
    assert isinstance(raised, SaveError) and "no program is reading" in str(raised)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_dev_full_is_an_error_not_a_success() -> None:
    with pytest.raises(SaveError, match="no space left on device"):
        save_text(Path("/dev/full"), "x" * 100_000)
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_a_symlink_is_followed_and_its_target_replaced(tmp_path: Path) -> None:
    real = tmp_path / "data" / "real.csv"
    real.parent.mkdir()
    real.write_text("old")
    os.chmod(real, 0o600)
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    save_text(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new" and stat.S_IMODE(real.stat().st_mode) == 0o600
    assert names(real.parent) == [b"real.csv"]  # the temporary lived in the target's folder


def test_a_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.json"
    link.symlink_to("made.json")
    save_session(link, SAMPLE)
    assert link.is_symlink() and load_session(tmp_path / "made.json") == SAMPLE


@pytest.mark.parametrize("kind", ["socket", "block device"])
def test_a_socket_or_block_device_is_refused_before_any_work(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "target"
    if kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(target))
        server.close()
    else:
        try:
            os.mknod(target, 0o600 | stat.S_IFBLK, os.makedev(7, 0))  # a loop device
        except PermissionError:
            pytest.skip("creating a device node needs CAP_MKNOD")
    with pytest.raises(SaveError, match=f"it is a {kind}"):
        check_target(target)


def test_a_name_with_a_nul_byte_is_a_clear_error_everywhere(tmp_path: Path) -> None:
    """A remembered recent session (settings) can hold one; the OS raises ValueError."""
    named = tmp_path / "lab\0.json"
    with pytest.raises(SessionError, match="NUL byte"):
        load_session(named)
    with pytest.raises(SaveError, match="NUL byte"):
        check_target(named)
    with pytest.raises(SaveError, match="NUL byte"):
        write_atomically(named, lambda temporary: Path(temporary).write_text("x"))
    assert names(tmp_path) == []
