"""Shared fixtures: a throw-away copy of the project to run pipelines in."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from multiclass_segmentation.commands import scratch_project

# Offline and quiet wherever the tests run (see docs/development.md).
for _name in ("KEDRO_DISABLE_TELEMETRY", "NO_ALBUMENTATIONS_UPDATE", "HF_HUB_OFFLINE"):
    os.environ.setdefault(_name, "1")
os.environ.setdefault("CLEARML_OFFLINE_MODE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
# Kedro's own logging, not conf/logging.yml: the project's sends its loggers past pytest's
# caplog and writes logs/ into the repository (tests/test_logging_config.py reads it).
_KEDRO = Path(importlib.util.find_spec("kedro").origin).parent
os.environ.setdefault("KEDRO_LOGGING_CONFIG", str(_KEDRO / "framework/project/rich_logging.yml"))

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# Where runs of the demo environment write in a project copy (conf/demo/globals.yml).
DEMO_CHECKPOINTS = Path("data/06_models/demo/checkpoints/demo")
DEMO_MODEL_VERSIONS = Path("data/06_models/demo/demo")
DEMO_HISTORY_VERSIONS = Path("data/08_reporting/demo/training_history_demo.json")
REAL_DATASET = (
    PROJECT_ROOT / ".." / "shared" / "datasets" / "train_dataset_for_students"
).resolve()


def copy_project(parent: Path) -> Path:
    """A copy of the project's configuration under parent, so runs never write into the repo."""
    return scratch_project.copy_project(PROJECT_ROOT, parent / "project")


def validated_demo_project(parent: Path) -> Path:
    """A demo project copy whose training inputs (manifests, class weights) exist."""
    project = copy_project(parent)
    run_kedro(project, env="demo", pipeline="data_validation")
    run_kedro(project, env="demo", pipeline="eda")
    return project


def dataset_versions(folder: Path) -> list[Path]:
    """Kedro's version folders of a versioned dataset, oldest first."""
    return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    return copy_project(tmp_path)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A local port that takes no connection: its accept queue is full, so connects hang."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    address = server.getsockname()
    pending = [socket.socket() for _ in range(3)]
    for client in pending:
        client.setblocking(False)
        client.connect_ex(address)
    yield address[1]
    for client in pending:
        client.close()
    server.close()


def load_benchmark_script(name: str) -> ModuleType:
    """benchmarks/<name>.py as a module: benchmarks/ is a folder of scripts, not a package."""
    spec = importlib.util.spec_from_file_location(
        f"{name}_benchmark", PROJECT_ROOT / "benchmarks" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the class is built.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run_kedro(
    project: Path,
    *,
    env: str = "demo",
    pipeline: str | None = None,
    params: dict | None = None,
    load_versions: dict[str, str] | None = None,
    **run_options: Any,
) -> dict:
    """Runs a pipeline of the project copy in-process, as `kedro run` would.

    ``run_options`` go to ``KedroSession.run`` (e.g. ``only_missing_outputs=True``).
    """
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(project)
    # `kedro run` runs from the project folder; relative parameter paths (checkpoints) rely on it.
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)
        with KedroSession.create(
            project_path=project, env=env, runtime_params=params or {}
        ) as session:
            return session.run(
                pipeline_names=[pipeline] if pipeline else None,
                load_versions=load_versions,
                **run_options,
            )


def wait_for_processes(runs: list[subprocess.Popen], logs: list[Path], timeout_s: float) -> None:
    """Waits for every process (each started in a session of its own) within ``timeout_s``
    in all; on timeout kills them with their children and fails with the end of each log."""
    deadline = time.monotonic() + timeout_s
    try:
        for run in runs:
            run.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        for run in runs:
            if run.poll() is None:
                os.killpg(run.pid, signal.SIGKILL)
                run.wait()
        outputs = "\n".join(f"--- {log.name}\n{log.read_text()[-4000:]}" for log in logs)
        pytest.fail(f"processes did not finish within {timeout_s} s:\n{outputs}")
