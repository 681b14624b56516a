"""Faults: killed runs leave whole files and resume; a NaN saves no model; runs never overwrite."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from kedro.io.core import DatasetError, Version
from kedro_datasets.json import JSONDataset
from torch import nn

from multiclass_segmentation.core import training_run
from multiclass_segmentation.core.checkpointing import (
    PARTIAL_CHECKPOINT_PATTERN,
    AtomicCheckpointIO,
    remove_partial_checkpoints,
)
from multiclass_segmentation.core.module import SegmentationModule
from multiclass_segmentation.io.datasets import (
    AtomicJSONDataset,
    AtomicTextDataset,
    SegmentationModelDataset,
)
from tests.conftest import DEMO_CHECKPOINTS as CHECKPOINTS
from tests.conftest import DEMO_HISTORY_VERSIONS as HISTORY_VERSIONS
from tests.conftest import DEMO_MODEL_VERSIONS as MODEL_VERSIONS
from tests.conftest import dataset_versions, run_kedro, validated_demo_project

METRICS_VERSIONS = Path("data/08_reporting/demo/metrics.json")

# A subprocess that saves a checkpoint over `last.ckpt` and dies half-way, as a
# kill does: the object after the weights ends the process while it is pickled.
DIES_WHILE_SAVING = """
import os, sys, torch
from multiclass_segmentation.core.checkpointing import AtomicCheckpointIO

class DiesWhenPickled:
    def __reduce__(self):
        os._exit(9)

checkpoint = {"epoch": 2, "state_dict": {"w": torch.ones(1_000_000)}, "z": DiesWhenPickled()}
AtomicCheckpointIO().save_checkpoint(checkpoint, sys.argv[1])
"""


def _run_kedro(project: Path, **kwargs) -> dict:
    return run_kedro(project, env="demo", **kwargs)


def _load(checkpoint: Path) -> dict:
    return torch.load(checkpoint, map_location="cpu", weights_only=False)


def _whole(checkpoint: dict) -> bool:
    """Weights, optimiser state and callbacks present, and every weight finite."""
    weights = checkpoint["state_dict"]
    return (
        {"optimizer_states", "callbacks", "loops"} <= set(checkpoint)
        and any(name.startswith("model.encoder.") for name in weights)
        and all(torch.isfinite(w).all() for w in weights.values() if w.is_floating_point())
    )


@pytest.fixture(scope="module")
def demo_inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return validated_demo_project(tmp_path_factory.mktemp("faults"))


@pytest.fixture
def project(demo_inputs: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(demo_inputs, tmp_path / "project"))


@pytest.mark.slow
def test_a_checkpoint_write_killed_half_way_leaves_the_earlier_checkpoint_whole(tmp_path):
    last = tmp_path / "last.ckpt"
    AtomicCheckpointIO().save_checkpoint({"epoch": 1, "state_dict": {"w": torch.zeros(3)}}, last)
    killed = subprocess.run(
        [sys.executable, "-c", DIES_WHILE_SAVING, str(last)],
        check=False,
        capture_output=True,
        text=True,
    )
    assert killed.returncode == 9, killed.stderr
    assert _load(last)["epoch"] == 1
    partial = [p for p in tmp_path.iterdir() if p != last]
    assert len(partial) == 1 and partial[0].match(PARTIAL_CHECKPOINT_PATTERN)
    assert remove_partial_checkpoints(tmp_path) == partial
    assert list(tmp_path.iterdir()) == [last]


# Long enough that a kill 0.5 s after the first checkpoint lands mid-run; a resume
# keeps the planned epochs (the learning-rate schedule's length).
PLANNED_EPOCHS = 20


def _start_training(project: Path, epochs: int, log: Path, params: str = "") -> subprocess.Popen:
    """`kedro run --pipelines training` in its own process; its output goes to ``log``."""
    with open(log, "w") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "kedro", "run", "--env", "demo", "--pipelines", "training"]
            + ["--params", f"training.epochs={epochs}{params}"],
            cwd=project,
            stdout=output,
            stderr=subprocess.STDOUT,
            # A shell that starts jobs in the background (`cmd &`) ignores SIGINT, and
            # children inherit that: give the run the default handling, as a terminal would.
            # The function only sets a signal disposition, which is safe after a fork.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
        )


def _wait_for_last_checkpoint(
    run: subprocess.Popen, project: Path, log: Path, timeout_s: float
) -> Path:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = list((project / CHECKPOINTS).glob("*/last.ckpt"))
        if found:
            return found[0]
        if run.poll() is not None:
            pytest.fail(f"training ended before its first checkpoint:\n{log.read_text()}")
        time.sleep(0.05)
    run.kill()
    run.wait()
    pytest.fail(f"no last.ckpt within {timeout_s} s:\n{log.read_text()}")


@pytest.mark.slow
@pytest.mark.parametrize("kill_signal", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_a_killed_training_leaves_whole_checkpoints_and_resumes_from_them(
    project: Path, kill_signal: signal.Signals
):
    log = project.parent / "training.log"
    run = _start_training(project, epochs=PLANNED_EPOCHS, log=log)
    last = _wait_for_last_checkpoint(run, project, log, timeout_s=120)
    time.sleep(0.5)  # into the next epoch
    run.send_signal(kill_signal)
    run.wait(timeout=60)
    output = log.read_text()
    assert run.returncode != 0, output
    # SIGINT may land inside a checkpoint write (torch then raises RuntimeError, not
    # KeyboardInterrupt): either way the run must stop unfinished.
    assert "Pipeline execution completed" not in output

    run_folder = last.parent
    visible = [p for p in run_folder.iterdir() if not p.name.startswith(".")]
    assert all(p.suffix == ".ckpt" for p in visible)
    assert all(p.match(PARTIAL_CHECKPOINT_PATTERN) for p in run_folder.glob(".*"))
    for checkpoint in visible:
        assert _whole(_load(checkpoint))
    # A killed run returns no model, so nothing reaches the catalog.
    assert not dataset_versions(project / MODEL_VERSIONS)
    assert not dataset_versions(project / HISTORY_VERSIONS)

    saved_history = _load(last)["callbacks"]["EpochHistory"]["epochs"]
    saved_epochs = len(saved_history)
    assert 1 <= saved_epochs < PLANNED_EPOCHS and _load(last)["epoch"] == saved_epochs - 1
    _run_kedro(
        project,
        pipeline="training",
        params={"training": {"resume": True, "epochs": PLANNED_EPOCHS}},
    )
    history_version = dataset_versions(project / HISTORY_VERSIONS)[-1]
    history = json.loads((history_version / HISTORY_VERSIONS.name).read_text())
    assert [e["epoch"] for e in history] == list(range(1, PLANNED_EPOCHS + 1))
    assert history[:saved_epochs] == saved_history
    assert len(dataset_versions(project / MODEL_VERSIONS)) == 1
    assert [p.parent for p in (project / CHECKPOINTS).glob("*/last.ckpt")] == [run_folder]
    assert not list(run_folder.glob(".*"))


# Next to nothing for the weights to learn, so validation mDice moves only with the
# batch-norm statistics and soon stops improving: epochs pass without a new best.
STALLED = {"optimizer": {"lr": 1e-12}, "scheduler": {"name": "none"}}
STALLED_CLI = ",training.optimizer.lr=1e-12,training.scheduler.name=none"
STALLED_EPOCHS = 12
STEPS_PER_EPOCH = 2  # the demo's limit_train_batches


def _wait_for_an_epoch_without_improvement(
    run: subprocess.Popen, project: Path, log: Path, timeout_s: float
) -> None:
    """Returns once last.ckpt holds an epoch after the best one, more than one epoch in."""
    deadline = time.monotonic() + timeout_s
    seen = None
    while time.monotonic() < deadline:
        if run.poll() is not None:
            pytest.fail(f"training ended before an epoch without improvement:\n{log.read_text()}")
        found = list((project / CHECKPOINTS).glob("*/last.ckpt"))
        stamp = found and found[0].stat().st_mtime_ns
        if found and stamp != seen:
            seen = stamp
            # A rename replaces the file whole, so any version read is a complete one.
            epochs = torch.load(found[0], map_location="cpu", weights_only=False, mmap=True)[
                "callbacks"
            ]["EpochHistory"]["epochs"]
            scores = [e["val_mdice"] for e in epochs]
            if len(scores) > 1 and scores[-1] < max(scores):
                return
        time.sleep(0.05)
    run.kill()
    run.wait()
    pytest.fail(f"no epoch without improvement within {timeout_s} s:\n{log.read_text()}")


@pytest.mark.slow
def test_a_resume_continues_after_the_last_finished_epoch_not_the_best(
    project: Path, monkeypatch: pytest.MonkeyPatch
):
    log = project.parent / "training.log"
    run = _start_training(project, epochs=STALLED_EPOCHS, log=log, params=STALLED_CLI)
    _wait_for_an_epoch_without_improvement(run, project, log, timeout_s=180)
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=60)
    (run_folder,) = (project / CHECKPOINTS).iterdir()
    killed = _load(run_folder / "last.ckpt")
    finished = killed["epoch"] + 1  # epochs finished before the kill (checkpoints count from 0)
    killed_history = killed["callbacks"]["EpochHistory"]["epochs"]
    assert [e["epoch"] for e in killed_history] == list(range(1, finished + 1))
    assert killed["global_step"] == finished * STEPS_PER_EPOCH
    (best_before,) = run_folder.glob("best-*.ckpt")
    # The case this test is about: the run was killed epochs after its best one.
    assert 1 < finished < STALLED_EPOCHS and _load(best_before)["epoch"] + 1 < finished

    trained_epochs = []
    training_step = SegmentationModule.training_step

    def counted_step(module: SegmentationModule, *args, **kwargs):
        trained_epochs.append(module.current_epoch + 1)
        return training_step(module, *args, **kwargs)

    monkeypatch.setattr(SegmentationModule, "training_step", counted_step)
    _run_kedro(
        project,
        pipeline="training",
        params={"training": {**STALLED, "resume": True, "epochs": STALLED_EPOCHS}},
    )
    # The resumed run trained the epochs after the last finished one, each once.
    resumed = list(range(finished + 1, STALLED_EPOCHS + 1))
    assert trained_epochs == [e for e in resumed for _ in range(STEPS_PER_EPOCH)]
    history_version = dataset_versions(project / HISTORY_VERSIONS)[-1]
    history = json.loads((history_version / HISTORY_VERSIONS.name).read_text())
    assert [e["epoch"] for e in history] == list(range(1, STALLED_EPOCHS + 1))
    assert history[:finished] == killed_history
    last = _load(run_folder / "last.ckpt")
    assert last["epoch"] == STALLED_EPOCHS - 1
    assert last["global_step"] == STALLED_EPOCHS * STEPS_PER_EPOCH

    # The saved model is the best epoch's, whichever run found it.
    (best_path,) = run_folder.glob("best-*.ckpt")
    best = _load(best_path)
    best_scored = max(history, key=lambda e: e["val_mdice"])
    assert best["epoch"] + 1 == best_scored["epoch"]
    segmenter = SegmentationModelDataset(
        filepath=str(project / MODEL_VERSIONS), version=Version(None, None)
    ).load()
    assert segmenter.info["best_epoch"] == best_scored["epoch"]
    returned = segmenter.model.state_dict()
    weights = best["state_dict"]
    assert returned.keys() == {n.removeprefix("model.") for n in weights if n.startswith("model.")}
    assert all(torch.equal(returned[name], weights[f"model.{name}"]) for name in returned)
    # Disk stays bounded: the best checkpoint and the latest one, nothing else.
    assert sorted(p.name for p in run_folder.iterdir()) == sorted([best_path.name, "last.ckpt"])


class _NanFromSecondEpoch(nn.Module):
    """The real loss, NaN from the third batch on (the demo trains two batches an epoch)."""

    def __init__(self, loss: nn.Module) -> None:
        super().__init__()
        self.loss = loss
        self.calls = 0

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        value = self.loss(logits, target)
        return value * float("nan") if self.calls > 2 else value


@pytest.mark.slow
def test_a_nan_loss_stops_training_and_keeps_the_last_good_epoch_as_best(
    project: Path, monkeypatch: pytest.MonkeyPatch
):
    build_loss = training_run.build_loss
    monkeypatch.setattr(
        training_run, "build_loss", lambda *args: _NanFromSecondEpoch(build_loss(*args))
    )
    written = []
    save_checkpoint = AtomicCheckpointIO.save_checkpoint

    def recording_save(io: AtomicCheckpointIO, checkpoint: dict, path, **kwargs) -> None:
        written.append(Path(path).name)
        save_checkpoint(io, checkpoint, path, **kwargs)

    monkeypatch.setattr(AtomicCheckpointIO, "save_checkpoint", recording_save)
    with pytest.raises(FloatingPointError, match="nan at epoch 2, batch 0"):
        _run_kedro(project, pipeline="training", params={"training": {"epochs": 3}})

    assert not dataset_versions(project / MODEL_VERSIONS)
    assert not dataset_versions(project / HISTORY_VERSIONS)
    (run_folder,) = (project / CHECKPOINTS).iterdir()
    checkpoints = {p.name: _load(p) for p in run_folder.glob("*.ckpt")}
    (best,) = run_folder.glob("best-epoch00-*.ckpt")
    assert set(checkpoints) == {"last.ckpt", best.name}
    # Every checkpoint, last.ckpt too, was written by the atomic writer.
    assert set(written) == set(checkpoints)
    for checkpoint in checkpoints.values():
        assert checkpoint["epoch"] == 0
        assert _whole(checkpoint)


@pytest.mark.slow
def test_every_run_adds_model_history_and_metrics_versions_and_keeps_the_earlier(project: Path):
    one_epoch = {"training": {"epochs": 1}}
    _run_kedro(project, pipeline="training", params=one_epoch)
    _run_kedro(project, pipeline="evaluation")
    first_metrics = dataset_versions(project / METRICS_VERSIONS)[0] / METRICS_VERSIONS.name
    first_metrics_text = first_metrics.read_text()
    _run_kedro(project, pipeline="training", params=one_epoch)
    _run_kedro(project, pipeline="evaluation")

    for versioned in (MODEL_VERSIONS, HISTORY_VERSIONS, METRICS_VERSIONS):
        assert len(dataset_versions(project / versioned)) == 2, versioned
    checkpoint_runs = sorted((project / CHECKPOINTS).iterdir())
    assert len(checkpoint_runs) == 2
    assert first_metrics.read_text() == first_metrics_text
    second_metrics = json.loads(
        (dataset_versions(project / METRICS_VERSIONS)[1] / METRICS_VERSIONS.name).read_text()
    )
    # The second evaluation scored the second run's model.
    assert Path(second_metrics["model"]["checkpoint_folder"]).name == checkpoint_runs[1].name


class _NotJson:
    pass


@pytest.mark.parametrize("dataset_type", [JSONDataset, AtomicJSONDataset])
def test_a_save_that_fails_half_way_leaves_the_earlier_json_whole_only_when_atomic(
    tmp_path: Path, dataset_type: type
):
    path = tmp_path / "report.json"
    dataset = dataset_type(filepath=str(path))
    dataset.save({"mdice": 0.5})
    with pytest.raises(DatasetError, match="not JSON serializable"):
        dataset.save({"mdice": 0.7, "figure": _NotJson()})
    if dataset_type is AtomicJSONDataset:
        assert dataset.load() == {"mdice": 0.5}
        assert list(tmp_path.iterdir()) == [path]
    else:  # kedro-datasets' writer leaves the half-written file that this project avoids
        with pytest.raises(json.JSONDecodeError):
            json.loads(path.read_text())


def test_atomic_json_and_text_keep_versioning(tmp_path: Path):
    def json_version(version: str | None) -> AtomicJSONDataset:
        return AtomicJSONDataset(filepath=str(tmp_path / "m.json"), version=Version(None, version))

    def text_version(version: str | None) -> AtomicTextDataset:
        return AtomicTextDataset(filepath=str(tmp_path / "r.md"), version=Version(None, version))

    first, second = "2026-01-01T00.00.00.000Z", "2026-01-02T00.00.00.000Z"
    for version, value in ((first, 1), (second, 2)):
        json_version(version).save({"value": value})
        text_version(version).save(f"# run {value}\n")
    assert json_version(None).load() == {"value": 2}
    assert text_version(None).load() == "# run 2\n"
    assert json.loads((tmp_path / "m.json" / first / "m.json").read_text()) == {"value": 1}
    assert (tmp_path / "r.md" / first / "r.md").read_text() == "# run 1\n"
    with pytest.raises(DatasetError, match="local files only"):
        AtomicJSONDataset(filepath="memory://m.json").save({"value": 3})
