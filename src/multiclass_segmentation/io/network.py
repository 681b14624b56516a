"""Network probes and offline switches, without Kedro: what a run checks before it downloads
weights or reports to a server, so that an offline machine is told within seconds."""

from __future__ import annotations

import os
import socket
import threading

# The values that Hugging Face hub and ClearML read as "on" in their offline switches.
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


def flag_set(variable: str) -> bool:
    """Whether the environment variable holds a true word (1, true, yes, on; any case)."""
    return os.environ.get(variable, "").strip().lower() in TRUE_WORDS


def host_reachable(host: str, port: int, timeout_s: float) -> bool:
    """Whether a TCP connection to host:port opens within ``timeout_s``, name lookup included."""
    outcome: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout_s):
                outcome.append(True)
        except OSError:
            outcome.append(False)

    # A daemon thread bounds the DNS lookup too, which the socket timeout does not cover.
    thread = threading.Thread(target=probe, name=f"probe-{host}:{port}", daemon=True)
    thread.start()
    thread.join(timeout_s)
    return bool(outcome and outcome[0])
