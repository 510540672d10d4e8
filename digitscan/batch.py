"""Reading many files: finding them, reading each in a worker, yielding results as they finish.

- :func:`list_images` finds the files of a folder (optionally recursive, optionally by glob),
  safe against symlink loops; a folder that cannot be listed is reported, not skipped.
- :func:`read_many` reads files in parallel with joblib (loky processes on this machine, or an
  existing Dask cluster through joblib's Dask backend) and yields one :class:`FileResult` per
  file, in the order they finish. A file that cannot be read gives a result with its error;
  the run goes on.

Each worker caps OpenCV's and the BLAS libraries' threads at one: a job is one core. Left
alone, every worker's OpenCV and NumPy start a thread per core and two workers on two cores
fight each other (we measured 50x slowdowns). The model is loaded once per worker process
(:func:`digitscan.api.get_model` caches it) and digits are classified in one batch per image.

Example:
    >>> from digitscan.batch import list_images, read_many
    >>> for result in read_many(list_images("samples"), jobs=2):  # doctest: +SKIP
    ...     print(result.path, result.reading.text if result.ok else result.error)
"""

from __future__ import annotations

import contextlib
import fnmatch
import itertools
import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digitscan.config import ScanConfig
from digitscan.errors import ConfigError, DigitscanError, ExitCode, InputError
from digitscan.io import IMAGE_SUFFIXES
from digitscan.types import FileResult

if TYPE_CHECKING:
    from digitscan.results import ResultTable

log = logging.getLogger(__name__)


def list_images(
    folder: Path | str, *, recursive: bool = False, pattern: str | None = None
) -> tuple[list[Path], list[FileResult]]:
    """The image files of a folder, sorted, and the sub-folders that could not be listed.

    Args:
        folder: Where to look.
        recursive: Also look in sub-folders (symlinked ones too, each real folder once, so a
            symlink loop ends).
        pattern: A glob matched against each file's path relative to ``folder`` (``*.png``,
            ``2024-*/*.jpg``); by default any file with an image suffix (:data:`IMAGE_SUFFIXES`).
            Whatever matches is listed, even if it is a broken link: reading it reports why.

    Returns:
        ``(files, unlistable)``: the matching files, sorted; and one failed result per
        sub-folder that could not be listed (permission denied...).

    Raises:
        InputError: ``folder`` itself is missing, not a folder, or cannot be listed.
    """
    root = Path(folder)
    if not root.is_dir():
        reason = "no such folder" if not root.exists() else "not a folder"
        raise InputError(reason, path=root)
    files: list[Path] = []
    unlistable: list[FileResult] = []
    seen: set[tuple[int, int]] = set()
    pending = [root]
    while pending:
        current = pending.pop()
        try:
            info = current.stat()
            if (info.st_dev, info.st_ino) in seen:
                continue  # reached again through a symlink: a loop, or a second way in
            seen.add((info.st_dev, info.st_ino))
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError as exc:
            error = InputError(f"cannot list folder ({exc.strerror or exc})", path=current)
            if current == root:
                raise error from None
            unlistable.append(FileResult(current, None, error, 0.0))
            continue
        for entry in entries:
            path = Path(entry.path)
            if _is_dir(entry):
                if recursive:
                    pending.append(path)
                continue
            if _matches(path.relative_to(root), pattern):
                files.append(path)
    return sorted(files), unlistable


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()  # follows symlinks; a broken or looping link is not a folder
    except OSError:
        return False


def _matches(relative: Path, pattern: str | None) -> bool:
    if pattern is None:
        return relative.suffix.lower() in IMAGE_SUFFIXES
    return fnmatch.fnmatch(relative.as_posix(), pattern) or fnmatch.fnmatch(relative.name, pattern)


def read_file(path: Path, config: ScanConfig, model: str) -> FileResult:
    """Read one file for a batch; never raises for a bad file (the error is in the result).

    Args:
        path: The image file.
        config: Pipeline settings.
        model: The model's name or path (loaded once per process).

    Returns:
        The :class:`FileResult`, with the file's size and modification time as read.
    """
    from digitscan import api

    start = time.perf_counter()
    size = mtime_ns = -1
    try:
        info = path.stat()
        size, mtime_ns = info.st_size, info.st_mtime_ns
        if not stat.S_ISREG(info.st_mode):
            raise InputError("not a regular file", path=path)
        reading = api.read(path, config=config, model=model)
        error: Exception | None = None
    except DigitscanError as exc:
        reading, error = None, exc
    except OSError as exc:  # stat failed: a broken or looping symlink, a vanished file
        reading, error = None, InputError(f"cannot read ({exc.strerror or exc})", path=path)
    except MemoryError:
        reading, error = None, InputError("out of memory while reading", path=path)
    except Exception as exc:  # noqa: BLE001 (one bad file never stops a batch)
        log.debug("%s: unexpected error", path, exc_info=True)
        reading, error = (
            None,
            InputError(f"internal error ({type(exc).__name__}: {exc})", path=path),
        )
    return FileResult(path, reading, error, time.perf_counter() - start, size, mtime_ns)


_worker_ready = False


def _read_in_worker(
    path: Path, config: ScanConfig, model: str, *, local: bool = True
) -> FileResult:
    """:func:`read_file` in a worker process, its threads capped at one (once per process).

    A local (loky) worker also ends itself when the batch process dies; Dask workers belong
    to their cluster and are left alone.
    """
    global _worker_ready
    if not _worker_ready:
        import cv2
        from threadpoolctl import threadpool_limits

        cv2.setNumThreads(1)
        threadpool_limits(1)
        if local:
            threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
        _worker_ready = True
    return read_file(path, config, model)


def _exit_with_parent(parent: int, every_s: float = 0.5) -> None:
    """End this worker soon after its parent dies (``kill -9`` leaves no orphans reading)."""
    while os.getppid() == parent:
        time.sleep(every_s)
    os._exit(1)


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Cap this process at one thread for a while (``jobs=1``), then restore the settings."""
    import cv2
    from threadpoolctl import threadpool_limits

    before = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        cv2.setNumThreads(before)


def read_many(
    paths: Iterable[Path | str],
    *,
    jobs: int | None = None,
    config: ScanConfig | None = None,
    model: str | Path = "convnet",
    scheduler: str | None = None,
) -> Iterator[FileResult]:
    """Read many files in parallel; yield one result per file as each finishes.

    Args:
        paths: Image files.
        jobs: Worker processes (None or -1: one per core; 1: in this process, no workers).
            With ``scheduler``, the number of tasks in flight at once (None: the cluster's).
        config: Pipeline settings (default ``ScanConfig()``).
        model: Model name or path; loaded here first (so a bad model fails before any file)
            and then once in each worker.
        scheduler: Address of a Dask scheduler (``tcp://host:8786``) to run on instead of
            local processes; needs ``pip install digitscan[cluster]``, and every worker must
            see the files at the same paths.

    Returns:
        An iterator of :class:`FileResult`, one per file, in the order they finish (not the
        order given). The model and the scheduler are checked at once, before any file.

    Raises:
        ModelError: The model cannot be loaded.
        ConfigError: ``jobs`` is 0 or below -1, or Dask is not installed.
        InputError: The Dask scheduler cannot be reached.
    """
    from digitscan import api

    if jobs is not None and (jobs == 0 or jobs < -1):
        raise ConfigError(f"`jobs` must be a positive number of workers or -1, got {jobs}")
    api.get_model(model)
    client = _connect(scheduler) if scheduler is not None else None
    return _results([Path(p) for p in paths], jobs, config or ScanConfig(), str(model), client)


def _results(
    paths: list[Path], jobs: int | None, config: ScanConfig, model: str, client: Any
) -> Iterator[FileResult]:
    from joblib import Parallel, delayed, parallel_config

    if client is None and (jobs == 1 or len(paths) <= 1):
        with _one_thread():
            for path in paths:
                yield read_file(path, config, model)
        return
    local = client is None
    tasks = (delayed(_read_in_worker)(path, config, model, local=local) for path in paths)
    backend = (
        {"backend": "loky", "inner_max_num_threads": 1} if client is None else {"backend": "dask"}
    )
    try:
        with parallel_config(**backend):
            yield from Parallel(n_jobs=jobs or -1, return_as="generator_unordered")(tasks)
    finally:
        if client is not None:
            client.close()


def _connect(scheduler: str):  # -> distributed.Client (optional dependency)
    try:
        from distributed import Client
    except ImportError:
        raise ConfigError(
            "a Dask scheduler needs the cluster extra: pip install 'digitscan[cluster]'"
        ) from None
    try:
        return Client(scheduler, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise InputError(f"cannot reach the Dask scheduler at {scheduler} ({exc})") from None


def settings_key(config: ScanConfig, model: str | Path) -> str:
    """What a result depends on besides the file: the model's weights and every setting."""
    from digitscan import api

    card = getattr(api.get_model(model), "card_", None) or {}
    weights = str(card.get("sha256", ""))[:12] or str(model)
    return f"{weights}-{config.key()}"


@dataclass
class BatchSummary:
    """Counts of a batch run; the CLI prints it and takes its exit code from it.

    Attributes:
        found: Files listed (folders that could not be listed count as failed files).
        skipped: Files already in the table, unchanged, with the same settings.
        read: Files read (a page with no digits counts as read).
        failed: Files that could not be read, each with its error row.
        digits: Digits read in all files.
        seconds: Wall time of the run.
        interrupted: The run was stopped (Ctrl-C) before every file was done.
    """

    found: int = 0
    skipped: int = 0
    read: int = 0
    failed: int = 0
    digits: int = 0
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def exit_code(self) -> ExitCode:
        """130 if interrupted, 1 if any file failed, else 0."""
        if self.interrupted:
            return ExitCode.ctrl_c
        return ExitCode.some_inputs_failed if self.failed else ExitCode.ok

    def __str__(self) -> str:
        done = self.read + self.failed
        rate = f"{self.digits / self.seconds:,.0f} digits/s, {done / self.seconds:.1f} files/s"
        text = (
            f"{self.read} read, {self.failed} failed, {self.skipped} skipped (already done); "
            f"{self.digits} digits in {self.seconds:.1f} s ({rate if self.seconds else '-'})"
        )
        if self.interrupted:
            left = self.found - self.skipped - done
            text += f"; interrupted with {left} files left (rerun with --resume to finish)"
        return text


def run_batch(
    folder: Path | str,
    output: Path | str,
    *,
    fmt: str | None = None,
    recursive: bool = False,
    pattern: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
    retry_failed: bool = False,
    jobs: int | None = None,
    config: ScanConfig | None = None,
    model: str | Path = "convnet",
    scheduler: str | None = None,
    on_start: Callable[[int], None] | None = None,
    on_result: Callable[[FileResult], None] | None = None,
) -> BatchSummary:
    """Read every image in a folder into a results table (``digitscan batch``).

    Rows are written as files finish; Ctrl-C stops after the rows already finished are safely
    written (the summary then says ``interrupted``). See :mod:`digitscan.results` for the
    table and :func:`read_many` for the options shared with it.

    Args:
        folder: The folder of photos or scans.
        output: The results table (``.csv`` or ``.jsonl``, or as ``fmt`` says).
        fmt: ``"csv"`` or ``"jsonl"`` (default: from the suffix of ``output``).
        recursive: Also read sub-folders.
        pattern: Glob for the files to read (default: any image suffix).
        resume: Keep the table's rows and skip their files if unchanged (same size, mtime
            and settings); changed files are read again and their old rows replaced.
        overwrite: Replace an existing table.
        retry_failed: With ``resume``, also read again the files whose rows are errors.
        jobs: Worker processes (default: one per core).
        config: Pipeline settings.
        model: Model name or path.
        scheduler: Dask scheduler address to run on a cluster.
        on_start: Called once with the number of files to read (for a progress bar).
        on_result: Called with each result after its row is written.

    Returns:
        The :class:`BatchSummary`.

    Raises:
        InputError: The folder cannot be listed, or the table cannot be written.
        ConfigError: The table exists without ``resume``/``overwrite``; bad format.
        ModelError: The model cannot be loaded.
    """
    from digitscan.results import ResultTable, file_key, format_of

    start = time.perf_counter()
    config = config or ScanConfig()
    output = Path(output)
    table = ResultTable(
        output,
        format_of(output, fmt),
        settings_key(config, model),
        resume=resume,
        overwrite=overwrite,
        retry_failed=retry_failed,
    )
    files, unlistable = list_images(folder, recursive=recursive, pattern=pattern)
    files = [f for f in files if file_key(f) != file_key(output)]
    todo = [f for f in files if not _unchanged(table, f)]
    summary = BatchSummary(found=len(files) + len(unlistable), skipped=len(files) - len(todo))
    results = read_many(todo, jobs=jobs, config=config, model=model, scheduler=scheduler)
    table.open(redo=todo)
    if on_start is not None:
        on_start(len(todo) + len(unlistable))
    try:
        for result in itertools.chain(unlistable, results):
            table.write(result)
            if result.ok:
                summary.read += 1
                summary.digits += sum(len(line.digits) for line in result.reading.lines)
            else:
                summary.failed += 1
                log.warning("%s", result.error)
            if on_result is not None:
                on_result(result)
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        results.close()
        table.close()
        summary.seconds = time.perf_counter() - start
    return summary


def _unchanged(table: ResultTable, file: Path) -> bool:
    try:
        info = file.stat()
    except OSError:
        return False
    return table.is_done(file, info.st_size, info.st_mtime_ns)
