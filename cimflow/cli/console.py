"""The two rich consoles: stdout carries only reports, stderr carries logs, progress and errors."""

from __future__ import annotations

import logging
import os

from rich.console import Console
from rich.logging import RichHandler

stdout = Console(soft_wrap=True, no_color="NO_COLOR" in os.environ)
stderr = Console(stderr=True, soft_wrap=True, no_color="NO_COLOR" in os.environ)


def setup_logging(*, verbose: bool) -> None:
    """Send library logs to stderr (warnings by default, debug with ``--verbose``)."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=stderr, show_time=False, show_path=False)],
        force=True,
    )


def fail(message: str) -> None:
    """Print one error line on stderr (no traceback)."""
    stderr.print(f"[bold red]cimflow:[/] {message}", highlight=False, markup=True)
