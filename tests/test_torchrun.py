"""torchrun across two "machines": two torchrun agents on this one, one CPU process each (gloo).

Both run ``python -m multiclass_segmentation --pipelines training`` as they would
on two machines with a shared filesystem (docs/distributed.md).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from multiclass_segmentation.core.distributed import torchrun_process, trainer_arguments
from tests.conftest import DEMO_CHECKPOINTS as CHECKPOINTS
from tests.conftest import DEMO_HISTORY_VERSIONS as HISTORY_VERSIONS
from tests.conftest import DEMO_MODEL_VERSIONS as MODEL_VERSIONS
from tests.conftest import (
    PROJECT_ROOT,
    dataset_versions,
    run_kedro,
    validated_demo_project,
    wait_for_processes,
)

CURVES = Path("data/08_reporting/demo/figures/learning_curves_demo.png")
EPOCHS = 2
TRAIN_IMAGES = 16  # the demo's synthetic train split
BATCH_SIZE = 4  # the demo's
NODES = 2
# Whole runs, rendezvous included, on a busy 2-core machine take about a minute.
RUN_TIMEOUT_S = 300

# Plain one-line records, so the checksums are easy to find (Kedro's default is rich's, wrapped).
LOGGING = """\
version: 1
disable_existing_loggers: false
formatters:
  plain: {format: "%(asctime)s %(name)s %(levelname)s %(message)s"}
handlers:
  console: {class: logging.StreamHandler, formatter: plain, stream: ext://sys.stdout}
loggers:
  kedro: {level: INFO}
  multiclass_segmentation: {level: INFO}
root: {handlers: [console], level: WARNING}
"""
FINAL_WEIGHTS = re.compile(
    r"Rank (\d+) of (\d+): trained (\d+) steps; final weights checksum (\w+)"
)

TORCHRUN_ENV = {
    "TORCHELASTIC_RUN_ID": "test",
    "RANK": "1",
    "LOCAL_RANK": "0",
    "WORLD_SIZE": "4",
    "LOCAL_WORLD_SIZE": "2",
    "GROUP_RANK": "0",
}


@pytest.fixture(scope="module")
def demo_inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return validated_demo_project(tmp_path_factory.mktemp("torchrun"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _torchrun(project: Path, node_rank: int, port: int, log: Path) -> subprocess.Popen:
    """One machine's torchrun agent, with one training process, in its own process group."""
    env = dict(os.environ)
    # This checkout's package first, whatever the virtual environment's editable install points at.
    env["PYTHONPATH"] = os.pathsep.join(
        [str(PROJECT_ROOT / "src"), *filter(None, [env.get("PYTHONPATH")])]
    )
    logging_yml = project.parent / "logging.yml"
    logging_yml.write_text(LOGGING)
    env["KEDRO_LOGGING_CONFIG"] = str(logging_yml)
    command = [
        # `torchrun` is this module's console script.
        *(sys.executable, "-m", "torch.distributed.run"),
        *("--nnodes", str(NODES), "--nproc-per-node", "1", "--node-rank", str(node_rank)),
        *("--rdzv-backend", "c10d", "--rdzv-endpoint", f"127.0.0.1:{port}"),
        *("--local-addr", "127.0.0.1", "--rdzv-conf", "join_timeout=120"),
        *("-m", "multiclass_segmentation", "--env", "demo", "--pipelines", "training"),
        "--params",
        # The demo's U-Net (encoder_depth 3) has encoder weights outside the loss; all
        # batches (the demo limits them to 2), so that each rank's half shows in the steps.
        f"training.epochs={EPOCHS},training.trainer.accelerator=cpu,"
        "training.trainer.strategy=ddp_find_unused_parameters_true,"
        "training.trainer.limit_train_batches=1.0",
    ]
    with open(log, "w") as output:
        return subprocess.Popen(
            command,
            cwd=project,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so a hung run is killed with its workers
        )


@pytest.mark.torchrun
@pytest.mark.timeout(RUN_TIMEOUT_S + 120)
def test_two_torchrun_machines_train_one_model_and_only_rank_0_saves(demo_inputs: Path):
    project = demo_inputs
    port = _free_port()
    logs = [project.parent / f"node{rank}.log" for rank in range(NODES)]
    runs = [_torchrun(project, rank, port, log) for rank, log in enumerate(logs)]
    wait_for_processes(runs, logs, RUN_TIMEOUT_S)
    outputs = [log.read_text() for log in logs]
    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output[-6000:]

    # Every rank ends with the same weights, after half the steps one process would take.
    finals = [m.groups() for output in outputs for m in FINAL_WEIGHTS.finditer(output)]
    steps_per_rank = EPOCHS * TRAIN_IMAGES // (NODES * BATCH_SIZE)
    assert sorted(int(rank) for rank, *_ in finals) == list(range(NODES))
    assert {(int(world), int(steps)) for _, world, steps, _ in finals} == {(NODES, steps_per_rank)}
    assert len({checksum for *_, checksum in finals}) == 1, finals

    # One model, one history, one checkpoint folder: rank 0's.
    (model_version,) = dataset_versions(project / MODEL_VERSIONS)
    (history_version,) = dataset_versions(project / HISTORY_VERSIONS)
    assert CURVES.name in os.listdir(project / CURVES.parent)
    history = json.loads((history_version / HISTORY_VERSIONS.name).read_text())
    assert [e["epoch"] for e in history] == list(range(1, EPOCHS + 1))
    (run_folder,) = (project / CHECKPOINTS).iterdir()
    last = torch.load(run_folder / "last.ckpt", map_location="cpu", weights_only=False)
    assert last["global_step"] == steps_per_rank
    assert last["callbacks"]["EpochHistory"]["epochs"] == history
    info = json.loads((model_version / "demo" / "segmenter.json").read_text())
    assert Path(info["info"]["checkpoint_folder"]).name == run_folder.name


@pytest.mark.slow
def test_under_torchrun_pipelines_other_than_training_are_refused(
    demo_inputs: Path, monkeypatch: pytest.MonkeyPatch
):
    for name, value in TORCHRUN_ENV.items():
        monkeypatch.setenv(name, value)
    report = demo_inputs / "data/08_reporting/demo/eda.json"
    written = report.stat().st_mtime_ns
    with pytest.raises(ValueError, match="Under torchrun only the training pipeline runs"):
        run_kedro(demo_inputs, pipeline="eda")
    with pytest.raises(ValueError, match="Run data_validation and eda once before"):
        run_kedro(demo_inputs)  # the default pipeline: all of them
    assert report.stat().st_mtime_ns == written


def test_trainer_arguments_under_torchrun():
    assert trainer_arguments({"strategy": "auto"}, environ={}) == {"strategy": "auto"}
    assert torchrun_process(TORCHRUN_ENV).num_nodes == 2
    assert trainer_arguments({"strategy": "auto", "devices": "auto"}, TORCHRUN_ENV) == {
        "strategy": "ddp",
        "devices": 2,
        "num_nodes": 2,
    }
    kept = trainer_arguments({"strategy": "ddp_find_unused_parameters_true"}, TORCHRUN_ENV)
    assert kept["strategy"] == "ddp_find_unused_parameters_true"
    with pytest.raises(ValueError, match="starts its own processes"):
        trainer_arguments({"strategy": "ddp_spawn"}, TORCHRUN_ENV)
