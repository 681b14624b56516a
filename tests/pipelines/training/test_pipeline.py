"""The demo environment end to end: validation, EDA, a 2-step training, evaluation, resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import copy_project, dataset_versions, run_kedro


def _latest_json(folder: Path) -> dict:
    version = dataset_versions(folder)[-1]
    return json.loads((version / folder.name).read_text())


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One `kedro run --env demo` of every pipeline in a throw-away project copy."""
    project = copy_project(tmp_path_factory.mktemp("demo"))
    run_kedro(project, env="demo")
    return project


@pytest.mark.slow
def test_demo_run_saves_a_versioned_model_history_and_metrics(demo_run: Path):
    model_versions = dataset_versions(demo_run / "data/06_models/demo/demo")
    assert len(model_versions) == 1
    model_folder = model_versions[0] / "demo"
    assert {"config.json", "segmenter.json"} <= {p.name for p in model_folder.iterdir()}

    history = _latest_json(demo_run / "data/08_reporting/demo/training_history_demo.json")
    assert [e["epoch"] for e in history] == [1, 2]
    assert all(0.0 <= e["val_mdice"] <= 1.0 for e in history)
    assert all(e["seconds"] > 0 and e["lr"] > 0 for e in history)

    metrics = _latest_json(demo_run / "data/08_reporting/demo/metrics.json")
    assert metrics["hypothesis"] == "demo"
    assert 0.0 <= metrics["test"]["mdice"] <= 1.0
    assert len(metrics["test"]["per_image_dice"]) == 8

    results = json.loads((demo_run / "data/08_reporting/demo/results.json").read_text())
    assert results["hypotheses"]["demo"]["test_mdice"] == metrics["test"]["mdice"]
    assert results["best_model"] == "demo"
    figures = {p.name for p in (demo_run / "data/08_reporting/demo/figures").iterdir()}
    assert {
        "learning_curves_demo.png",
        "error_examples_demo.png",
        "confusion_and_size_recall_demo.png",
    } <= figures


@pytest.mark.slow
def test_resume_keeps_the_planned_epochs_and_never_overwrites(demo_run: Path):
    history_folder = demo_run / "data/08_reporting/demo/training_history_demo.json"
    first_history = _latest_json(history_folder)
    with pytest.raises(Exception, match="resume with training.epochs=2"):
        run_kedro(
            demo_run,
            env="demo",
            pipeline="training",
            params={"training": {"epochs": 3, "resume": True}},
        )
    # The finished run resumes at its end: its history comes back from the checkpoint.
    run_kedro(demo_run, env="demo", pipeline="training", params={"training": {"resume": True}})
    assert _latest_json(history_folder) == first_history
    assert len(dataset_versions(history_folder)) == 2
    assert len(dataset_versions(demo_run / "data/06_models/demo/demo")) == 2
    checkpoint_runs = list((demo_run / "data/06_models/demo/checkpoints/demo").iterdir())
    assert len(checkpoint_runs) == 1


@pytest.mark.slow
def test_resume_without_an_earlier_run_says_so(project_copy: Path):
    with pytest.raises(Exception, match="no run with a last.ckpt"):
        run_kedro(project_copy, env="demo", params={"training": {"resume": True}})
