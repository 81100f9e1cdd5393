"""One training process per run directory: an exclusive lock held while the run lives."""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path
from typing import IO

from fpo_core.errors import UsageError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; runs are not guarded there
    fcntl = None

LOCK_FILE = ".lock"
log = logging.getLogger("fpo")
_held: dict[Path, IO[str]] = {}
"""The run directories this process holds: taking one again (a Trainer made after a failed one) is no conflict."""


def lock_run_dir(run_dir: Path) -> None:
    """Lock ``run_dir`` for this process until ``unlock_run_dir`` or the process ends (a crash or SIGKILL included);
    ``UsageError`` naming the holder's pid if another process has it.

    A POSIX record lock (``lockf``), not ``flock``: forked children (async env workers) do not inherit it, so it ends
    with the trainer itself. Where the filesystem has no locks (some NFS and FUSE mounts), the run goes unguarded."""
    key = run_dir.resolve()
    if fcntl is None or key in _held:
        return
    try:
        f = open(run_dir / LOCK_FILE, "a+")
    except OSError as e:
        raise UsageError(f"cannot write to run directory {run_dir}: {e.strerror}; choose a writable --run-dir") from None
    try:
        fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        if e.errno not in (errno.EACCES, errno.EAGAIN):
            f.close()
            log.warning("%s: cannot lock it (%s); nothing stops a second fpo train from using it at the same time",
                        run_dir, e.strerror)
            return
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
