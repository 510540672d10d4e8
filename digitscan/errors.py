"""Every error digitscan raises, and the exit code each one maps to.

All exceptions derive from :class:`DigitscanError`, so a caller can catch any digitscan failure
with one ``except`` clause. Each class carries the process exit code the CLI uses for it; only
``digitscan.cli`` turns exceptions into exit codes and messages.
"""

from __future__ import annotations

from enum import IntEnum, unique
from pathlib import Path


@unique
class ExitCode(IntEnum):
    """Process exit codes of the ``digitscan`` command."""

    ok = 0
    some_inputs_failed = 1  # batch or multi-file run: at least one input failed, others went on
    bad_args = 2  # click's own code for usage errors
    input_file = 3  # an input image or data file is missing, unreadable or corrupt
    model = 4  # a model file is missing, corrupt or does not match its card
    ctrl_c = 130  # 128 + SIGINT, as shells report it


class DigitscanError(Exception):
    """Base of every digitscan error.

    Args:
        message: What went wrong and, where there is one, what to do about it.
        path: The file the error is about, if any; the CLI prints it first.
    """

    exit_code: ExitCode = ExitCode.bad_args

    def __init__(self, message: str, *, path: Path | str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = None if path is None else Path(path)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path is not None else self.message

    def __reduce__(self) -> tuple:
        # Batch workers send errors back to the parent process: keep the path across pickling.
        return (_rebuild, (type(self), self.message, self.path))


def _rebuild(cls: type[DigitscanError], message: str, path: Path | None) -> DigitscanError:
    return cls(message, path=path)


class InputError(DigitscanError):
    """An input image is missing, unreadable or not an image."""

    exit_code = ExitCode.input_file


class DataError(DigitscanError):
    """A data set file (IDX) is missing, truncated, corrupt or of the wrong kind."""

    exit_code = ExitCode.input_file


class ModelError(DigitscanError):
    """A model is missing, corrupt, or does not match its card."""

    exit_code = ExitCode.model


class ConfigError(DigitscanError, ValueError):
    """An argument given to the library has the wrong type, shape or value."""

    exit_code = ExitCode.bad_args


class NotFittedError(ConfigError, AttributeError):
    """A classifier was used before ``fit`` (scikit-learn raises the same kind of error)."""


def read_bytes(path: Path, error: type[DigitscanError]) -> bytes:
    """A file's bytes; any failure becomes ``error`` naming the file and the reason."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise error("no such file", path=path) from None
    except IsADirectoryError:
        raise error("is a folder, not a file", path=path) from None
    except PermissionError:
        raise error("permission denied", path=path) from None
    except OSError as exc:
        raise error(f"cannot read ({exc.strerror or exc})", path=path) from None
