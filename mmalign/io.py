"""The one JSONL module, and atomic writes (docs/data-format.md, "Bad records").

Reading:
- `iter_jsonl(path)` yields `(line number, value)` for each non-blank line; a line that is not JSON yields a
  `MalformedLine` in place of the value, so a reader that skips bad lines can count it and go on.
- `numbered_jsonl(path)` / `read_jsonl(path)` are strict: a malformed line raises DataError "file:line: ...".
- Malformed includes what `json.loads` lets through or fails on in other ways: bytes that are not UTF-8, a
  number with more digits than Python converts, nesting deeper than the parser recurses, half a surrogate
  pair (`"\\ud800"`, which no UTF-8 file can hold). `loads` / `raw_decode` are json's, with all of these
  raised as `json.JSONDecodeError`; a byte-order mark at the start of a file is passed over.

Files that grow while a command runs (pair building, predictions, metrics) are appended a line at a time
with `JsonlAppender`; on resume `resume_jsonl(path)` cuts a torn last line (the run died mid-write) off the
file and returns the complete lines. A full disk while writing is one MMAlignError that names the file and
keeps what was written before (`disk_full_error`). Every other output is written to a temporary name and
renamed; `temp_file_beside(path)` makes that temporary file with the mode a plain `open` would give
(0666 & ~umask), not mkstemp's 0600, so renamed outputs are as readable as the rest.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from . import faults
from .errors import DataError, MMAlignError


@dataclass(frozen=True)
class MalformedLine:
    """A line of a JSONL file that is not valid JSON; `message` says why (without the file and line)."""

    message: str


def check_data_file(path: str | Path, what: str = "data file") -> Path:
    """`path` as a Path when it is a readable file with something in it; else a DataError a user can act on
    (not found, a folder, empty). Cheap: reads only up to the first non-blank byte."""
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path}: is a folder, not a {what}; give the file itself")
    if not path.is_file():
        raise DataError(f"{path}: {what} not found")
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 16):
                if chunk.strip():
                    return path
    except OSError as exc:
        raise DataError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None
    raise DataError(f"{path}: the file is empty (no records)")


_DECODER = json.JSONDecoder()
# Bytes that are not UTF-8, as `errors="surrogateescape"` decodes them (valid UTF-8 never gives these).
_UNDECODABLE = re.compile("[\udc80-\udcff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_BLANKS = re.compile(r"[ \t\n\r]*")  # what JSON counts as whitespace
BOM = "\ufeff"


def raw_decode(text: str, pos: int = 0) -> tuple[Any, int]:
    """`json.JSONDecoder().raw_decode(text, pos)`, every malformed document raising json.JSONDecodeError."""
    try:
        value, end = _DECODER.raw_decode(text, pos)
    except json.JSONDecodeError:
        raise
    except ValueError:  # an integer longer than sys.get_int_max_str_digits()
        limit = sys.get_int_max_str_digits()
        found = re.compile(rf"\d{{{limit + 1},}}").search(text, pos)
        raise json.JSONDecodeError(f"a number with more than {limit} digits", text,
                                   found.start() if found else pos) from None
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", text, pos) from None
    found = _SURROGATE_ESCAPE.search(text, pos, end)
    if found:  # rare: check that every escaped surrogate is half of a pair that json joined into a character
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            half = exc.object[exc.start:exc.end]
            half = half.encode("unicode_escape").decode()
            raise json.JSONDecodeError(f"{half} is half of a surrogate pair, not a character", text,
                                       found.start()) from None
    return value, end


def loads(text: str) -> Any:
    """`json.loads(text)`, every malformed document raising json.JSONDecodeError (see `raw_decode`)."""
    value, end = raw_decode(text, _BLANKS.match(text).end())
    end = _BLANKS.match(text, end).end()
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return value


def read_utf8(path: str | Path) -> str:
    """The text of `path` without a leading byte-order mark; bytes that are not UTF-8 raise DataError
    "file:line: not UTF-8 text (byte 0x.. at column N)"."""
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = raw.count(b"\n", 0, exc.start) + 1, exc.start - raw.rfind(b"\n", 0, exc.start)
        byte = raw[exc.start]
        raise DataError(f"{path}:{line}: not UTF-8 text (byte 0x{byte:02x} at column {column})") from None
    return text.removeprefix(BOM)


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, Any]]:
    """(line number, parsed value or MalformedLine) for each non-blank line of `path`."""
    with open(path, encoding="utf-8", errors="surrogateescape") as fh:
        for lineno, line in enumerate(fh, start=1):
            if lineno == 1:
                line = line.removeprefix(BOM)
            if not line.strip():
                continue
            bad = _UNDECODABLE.search(line)
            if bad:
                value = MalformedLine(f"not UTF-8 text (byte 0x{ord(bad.group()) - 0xDC00:02x} at column "
                                      f"{bad.start() + 1})")
            else:
                try:
                    value = loads(line)
                except json.JSONDecodeError as exc:
                    value = MalformedLine(f"malformed JSON ({exc.msg} at column {exc.colno})")
            yield lineno, value


def numbered_jsonl(path: str | Path) -> Iterator[tuple[int, Any]]:
    """(line number, parsed value) for each non-blank line; a malformed line raises DataError naming it."""
    for lineno, value in iter_jsonl(path):
        if isinstance(value, MalformedLine):
            raise DataError(f"{path}:{lineno}: {value.message}")
        yield lineno, value


def read_jsonl(path: str | Path, limit: int | None = None) -> list:
    """The first `limit` (default all) non-blank lines of a JSONL file, parsed strictly."""
    return [value for _, value in islice(numbered_jsonl(path), limit)]


def resume_jsonl(path: str | Path) -> list:
    """The complete lines of a file that grows line by line (none if it does not exist yet).

    A torn last line (no trailing newline: the writer died mid-line) is cut off the file so that appending
    goes on from a clean line end. Any other malformed line raises DataError naming it.
    """
    path = Path(path)
    if not path.is_file():
        return []
    size = path.stat().st_size
    if size:
        with open(path, "rb") as fh:
            fh.seek(size - 1)
            torn = fh.read(1) != b"\n"
        if torn:
            raw = path.read_bytes()
            with open(path, "r+b") as fh:
                fh.truncate(raw.rfind(b"\n") + 1)
    try:
        return read_jsonl(path)
    except DataError as exc:
        raise DataError(f"{exc}; move the file away to start over") from None


def clean_json(value: Any) -> Any:
    """NaN/inf floats become None so every line is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_json(v) for v in value]
    return value


class JsonlAppender:
    """Append JSON objects to a file, one line each, written straight to the OS (use `resume_jsonl` first
    on a resumed run): a killed process leaves whole lines, and at most one torn last line.

    `fsync=True` also forces each write to disk: for files whose lines are expensive to recompute.
    `fault`: the name of the fault point (`mmalign.faults`) passed after each line, for crash tests.
    A full disk (or a file-size limit) is an MMAlignError saying so; the lines written before it are kept
    whole (a half-written one is cut off), so rerunning the command resumes. Usable as a context manager.
    """

    def __init__(self, path: str | Path, *, fsync: bool = False, fault: str | None = None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fsync = fsync
        self._fault = fault if fault and faults.armed(fault) else None
        self._torn = faults.armed("torn-line")
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)

    def write(self, obj: Any) -> None:
        self.write_many([obj])

    def write_many(self, objs: Iterable[Any]) -> None:
        lines = [json.dumps(clean_json(o), ensure_ascii=False) + "\n" for o in objs]
        if not (self._fault or self._torn):
            self._write("".join(lines).encode("utf-8"))
            return
        for line in lines:  # a crash test: line by line, with the fault points between them
            data = line.encode("utf-8")
            if self._torn and faults.reached("torn-line"):
                self._write(data[:len(data) // 2])
                faults.die()
            self._write(data)
            if self._fault:
                faults.fault_point(self._fault)

    def _write(self, data: bytes) -> None:
        if self._fd is None:
            raise ValueError(f"{self.path}: the appender is closed")
        start = os.lseek(self._fd, 0, os.SEEK_END)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view):]
            if self._fsync:
                os.fsync(self._fd)
        except OSError as exc:
            try:
                os.ftruncate(self._fd, start)  # no torn line left behind; truncating needs no space
            except OSError:
                pass
            if is_disk_full(exc):
                raise disk_full_error(self.path, exc, kept="the lines written before are kept") from None
            raise

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# What a full disk, a full quota or a file-size limit (RLIMIT_FSIZE) raise.
DISK_FULL = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in DISK_FULL


def disk_full_error(path: str | Path | None, exc: OSError, kept: str = "") -> MMAlignError:
    """The one message for a write that ran out of space: the file, the OS's reason, what is kept."""
    where = f" {path}" if path else ""
    kept = f"; {kept}" if kept else ""
    return MMAlignError(f"could not write{where}: disk full ({exc.strerror or exc}){kept}. Free some space "
                        "and rerun the same command: it goes on from what is written")


def current_umask() -> int:
    """The process's umask, read without changing it where Linux shows it (/proc/self/status)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore (not thread-safe, but brief)
    os.umask(mask)
    return mask


def temp_file_beside(path: str | Path) -> tuple[int, str]:
    """(fd, name) of a new temporary file next to `path`, for writing and then `os.replace`-ing onto it.

    mkstemp creates files 0600; this gives them 0666 & ~umask, the mode a plain `open(path, "w")` gives.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
    except BaseException:
        os.close(fd)
        Path(tmp).unlink(missing_ok=True)
        raise
    return fd, tmp


# The names `temp_file_beside` gives: ".NAME.<8 random characters>.tmp".
_TEMP_NAME = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")


def remove_stale_temp_files(folder: str | Path) -> int:
    """Delete the temporary files that writes killed before their rename left under `folder` (a command
    calls this on its output folder before it resumes); returns how many. Only names `temp_file_beside`
    gives are touched."""
    removed = 0
    for path in Path(folder).rglob(".*.tmp"):
        if path.is_file() and not path.is_symlink() and _TEMP_NAME.fullmatch(path.name):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def umask_modes(folder: str | Path) -> None:
    """Give every file under `folder` the mode a plain open() gives (0666 & ~umask): for folders written by
    libraries that create some files 0600 (safetensors' adapter weights), before they are renamed into place."""
    mode = 0o666 & ~current_umask()
    for path in Path(folder).rglob("*"):
        if path.is_file() and not path.is_symlink() and stat.S_IMODE(path.stat().st_mode) != mode:
            path.chmod(mode)


def write_text_atomic(path: str | Path, text: str) -> None:
    path = Path(path)
    fd, tmp = temp_file_beside(path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if is_disk_full(exc):
            raise disk_full_error(path, exc, kept="the file is as it was before") from None
        raise


def write_json_atomic(path: str | Path, obj: Any) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def write_jsonl_atomic(path: str | Path, rows: Iterable[Any]) -> None:
    write_text_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
