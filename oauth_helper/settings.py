"""Per-run settings shared by every command."""

from __future__ import annotations

import os

from .record import record


@record
class Settings:
    """What the command line says about this run, independent of the command."""

    # --config FILE; a str or a pathlib.Path (not imported here: a refresh does without it)
    config_path: str | os.PathLike[str] | None = None
    verbose: bool = False
    debug: bool = False
