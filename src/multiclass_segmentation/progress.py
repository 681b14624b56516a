"""Progress of loops over files that can run for minutes; never imports kedro or torch.

On a terminal, a rich progress bar drawn on the console that Kedro's log handler
writes to, so log lines appear above it; elsewhere (a log file, CI, a notebook's
captured output) a line every ``LINE_EVERY_SECONDS`` instead of a bar that
redraws itself into thousands of characters, and none for a shorter loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

import rich
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

logger = logging.getLogger(__name__)

Item = TypeVar("Item")

# Seconds between two progress lines when the output is not a terminal.
LINE_EVERY_SECONDS = 30.0


class ProgressCounter:
    """Counts finished steps of ``total`` under ``description``, as a bar or as lines.

    For steps that are not one loop (e.g. files that Kedro computes as it saves
    them): ``advance`` after each (or after a batch of ``steps``); the bar closes
    itself at ``total`` or on ``close``.
    """

    def __init__(
        self,
        description: str,
        total: int | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.description = description
        self.total = total
        self.done = 0
        self._clock = clock
        self._started = self._last_line = clock()
        self._bar: Progress | None = None
        if rich.get_console().is_terminal:
            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=rich.get_console(),
                transient=True,
            )
            self._task = self._bar.add_task(description, total=total)
            self._bar.start()

    def advance(self, steps: int = 1) -> None:
        self.done += steps
        if self._bar is not None:
            self._bar.advance(self._task, steps)
            if self.done == self.total:
                self.close()
            return
        now = self._clock()
        if now - self._last_line >= LINE_EVERY_SECONDS:
            self._last_line = now
            of_total = f"/{self.total}" if self.total else ""
            elapsed = now - self._started
            logger.info("%s: %d%s done, %.0f s", self.description, self.done, of_total, elapsed)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def tracked(items: Iterable[Item], description: str, total: int | None = None) -> Iterator[Item]:
    """Yields ``items`` while showing how many of ``total`` (default ``len(items)``) are done."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)
    counter = ProgressCounter(description, total)
    try:
        for item in items:
            yield item
            counter.advance()
    finally:
        counter.close()
