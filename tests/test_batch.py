"""``digitscan batch`` and ``read_many``: every file gets one row, nothing is lost."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from digitscan.batch import list_images, read_many
from digitscan.errors import InputError
from digitscan.results import COLUMNS

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
GOOD = ["plain-05.jpg", "sticky-04.jpg", "form-01.jpg"]


def expected(name: str) -> str:
    return "\n".join((SAMPLES / name).with_suffix(".gt.txt").read_text().split())


def huge_png(path: Path, side: int = 20_000) -> None:
    """A valid blank grey PNG of side x side pixels (400 MP), written row by row (~0.4 MB)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    packer = zlib.compressobj(9)
    row = b"\x00" + b"\xff" * side
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Good photos (one in a sub-folder) and every kind of bad file the issue lists."""
    root = tmp_path_factory.mktemp("batch") / "photos"
    (root / "sub").mkdir(parents=True)
    shutil.copy(SAMPLES / GOOD[0], root / GOOD[0])
    shutil.copy(SAMPLES / GOOD[1], root / GOOD[1])
    shutil.copy(SAMPLES / GOOD[2], root / "sub" / GOOD[2])
    (root / "zero.jpg").write_bytes(b"")
    (root / "truncated.jpg").write_bytes((SAMPLES / GOOD[0]).read_bytes()[:3000])
    (root / "notes.jpg").write_text("not a photo\n")
    (root / "loop.jpg").symlink_to("loop.jpg")  # a symlink to itself
    (root / "sub" / "up").symlink_to("..")  # a folder loop
    (root / "readme.txt").write_text("not an image suffix: not listed\n")
    huge_png(root / "huge.png")
    return root


BAD = {
    "zero.jpg": "0 bytes",
    "truncated.jpg": "cannot decode",
    "notes.jpg": "cannot decode",
    "loop.jpg": "symbolic links",
    "huge.png": "too large",
}


def rows_of(table: Path) -> list[dict]:
    if table.suffix == ".csv":
        with table.open(newline="") as f:
            rows = list(csv.DictReader(f))
        for row in rows:
            row["lines"] = row["lines"].split()
            row["error"] = row["error"] or None
        return rows
    return [json.loads(line) for line in table.read_text().splitlines()]


def by_name(rows: list[dict]) -> dict[str, dict]:
    names = [Path(r["path"]).name for r in rows]
    assert len(names) == len(set(names)), "a file appears more than once"
    return dict(zip(names, rows, strict=True))


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_every_file_gets_one_row(run_cli, folder: Path, tmp_path: Path, suffix: str) -> None:
    table = tmp_path / f"results{suffix}"
    result = run_cli("batch", folder, "--recursive", "--output", table, "--jobs", "2")
    assert result.exit_code == 1  # some files failed, the others were read
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert "3 read, 5 failed" in result.stderr
    rows = by_name(rows_of(table))
    assert set(rows) == set(GOOD) | set(BAD)
    for name in GOOD:
        assert rows[name]["error"] is None
        assert rows[name]["text"] == expected(name)
        assert rows[name]["lines"] == expected(name).split("\n")
        assert float(rows[name]["min_confidence"]) <= float(rows[name]["mean_confidence"]) <= 1
    for name, reason in BAD.items():
        assert reason in rows[name]["error"], rows[name]
        assert rows[name]["text"] == ""
        assert f"{name}: " in result.stderr  # each failure is one line naming the file
    if suffix == ".csv":
        assert table.read_bytes().startswith(",".join(COLUMNS).encode() + b"\r\n")


def test_not_recursive_and_glob(run_cli, folder: Path, tmp_path: Path) -> None:
    table = tmp_path / "new" / "folder" / "r.jsonl"  # created as needed
    result = run_cli("batch", folder, "-o", table, "--glob", "*-0?.jpg", "-j", "1")
    assert result.exit_code == 0
    assert set(by_name(rows_of(table))) == {GOOD[0], GOOD[1]}


def test_list_images_survives_loops(folder: Path) -> None:
    files, unlistable = list_images(folder, recursive=True)
    names = [p.name for p in files]
    assert sorted(names) == sorted(GOOD + list(BAD)) and unlistable == []
    with pytest.raises(InputError, match="no such folder"):
        list_images(folder / "missing")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads folders whatever their permissions")
def test_unlistable_sub_folder_gets_a_row(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        _, unlistable = list_images(tmp_path, recursive=True)
    finally:
        locked.chmod(0o755)
    assert [r.path for r in unlistable] == [locked]
    assert "permission denied" in str(unlistable[0].error).lower()


def test_parallel_equals_serial_equals_read(folder: Path) -> None:
    import digitscan

    paths = [folder / GOOD[0], folder / GOOD[1], folder / "zero.jpg", folder / "gone.jpg"]
    serial = {r.path: r for r in read_many(paths, jobs=1)}
    parallel = {r.path: r for r in read_many(paths, jobs=2)}
    assert set(serial) == set(parallel) == set(paths)
    for path in paths[:2]:
        assert serial[path].ok and serial[path].size == path.stat().st_size
        assert serial[path].reading.text == parallel[path].reading.text
        assert serial[path].reading.text == digitscan.read(path).text
    for path in paths[2:]:
        assert not serial[path].ok and not parallel[path].ok
        assert isinstance(parallel[path].error, InputError)
        assert parallel[path].error.path == path  # the error keeps its file across processes


def test_existing_table_is_never_replaced_by_accident(run_cli, folder, tmp_path) -> None:
    table = tmp_path / "r.csv"
    table.write_text("precious\n")
    result = run_cli("batch", folder, "-o", table)
    assert result.exit_code == 2 and "--resume" in result.stderr
    assert table.read_text() == "precious\n"
    result = run_cli("batch", folder, "-o", table, "--resume")
    assert result.exit_code == 3 and "not a digitscan results table" in result.stderr
    assert table.read_text() == "precious\n"


def test_unknown_format_is_a_usage_error(run_cli, folder, tmp_path) -> None:
    result = run_cli("batch", folder, "-o", tmp_path / "r.xlsx")
    assert result.exit_code == 2 and "--format" in result.stderr


def test_resume_skips_done_files_and_rereads_changed_ones(run_cli, folder, tmp_path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in GOOD[:2]:
        shutil.copy(folder / name, photos / name)
    table = tmp_path / "r.csv"
    assert run_cli("batch", photos, "-o", table, "-j", "1").exit_code == 0
    # A new file, a changed file, and a row torn by a crash at the end of the table.
    shutil.copy(folder / "sub" / GOOD[2], photos / GOOD[2])
    changed = photos / GOOD[1]
    os.utime(changed, ns=(changed.stat().st_atime_ns, changed.stat().st_mtime_ns + 10**9))
    with table.open("a", newline="") as f:
        f.write(f'{photos / "ghost.jpg"},"12')
    result = run_cli("batch", photos, "-o", table, "--resume", "-j", "1")
    assert result.exit_code == 0
    assert "2 read, 0 failed, 1 skipped" in result.stderr
    rows = by_name(rows_of(table))
    assert set(rows) == set(GOOD)
    assert int(rows[GOOD[1]]["mtime_ns"]) == changed.stat().st_mtime_ns
    # Other settings: everything is read again, still one row per file.
    result = run_cli("batch", photos, "-o", table, "--resume", "--max-side", "1200")
    assert "3 read, 0 failed, 0 skipped" in result.stderr
    assert set(by_name(rows_of(table))) == set(GOOD)


def test_retry_failed_reads_failed_files_again(run_cli, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(SAMPLES / GOOD[0], photos / "a.jpg")
    table = tmp_path / "r.jsonl"
    (photos / "b.jpg").symlink_to(photos / "later.jpg")  # not there yet
    assert run_cli("batch", photos, "-o", table, "-j", "1").exit_code == 1
    shutil.copy(SAMPLES / GOOD[1], photos / "later.jpg")
    assert run_cli("batch", photos, "-o", table, "--resume", "--glob", "[ab].jpg").exit_code == 0
    assert by_name(rows_of(table))["b.jpg"]["error"] is None  # the link's size changed: redone
    # An unchanged failed file is skipped on --resume, read again with --retry-failed.
    (photos / "c.jpg").write_bytes(b"")
    run_cli("batch", photos, "-o", table, "--resume", "-j", "1")
    result = run_cli("batch", photos, "-o", table, "--resume", "--retry-failed", "-j", "1")
    assert "0 read, 1 failed, 3 skipped" in result.stderr
    assert set(by_name(rows_of(table))) == {"a.jpg", "b.jpg", "c.jpg", "later.jpg"}


def _start(folder: Path, table: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "digitscan", "batch", str(folder), "-o", str(table), "-j", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's Ctrl-C would reach
    )


def _wait_for_rows(table: Path, count: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        data = table.read_bytes() if table.exists() else b""
        whole = data.count(b"\r\n") - 1 if table.suffix == ".csv" else data.count(b"\n")
        if whole >= count:
            return
        time.sleep(0.05)
    pytest.fail("the batch did not write rows in time")


@pytest.fixture(scope="module")
def many(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("many")
    for i in range(40):
        shutil.copy(folder / GOOD[i % 2], root / f"photo-{i:03d}.jpg")
    return root


def test_kill_9_then_resume_loses_nothing(many: Path, tmp_path: Path, run_cli) -> None:
    table = tmp_path / "r.jsonl"
    proc = _start(many, table)
    _wait_for_rows(table, 3, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    before = rows_of(table)  # every row written before the kill parses
    assert 3 <= len(before) < 40
    result = run_cli("batch", many, "-o", table, "--resume")
    assert result.exit_code == 0
    assert f"{40 - len(before)} read, 0 failed, {len(before)} skipped" in result.stderr
    rows = by_name(rows_of(table))
    assert len(rows) == 40 and all(r["error"] is None for r in rows.values())


def test_ctrl_c_keeps_finished_rows_and_exits_130(many: Path, tmp_path: Path) -> None:
    table = tmp_path / "r.csv"
    proc = _start(many, table)
    _wait_for_rows(table, 4, proc)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "--resume" in err and "Traceback" not in err
    rows = rows_of(table)
    assert 3 <= len(rows) < 40 and all(r["error"] in (None, "") for r in rows)


def test_dask_cluster_gives_the_local_result(run_cli, folder: Path, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")  # in the test extra; CI installs it
    local, remote = tmp_path / "local.jsonl", tmp_path / "dask.jsonl"
    run_cli("batch", folder, "-r", "-o", local, "-j", "2")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        result = run_cli(
            "batch", folder, "-r", "-o", remote, "--scheduler", cluster.scheduler_address
        )
    assert result.exit_code == 1 and "3 read, 5 failed" in result.stderr

    def comparable(table: Path) -> dict[str, dict]:
        return {k: dict(r, seconds=None) for k, r in by_name(rows_of(table)).items()}

    assert comparable(remote) == comparable(local)


def test_unreachable_scheduler_is_one_line(run_cli, folder: Path, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    table = tmp_path / "r.csv"
    result = run_cli("batch", folder, "-o", table, "--scheduler", "tcp://127.0.0.1:9")
    assert result.exit_code == 3 and "cannot reach the Dask scheduler" in result.stderr
    assert not table.exists()  # nothing written before the work could start


def test_progress_only_on_a_terminal(folder: Path, tmp_path: Path, run_cli) -> None:
    import pty

    quiet = run_cli("batch", folder, "-o", tmp_path / "quiet.csv", "-j", "1")
    assert "files/s)" in quiet.stderr and "reading (" not in quiet.stderr  # summary, no bar
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "digitscan", "batch", str(folder), "-o", str(tmp_path / "t.csv")],
        stdout=subprocess.DEVNULL,
        stderr=secondary,
    )
    os.close(secondary)
    shown = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        shown += chunk
    os.close(primary)
    assert proc.wait(timeout=60) == 1
    assert b"reading (" in shown and b"files/s" in shown


def test_batch_has_the_read_options(run_cli, tmp_path: Path) -> None:
    from test_cli import EXPOSED

    help_text = run_cli("batch", "--help").stdout
    for option in [*EXPOSED.values(), "--model"]:
        assert option in help_text
    missing = run_cli("batch", tmp_path / "nowhere", "-o", tmp_path / "r.csv")
    assert missing.exit_code == 3 and "nowhere: no such folder" in missing.stderr
    assert "Traceback" not in missing.stderr
