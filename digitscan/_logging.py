"""Logging for the command-line tool only: the library never installs handlers.

The CLI configures the ``digitscan`` logger with one named handler on stderr, so calling
``main()`` twice (as tests do) never duplicates messages, and stdout carries results only.
"""

from __future__ import annotations

import logging
import sys

HANDLER_NAME = "digitscan-cli"


def configure_cli_logging(verbosity: int) -> None:
    """Send ``digitscan`` log records to stderr.

    Args:
        verbosity: -1 quiet (warnings and errors), 0 normal (info), 1 or more debug.
    """
    logger = logging.getLogger("digitscan")
    level = logging.WARNING if verbosity < 0 else logging.INFO if verbosity == 0 else logging.DEBUG
    logger.setLevel(level)
    for handler in list(logger.handlers):
        if handler.get_name() == HANDLER_NAME:
            logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(HANDLER_NAME)
    fmt = "%(levelname)s %(name)s: %(message)s" if verbosity > 0 else "digitscan: %(message)s"
    handler.setFormatter(logging.Formatter(fmt))
    logger.addHandler(handler)
    logger.propagate = False
