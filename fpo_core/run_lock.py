"""One training process per run directory: an exclusive lock held while the run lives."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

from fpo_core.errors import UsageError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; runs are not guarded there
    fcntl = None

LOCK_FILE = ".lock"
_held: dict[Path, IO[str]] = {}
"""The run directories this process holds: taking one again (a Trainer made after a failed one) is no conflict."""


def lock_run_dir(run_dir: Path) -> None:
    """Lock ``run_dir`` for this process until ``unlock_run_dir`` or the process ends (a crash or SIGKILL included);
    ``UsageError`` naming the holder's pid if another process has it."""
    key = run_dir.resolve()
    if fcntl is None or key in _held:
        return
    f = open(run_dir / LOCK_FILE, "a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)
        holder = f.read().strip() or "?"
        f.close()
        raise UsageError(f"{run_dir} is in use by another fpo train (pid {holder}); wait for it to end, stop it, or "
                         f"choose another --run-dir") from None
    f.seek(0)
    f.truncate()
    f.write(f"{os.getpid()}\n")
    f.flush()
    _held[key] = f


def unlock_run_dir(run_dir: Path) -> None:
    f = _held.pop(run_dir.resolve(), None)
    if f is not None:
        f.close()
