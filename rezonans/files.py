"""Private files under REZONANS_HOME: folders 0700, files 0600 (spool, journal, crawl state, alert state)."""

from __future__ import annotations

import os
from pathlib import Path


def private_dir(folder: Path) -> Path:
    """Create the missing folders of a path with mode 0700 (folders that exist are left as they are)."""
    folder = Path(folder)
    missing: list[Path] = []
    current = folder
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)  # mkdir's mode is masked by the umask
    return folder


def private_file(path: Path) -> Path:
    """Create a file with mode 0600 if missing; tighten a file of ours that is readable by others."""
    path = Path(path)
    private_dir(path.parent)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        info = os.fstat(fd)
        if info.st_uid == os.getuid() and info.st_mode & 0o077:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    return path
