"""``python -m digitscan`` runs the command-line tool."""

from __future__ import annotations

from digitscan.cli import main

if __name__ == "__main__":
    main()
