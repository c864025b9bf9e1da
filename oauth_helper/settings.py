"""Per-run settings shared by every command."""

from __future__ import annotations

from pathlib import Path

from .record import record


@record
class Settings:
    """What the command line says about this run, independent of the command."""

    config_path: Path | None = None
    verbose: bool = False
    debug: bool = False
