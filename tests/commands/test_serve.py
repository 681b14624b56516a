"""`python -m multiclass_segmentation.commands.serve` (make serve): a real process, reloads."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from multiclass_segmentation.commands.serve import check_host, parse_args
from multiclass_segmentation.errors import BadInputError
from tests.conftest import copy_project
from tests.pipelines.inference.builders import save_model, tiny_segmenter
from tests.serving.conftest import FIRST_VERSION, SECOND_VERSION


def test_only_localhost_is_bound_unless_exposed_on_purpose():
    assert parse_args([]).host == "127.0.0.1"
    check_host("127.0.0.1", expose=False)
    with pytest.raises(BadInputError, match="--expose"):
        check_host("0.0.0.0", expose=False)
    check_host("0.0.0.0", expose=True)


def _wait_for_version(base: str, version: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()[-3000:]
        try:
            response = httpx.get(f"{base}/readyz", timeout=5)
            if response.status_code == 200 and response.json()["version"] == version:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"version {version} was not served within 90 s:\n{log.read_text()[-3000:]}")


@pytest.mark.slow
def test_the_command_serves_the_latest_model_and_sighup_takes_a_new_one(tmp_path: Path):
    project = copy_project(tmp_path)
    save_model(project, FIRST_VERSION, tiny_segmenter("first"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "multiclass_segmentation.commands.serve"]
    arguments = ["--project-path", str(project), "--port", str(port), "--threads", "1"]
    with open(log, "w") as output:
        server = subprocess.Popen(
            command + arguments, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_version(base, FIRST_VERSION, server, log)
        assert httpx.get(f"{base}/model").json()["classes"][1]["color"] == "#f28e2b"
        save_model(project, SECOND_VERSION, tiny_segmenter("second", constant_class=2))
        server.send_signal(signal.SIGHUP)
        _wait_for_version(base, SECOND_VERSION, server, log)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    # uvicorn shuts down cleanly, then re-raises SIGTERM so the exit status tells the signal.
    assert "Application shutdown complete" in log.read_text(), log.read_text()[-3000:]
