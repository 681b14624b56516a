"""`kedro run --pipelines sweep` on the demo: embedded storage, pruning, errors, shared workers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

import optuna
import pytest
import yaml
from PIL import Image

from multiclass_segmentation.cli import find_user_error
from multiclass_segmentation.errors import BadInputError
from multiclass_segmentation.io.datasets import GENERATED_MARKER
from tests.conftest import (
    PROJECT_ROOT,
    dataset_versions,
    run_kedro,
    validated_demo_project,
    wait_for_processes,
)
from tests.postgres import postgres_server

# Each test runs pipelines that train (minutes in all): `make test-fast` leaves them out.
pytestmark = pytest.mark.slow

# Where the demo environment keeps a sweep (conf/demo/globals.yml, parameters_sweep.yml).
STUDIES = Path("data/06_models/demo/sweeps")
CHECKPOINTS = Path("data/06_models/demo/checkpoints/demo")
REPORTING = Path("data/08_reporting/demo")
# The searched parameters' values in conf/base/parameters_training.yml: the base trial.
BASE_VALUES = {
    "optimizer.lr": 1e-3,
    "loss.terms.1.weight": 1.0,
    "augmentations.2.params.brightness": 0.3,
}
WORKERS, TRIALS_PER_WORKER = 2, 2
RUN_TIMEOUT_S = 300


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return validated_demo_project(tmp_path_factory.mktemp("sweep"))


def _sweep(project: Path, **sweep) -> None:
    run_kedro(project, env="demo", pipeline="sweep", params={"sweep": sweep})


def _summary(project: Path) -> dict:
    version = dataset_versions(project / REPORTING / "sweep_demo.json")[-1]
    return json.loads((version / "sweep_demo.json").read_text())


def _study(project: Path, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=f"sqlite:///{project / STUDIES}/{name}.db")


def test_an_embedded_sweep_writes_its_study_reports_and_a_runnable_best_hypothesis(
    project: Path,
):
    _sweep(project, study_name="embedded", n_trials=2, best_hypothesis={"env": "embedded_best"})

    trials = _study(project, "embedded").get_trials()
    assert [t.number for t in trials] == [0, 1]
    assert trials[0].params == pytest.approx(BASE_VALUES)
    assert trials[0].user_attrs["base"] is True
    assert {t.state for t in trials} <= {
        optuna.trial.TrialState.COMPLETE,
        optuna.trial.TrialState.PRUNED,
    }
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    best = max(complete, key=lambda t: t.value)

    summary = _summary(project)
    assert [(t["number"], t["state"]) for t in summary["trials"]] == [
        (t.number, t.state.name) for t in trials
    ]
    assert summary["best_trial"]["number"] == best.number
    assert summary["base_trial"]["number"] == 0
    assert all(t["epochs_run"] in (1, 2) and t["seconds"] > 0 for t in summary["trials"])
    # Trial checkpoints stay in folders of their own, apart from the main runs'.
    assert (project / CHECKPOINTS / "sweep-embedded" / "trial-0").is_dir()
    assert all(p.name.startswith("sweep-") for p in (project / CHECKPOINTS).iterdir())

    report = (project / REPORTING / "sweep_demo.md").read_text()
    assert f"Best: trial {best.number}" in report and "| 0 (base) |" in report
    for name in ("history", "importances"):
        with Image.open(project / REPORTING / "figures" / f"sweep_{name}_demo.png") as figure:
            assert figure.width > 300 and figure.height > 200

    env = project / "conf" / "embedded_best"
    assert (env / "globals.yml").read_text().startswith(GENERATED_MARKER)
    assert yaml.safe_load((env / "globals.yml").read_text())["hypothesis"] == "embedded_best"
    run_kedro(project, env="embedded_best", pipeline="training")
    (model,) = dataset_versions(project / "data/06_models/demo/embedded_best")
    info = json.loads((model / "embedded_best" / "segmenter.json").read_text())["info"]
    trained = info["parameters"]
    assert trained["optimizer"]["lr"] == pytest.approx(best.params["optimizer.lr"])
    assert trained["loss"]["terms"][1]["weight"] == pytest.approx(
        best.params["loss.terms.1.weight"]
    )
    assert trained["epochs"] == 2  # the demo's own epochs (conf/demo/parameters_training.yml)
    assert trained["model"]["encoder_name"] == "resnet18"  # the demo's model, carried over


def test_a_threshold_pruner_records_pruned_trials_and_no_best(project: Path):
    pruner = {"name": "threshold", "lower": 1.01}  # no validation mDice reaches it
    _sweep(
        project,
        study_name="pruned",
        n_trials=1,
        pruner=pruner,
        best_hypothesis={"env": "pruned_best"},
    )

    trials = _study(project, "pruned").get_trials()
    assert [t.state.name for t in trials] == ["PRUNED"]
    assert [len(t.intermediate_values) for t in trials] == [1]  # stopped after epoch 1
    summary = _summary(project)
    assert summary["best_trial"] is None
    assert [t["epochs_run"] for t in summary["trials"]] == [1]
    assert not (project / "conf" / "pruned_best").exists()
    assert "No trial completed" in (project / REPORTING / "sweep_demo.md").read_text()


def _archived_tasks(offline_dir: Path) -> list[dict]:
    """task.json and scalar names of every offline ClearML session, by task name."""
    tasks = []
    for archive in offline_dir.glob("*.zip"):
        with zipfile.ZipFile(archive) as zf:
            task = json.loads(zf.read("task.json"))
            lines = zf.read("metrics.jsonl").decode().splitlines()
        events = [e for line in lines if line.strip() for e in json.loads(line)]
        tasks.append({**task, "scalars": {e["metric"] for e in events}})
    return sorted(tasks, key=lambda task: task["name"])


def test_every_trial_is_a_clearml_task_of_its_own_with_its_curves(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from clearml.config.cache import SessionCache

    offline_dir = tmp_path / "clearml" / "cache" / "offline"
    monkeypatch.setenv("CLEARML_CACHE_DIR", str(tmp_path / "clearml" / "cache"))
    monkeypatch.setattr(SessionCache, "SESSION_CACHE_FOLDER", str(tmp_path / "clearml"))
    tracking_on = project / "conf" / "demo" / "parameters_tracking.yml"
    tracking_on.write_text("tracking: {enabled: true, resource_monitoring: false}\n")
    try:
        _sweep(
            project,
            study_name="tracked",
            n_trials=2,
            pruner={"name": "threshold", "lower": 1.01},  # both trials pruned after epoch 1
            best_hypothesis={"env": "tracked_best"},
        )
    finally:
        tracking_on.unlink()

    # One task per trial and none for the run itself.
    tasks = _archived_tasks(offline_dir)
    assert [task["name"] for task in tasks] == ["tracked trial 0", "tracked trial 1"]
    for number, task in enumerate(tasks):
        assert {"sweep", "tracked", "pruned"} <= set(task["tags"])
        assert task["hyperparams"]["trial"]["number"]["value"] == str(number)
        assert "optimizer.lr" in task["hyperparams"]["trial"]
        assert {"val mDice", "train loss (per step)"} <= task["scalars"]


def _user_error(error: BaseException) -> BaseException | None:
    return find_user_error(error)


def test_a_bad_search_space_path_stops_the_sweep_before_any_training(project: Path):
    space = [{"path": "optimiser.lr", "type": "float", "low": 1e-4, "high": 1e-2}]
    with pytest.raises(Exception, match="sweep.search_space path 'optimiser.lr'") as error:
        _sweep(project, study_name="typo", search_space=space)
    assert isinstance(_user_error(error.value), BadInputError)
    assert not (project / CHECKPOINTS / "sweep-typo").exists()
    assert not (project / STUDIES / "typo.db").exists()


def test_an_environment_that_no_sweep_wrote_is_never_the_best_hypothesis(project: Path):
    with pytest.raises(Exception, match="no sweep wrote") as error:
        _sweep(project, study_name="clash", best_hypothesis={"env": "demo"})
    assert isinstance(_user_error(error.value), BadInputError)
    assert not (project / CHECKPOINTS / "sweep-clash").exists()
    assert (project / "conf/demo/globals.yml").read_text().startswith("# The demo environment")


def _worker(project: Path, storage: str, log: Path) -> subprocess.Popen:
    """One worker machine: the same command that docs/sweeps.md gives, in its own project copy."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(PROJECT_ROOT / "src"), *filter(None, [env.get("PYTHONPATH")])]
    )
    params = (
        f"sweep.storage={storage},sweep.study_name=shared,"
        f"sweep.n_trials={TRIALS_PER_WORKER},sweep.best_hypothesis.env=shared_best"
    )
    command = [sys.executable, "-m", "multiclass_segmentation", "--env", "demo"]
    with open(log, "w") as output:
        return subprocess.Popen(
            [*command, "--pipelines", "sweep", "--params", params],
            cwd=project,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait(runs: list[subprocess.Popen], logs: list[Path]) -> None:
    wait_for_processes(runs, logs, RUN_TIMEOUT_S)
    for run, log in zip(runs, logs, strict=True):
        assert run.returncode == 0, log.read_text()[-6000:]


@pytest.mark.timeout(RUN_TIMEOUT_S + 60)
@pytest.mark.postgres
def test_two_workers_share_one_study_in_postgresql(project: Path, tmp_path: Path):
    machines = [shutil.copytree(project, tmp_path / f"machine{i}") for i in range(WORKERS)]
    logs = [tmp_path / f"worker{i}.log" for i in range(WORKERS)]
    with postgres_server() as storage:
        _wait([_worker(m, storage, log) for m, log in zip(machines, logs, strict=True)], logs)
        trials = optuna.load_study(study_name="shared", storage=storage).get_trials()

    assert sorted(t.number for t in trials) == list(range(WORKERS * TRIALS_PER_WORKER))
    assert {t.state.name for t in trials} <= {"COMPLETE", "PRUNED"}  # none RUNNING or lost
    per_worker = Counter(t.user_attrs["worker"] for t in trials)
    print("trials per worker:", dict(per_worker))
    assert sorted(per_worker.values()) == [TRIALS_PER_WORKER] * WORKERS
    for machine in machines:
        summary = _summary(machine)
        assert len(summary["trials_of_this_worker"]) == TRIALS_PER_WORKER
        assert "sweep" in summary["storage"] and "postgresql" in summary["storage"]
