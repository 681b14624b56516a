"""The network probe and the offline switches shared by core/models.py and clearml_tasks.py."""

from __future__ import annotations

import socket
import time

import pytest

from multiclass_segmentation.io.network import flag_set, host_reachable


@pytest.fixture
def closed_port() -> int:
    """A local TCP port that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_host_reachable_tells_open_from_closed_ports(closed_port):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        open_port = server.getsockname()[1]

        assert host_reachable("127.0.0.1", open_port, timeout_s=2)
    started = time.perf_counter()
    assert not host_reachable("127.0.0.1", closed_port, timeout_s=60)
    # A refused connection answers at once, without waiting for the timeout (half of it
    # leaves room for any load on the machine).
    assert time.perf_counter() - started < 30


def test_host_reachable_gives_up_after_the_timeout(silent_port):
    started = time.perf_counter()

    assert not host_reachable("127.0.0.1", silent_port, timeout_s=0.5)

    # Not before the timeout; the upper bound only says it did not hang.
    assert 0.4 < time.perf_counter() - started < 30


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "Yes", "on", " ON\n"])
def test_flag_set_reads_true_words_in_any_case(monkeypatch, value):
    monkeypatch.setenv("SOME_OFFLINE_SWITCH", value)

    assert flag_set("SOME_OFFLINE_SWITCH")


@pytest.mark.parametrize("value", ["", "0", "false", "no", "off", "2", "enabled"])
def test_flag_set_is_off_for_any_other_value(monkeypatch, value):
    monkeypatch.setenv("SOME_OFFLINE_SWITCH", value)

    assert not flag_set("SOME_OFFLINE_SWITCH")


def test_flag_set_is_off_when_the_variable_is_unset(monkeypatch):
    monkeypatch.delenv("SOME_OFFLINE_SWITCH", raising=False)

    assert not flag_set("SOME_OFFLINE_SWITCH")
