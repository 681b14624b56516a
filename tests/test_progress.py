"""Progress of long loops: a bar on a terminal, a line every 30 s elsewhere."""

from __future__ import annotations

import io
import logging

import pytest
from rich.console import Console

from multiclass_segmentation import progress


@pytest.fixture
def log_file_console(monkeypatch) -> io.StringIO:
    """The console is not a terminal, as when the output goes to a file."""
    output = io.StringIO()
    monkeypatch.setattr(progress.rich, "get_console", lambda: Console(file=output))
    return output


@pytest.mark.usefixtures("log_file_console")
def test_off_a_terminal_a_line_every_30_seconds(caplog):
    ticks = iter(range(0, 200, 10))  # 0 s at the start, then 10 s per step
    counter = progress.ProgressCounter("Reading", total=10, clock=lambda: next(ticks))

    with caplog.at_level(logging.INFO, logger=progress.logger.name):
        for _ in range(10):
            counter.advance()
        counter.close()

    assert caplog.messages == [
        "Reading: 3/10 done, 30 s",
        "Reading: 6/10 done, 60 s",
        "Reading: 9/10 done, 90 s",
    ]


def test_a_short_loop_off_a_terminal_says_nothing(log_file_console, caplog):
    with caplog.at_level(logging.INFO, logger=progress.logger.name):
        items = list(progress.tracked(["a", "b", "c"], "Checking"))

    assert items == ["a", "b", "c"]
    assert caplog.messages == []
    assert log_file_console.getvalue() == ""


def test_on_a_terminal_a_bar_and_no_lines(monkeypatch, caplog):
    output = io.StringIO()
    terminal = Console(file=output, force_terminal=True, width=80)
    monkeypatch.setattr(progress.rich, "get_console", lambda: terminal)

    with caplog.at_level(logging.INFO, logger=progress.logger.name):
        assert sum(progress.tracked(range(4), "Scoring")) == 6

    assert "Scoring" in output.getvalue()
    assert caplog.messages == []


@pytest.mark.usefixtures("log_file_console")
def test_batches_advance_by_their_size(caplog):
    ticks = iter([0, 31, 40, 70])  # the start, then one reading per batch
    counter = progress.ProgressCounter("Scoring (images)", total=20, clock=lambda: next(ticks))

    with caplog.at_level(logging.INFO, logger=progress.logger.name):
        for batch in (8, 8, 4):
            counter.advance(batch)

    assert caplog.messages == [
        "Scoring (images): 8/20 done, 31 s",
        "Scoring (images): 20/20 done, 70 s",
    ]
