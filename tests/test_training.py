"""Model-card provenance written by ``digitscan train`` and ``digitscan average``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from digitscan.training import code_commit

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(repo: Path, *args: str) -> str:
    cmd = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org", *args]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A git repository with a committed package folder ``pkg``."""
    pkg = tmp_path / "repo" / "pkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("X = 1\n")
    git(pkg.parent, "init", "-q")
    git(pkg.parent, "add", ".")
    git(pkg.parent, "commit", "-q", "-m", "first")
    return pkg


def test_code_commit_names_the_checkout_and_marks_changes(checkout: Path) -> None:
    head = git(checkout, "rev-parse", "--short", "HEAD")
    assert code_commit(checkout) == head
    (checkout.parent / "notes.txt").write_text("untracked, outside the package\n")
    assert code_commit(checkout) == head
    (checkout / "__init__.py").write_text("X = 2\n")
    assert code_commit(checkout) == f"{head}-dirty"


def test_code_commit_is_none_for_an_installed_copy(checkout: Path, tmp_path: Path) -> None:
    # A virtual environment inside the checkout: the installed copy is not tracked.
    installed = checkout.parent / ".venv" / "site-packages" / "pkg"
    shutil.copytree(checkout, installed)
    assert code_commit(installed) is None
    elsewhere = tmp_path / "elsewhere" / "pkg"
    shutil.copytree(checkout, elsewhere)
    assert code_commit(elsewhere) is None
