"""Files and folders that appear whole or not at all, without Kedro.

Everything is built in a hidden temporary folder beside its target and renamed
into place at the end: a rename within one folder is atomic, so a run killed
half-way leaves a hidden temporary, never a half-written target.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def staged_path(target: Path) -> Iterator[Path]:
    """Yields a free path, named as ``target``, inside a new hidden sibling folder
    ``.<target name>.<random>``; whatever the block puts there replaces ``target`` when it
    ends. If the block fails, the sibling is removed and ``target`` stays as it was."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        staged = tmp_dir / target.name
        yield staged
        if staged.is_dir() and target.is_dir():
            # A folder cannot be renamed over a non-empty one: the old one goes into the
            # hidden sibling first (and is removed with it).
            os.replace(target, tmp_dir / f"{target.name}.replaced")
        os.replace(staged, target)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


def write_atomically(target: Path, write: Callable[[Path], object]) -> None:
    """Calls ``write(tmp_path)`` on a temporary sibling, then renames it to ``target``."""
    with staged_path(target) as staged:
        write(staged)


@contextmanager
def staged_directory(target: Path) -> Iterator[Path]:
    """Yields a new empty folder that becomes ``target`` when the block ends.

    If the block fails, the folder is removed and ``target`` stays as it was.
    A ``target`` holding anything is refused; an empty one is replaced.
    """
    target = Path(target)
    if target.exists() and not is_empty_dir(target):
        raise FileExistsError(f"{target} already exists and is not empty; it is never overwritten")
    with staged_path(target) as staging:
        staging.mkdir()
        yield staging
        # Not every system renames a folder over an empty one.
        if target.exists():
            target.rmdir()


def is_empty_dir(path: Path) -> bool:
    """Whether ``path`` is a folder with nothing in it."""
    return path.is_dir() and not any(path.iterdir())
