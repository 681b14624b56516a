"""The best trial as a hypothesis environment: its differences from conf/base."""

from __future__ import annotations

import yaml

from multiclass_segmentation.config.training import TrainingParams
from multiclass_segmentation.core.sweep.best_hypothesis import (
    best_hypothesis_files,
    differences,
)
from tests.core.sweep.params import BASE, sweep_params


def test_differences_keep_changed_leaves_and_whole_lists():
    reference = {"a": {"b": 1, "c": 2}, "d": [1, 2], "e": 3}
    new = {"a": {"b": 1, "c": 5}, "d": [1, 3], "e": 3}
    assert differences(new, reference) == {"a": {"c": 5}, "d": [1, 3]}


def _summary(best: dict | None) -> dict:
    return {"study_name": "s", "trial_overrides": {"epochs": 2}, "best_trial": best}


def test_the_best_trial_is_written_as_its_differences_from_conf_base_with_full_epochs():
    best = {"number": 4, "value": 0.8, "params": {"optimizer.lr": 0.002}}
    # The sweep ran in an environment that already changed the batch size and a folder.
    sweep_training = TrainingParams.model_validate({**BASE, "batch_size": 4})
    sweep = sweep_params(
        best_hypothesis={"env": "best", "globals": {"dataset_root": "d", "models_dir": "m"}}
    )
    base_globals = {"hypothesis": "base", "dataset_root": "d", "models_dir": "data/06_models"}

    files = best_hypothesis_files(
        _summary(best), sweep_training, sweep, {"training": BASE}, base_globals
    )

    assert set(files) == {"best"}
    parameters = yaml.safe_load(files["best"]["parameters_training.yml"])
    assert parameters == {"training": {"batch_size": 4, "optimizer": {"lr": 0.002}}}
    assert yaml.safe_load(files["best"]["globals.yml"]) == {"hypothesis": "best", "models_dir": "m"}
    assert "trial 4" in files["best"]["globals.yml"]


def test_no_complete_trial_writes_no_hypothesis():
    training = TrainingParams.model_validate(BASE)
    assert (
        best_hypothesis_files(_summary(None), training, sweep_params(), {"training": BASE}, {})
        == {}
    )
