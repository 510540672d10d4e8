"""The results table of a batch: one row per file, CSV or JSON Lines, written as rows finish.

Rows are appended with one ``write`` call each on a file opened for appending, so a crash or
``kill -9`` leaves whole rows and at most one torn row at the very end; resuming cuts that
tail off. Each row carries the file's size and modification time and the settings key (model
weights and pipeline settings) it was read with, which is how a resumed batch knows which files
it can skip.

Columns, in both formats: ``path``, ``text`` (strings joined by newlines), ``lines`` (the
strings; a JSON list, or space-separated in CSV), ``digits``, ``mean_confidence``,
``min_confidence`` (empty/null without digits), ``seconds``, ``error`` (empty/null when the
file was read), ``size``, ``mtime_ns``, ``settings``.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from digitscan.errors import ConfigError, InputError
from digitscan.types import FileResult

log = logging.getLogger(__name__)

COLUMNS = (
    "path",
    "text",
    "lines",
    "digits",
    "mean_confidence",
    "min_confidence",
    "seconds",
    "error",
    "size",
    "mtime_ns",
    "settings",
)
FORMATS = ("csv", "jsonl")
#: What ends a row: CSV rows end in CRLF (RFC 4180) and a text cell holds bare LFs, so the last
#: CRLF of a file ends its last whole row; JSON Lines escape newlines inside a row.
_ROW_END = {"csv": b"\r\n", "jsonl": b"\n"}
#: Flush rows to the disk itself at most this often (seconds); every row reaches the OS at once.
_FSYNC_EVERY_S = 1.0


def file_key(path: Path | str) -> str:
    """How a table names a file: its absolute path, with ``..`` resolved but not symlinks."""
    return os.path.abspath(path)  # noqa: PTH100 (Path.resolve would follow symlinks)


def format_of(path: Path, explicit: str | None = None) -> str:
    """The table format: ``explicit``, else from the suffix (``.csv``, ``.jsonl``/``.ndjson``).

    Raises:
        ConfigError: Neither says csv or jsonl.
    """
    if explicit is not None:
        fmt = explicit.lower()
    else:
        fmt = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}.get(path.suffix.lower(), "")
    if fmt not in FORMATS:
        raise ConfigError(
            f"{path}: cannot tell the output format from the suffix; "
            "name it .csv or .jsonl, or pass --format csv|jsonl"
        )
    return fmt


def to_row(result: FileResult, settings: str) -> dict[str, Any]:
    """A result as a table row (the JSON Lines object; CSV flattens ``lines``)."""
    reading = result.reading
    strings = [line.text for line in reading.lines] if reading is not None else []
    confidences = [d.confidence for line in reading.lines for d in line.digits] if reading else []
    return {
        "path": str(result.path),
        "text": "\n".join(strings),
        "lines": strings,
        "digits": len(confidences),
        "mean_confidence": round(sum(confidences) / len(confidences), 4) if confidences else None,
        "min_confidence": round(min(confidences), 4) if confidences else None,
        "seconds": round(result.seconds, 4),
        "error": None if result.error is None else _message(result.error),
        "size": result.size,
        "mtime_ns": result.mtime_ns,
        "settings": settings,
    }


def _message(error: Exception) -> str:
    return getattr(error, "message", None) or str(error)


def encode_row(row: dict[str, Any], fmt: str) -> bytes:
    """One row as the bytes appended to the table, its end marker included."""
    if fmt == "jsonl":
        return (json.dumps(row, ensure_ascii=False) + "\n").encode()
    cells = dict(row, lines=" ".join(row["lines"]))
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(
        "" if cells[c] is None else cells[c] for c in COLUMNS
    )
    return buffer.getvalue().encode()


def _header(fmt: str) -> bytes:
    if fmt == "jsonl":
        return b""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(COLUMNS)
    return buffer.getvalue().encode()


@dataclass(frozen=True, slots=True)
class PreviousRow:
    """A row already in the table: what a resumed batch compares a file against."""

    size: int
    mtime_ns: int
    settings: str
    failed: bool
    raw: bytes


def read_table(path: Path, fmt: str) -> tuple[dict[str, PreviousRow], bool]:
    """The rows of an existing table by absolute file path, and whether it needs repair.

    A torn last row (a crash mid-write) and rows that do not parse are left out; the flag
    says the file should be rewritten without them.

    Raises:
        InputError: The table exists but cannot be read, or is not a digitscan table.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}, False
    except OSError as exc:
        raise InputError(
            f"cannot read the results table ({exc.strerror or exc})", path=path
        ) from None
    if data and not _looks_like_table(data, fmt):
        raise InputError(
            "not a digitscan results table; choose another --output or pass --overwrite",
            path=path,
        )
    end = _ROW_END[fmt]
    whole = data[: data.rfind(end) + len(end)] if end in data else b""
    damaged = len(whole) != len(data)
    rows: dict[str, PreviousRow] = {}
    for raw in _split_rows(whole, fmt):
        try:
            row = _parse(raw, fmt)
            key = file_key(row["path"])
            rows[key] = PreviousRow(
                int(row["size"]),
                int(row["mtime_ns"]),
                str(row["settings"]),
                bool(row["error"]),
                raw,
            )
        except (ValueError, KeyError, TypeError, csv.Error):
            log.warning("%s: dropping a row that does not parse: %.60r", path, raw)
            damaged = True
    return rows, damaged


def _looks_like_table(data: bytes, fmt: str) -> bool:
    """Whether a file starts as a table of ours does (a crash may have torn even that)."""
    start = _header(fmt) if fmt == "csv" else b'{"path": '
    return data.startswith(start) or start.startswith(data)


def _split_rows(data: bytes, fmt: str) -> list[bytes]:
    if fmt == "jsonl":
        return [line + b"\n" for line in data.split(b"\n") if line.strip()]
    body = data[len(_header(fmt)) :]
    return [chunk + b"\r\n" for chunk in body.split(b"\r\n") if chunk]


def _parse(raw: bytes, fmt: str) -> dict[str, Any]:
    if fmt == "jsonl":
        row = json.loads(raw)
        if not isinstance(row, dict):
            raise ValueError("not an object")
        return row
    (cells,) = list(csv.reader(io.StringIO(raw.decode(), newline="")))
    if len(cells) != len(COLUMNS):
        raise ValueError("wrong number of cells")
    return dict(zip(COLUMNS, cells, strict=True))


class ResultTable:
    """An open results table: appends rows atomically, knows which files are already done.

    Args:
        path: The table file.
        fmt: ``"csv"`` or ``"jsonl"``.
        settings: The settings key of this run (model and pipeline settings).
        resume: Keep the rows already there and skip their files when unchanged.
        retry_failed: With ``resume``, read files whose row is an error again even if they
            have not changed (a permission since fixed, a file that was still being copied).
        overwrite: Replace an existing table. Without ``resume`` or ``overwrite`` an existing,
            non-empty table is an error: a batch never destroys earlier results by accident.

    Raises:
        ConfigError: The table exists and neither ``resume`` nor ``overwrite`` was given.
        InputError: The table cannot be read, written, or is not a digitscan table.
    """

    def __init__(
        self,
        path: Path,
        fmt: str,
        settings: str,
        *,
        resume: bool = False,
        overwrite: bool = False,
        retry_failed: bool = False,
    ) -> None:
        self.path, self.fmt, self.settings = path, fmt, settings
        self.retry_failed = retry_failed
        self.previous: dict[str, PreviousRow] = {}
        self._fd: int | None = None
        self._last_sync = time.monotonic()
        exists = path.exists() and path.stat().st_size > 0
        if exists and not (resume or overwrite):
            raise ConfigError(
                f"{path}: the results table already exists; pass --resume to continue it "
                "or --overwrite to replace it"
            )
        damaged = False
        if exists and resume:
            self.previous, damaged = read_table(path, fmt)
        self._damaged = damaged or (exists and overwrite and not resume)

    def is_done(self, file: Path, size: int, mtime_ns: int) -> bool:
        """Whether ``file`` already has a row made with these settings from the same file."""
        row = self.previous.get(file_key(file))
        if row is None or (row.failed and self.retry_failed):
            return False
        return (row.size, row.mtime_ns, row.settings) == (size, mtime_ns, self.settings)

    def open(self, redo: list[Path]) -> None:
        """Start appending; first drop the rows of ``redo`` (files to read again) if any.

        Dropping rows, cutting a torn tail or starting over rewrites the table into a
        temporary file that then replaces it, so the old rows survive any crash meanwhile.
        """
        stale = {file_key(p) for p in redo} & self.previous.keys()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if stale or self._damaged or not self.path.exists():
                kept = [row.raw for key, row in self.previous.items() if key not in stale]
                temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
                with temporary.open("wb") as out:
                    out.write(_header(self.fmt) + b"".join(kept))
                    out.flush()
                    os.fsync(out.fileno())
                temporary.replace(self.path)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        except OSError as exc:
            raise InputError(
                f"cannot write the results table ({exc.strerror or exc})", path=self.path
            ) from None

    def write(self, result: FileResult) -> None:
        """Append one row (whole or not at all, as far as other processes and crashes see)."""
        assert self._fd is not None, "open() the table first"
        data = memoryview(encode_row(to_row(result, self.settings), self.fmt))
        while data:
            data = data[os.write(self._fd, data) :]
        if time.monotonic() - self._last_sync > _FSYNC_EVERY_S:
            os.fsync(self._fd)
            self._last_sync = time.monotonic()

    def close(self) -> None:
        """Flush the rows to disk and close the file."""
        if self._fd is not None:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None
