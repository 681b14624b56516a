"""The sweep's trial parameters, search-space checks, best-hypothesis files and their writer."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from kedro.io.core import DatasetError

from multiclass_segmentation.config.sweep import SweepParams
from multiclass_segmentation.config.training import TrainingParams
from multiclass_segmentation.core.sweep import (
    base_values,
    best_hypothesis_files,
    check_search_space,
    differences,
    trial_training,
)
from multiclass_segmentation.errors import BadInputError
from multiclass_segmentation.io.datasets import GENERATED_MARKER, ConfEnvironmentsDataset

BASE = {
    "checkpoint_dir": "data/06_models/checkpoints/base",
    "model": {"architecture": "Unet", "encoder_name": "resnet18", "encoder_weights": None},
    "epochs": 24,
    "loss": {"terms": [{"name": "cross_entropy"}, {"name": "dice", "weight": 1.0}]},
    "optimizer": {"name": "adamw", "lr": 1.0e-3, "weight_decay": 1.0e-4},
    "trainer": {"gradient_clip_val": 1.0},
}


def _sweep(*dimensions: dict, **settings) -> SweepParams:
    return SweepParams.model_validate(
        {
            "study_name": "s",
            "embedded_storage_dir": "unused",
            "n_trials": 1,
            "search_space": list(dimensions)
            or [{"path": "optimizer.lr", "type": "float", "low": 1e-4, "high": 1e-2}],
            **settings,
        }
    )


def test_a_trial_is_the_base_with_the_overrides_and_the_sampled_values():
    training = trial_training(
        TrainingParams.model_validate(BASE),
        {"epochs": 2, "trainer": {"limit_train_batches": 3}},
        {"optimizer.lr": 0.005, "loss.terms.1.weight": 0.5, "model.architecture": "FPN"},
    )
    assert training.epochs == 2
    assert training.trainer.limit_train_batches == 3
    assert training.trainer.gradient_clip_val == 1.0  # merged key by key, not replaced
    assert training.optimizer.lr == 0.005
    assert training.optimizer.weight_decay == 1.0e-4
    assert [(t.name, t.weight) for t in training.loss.terms] == [
        ("cross_entropy", 1.0),
        ("dice", 0.5),
    ]
    assert training.model.architecture == "FPN"
    assert training.model.encoder_name == "resnet18"


@pytest.mark.parametrize(
    ("dimension", "named"),
    [
        ({"path": "optimiser.lr", "type": "float", "low": 1e-4, "high": 1e-2}, "'optimiser'"),
        ({"path": "loss.terms.2.weight", "type": "float", "low": 0.5, "high": 2}, "loss.terms.2"),
        ({"path": "optimizer.lr.x", "type": "float", "low": 0.5, "high": 2}, "optimizer.lr"),
        ({"path": "optimizer.lr", "type": "float", "low": 0.0, "high": 0.1}, "optimizer.lr=0.0"),
        (
            {"path": "model.architecture", "type": "categorical", "choices": ["Unet", "UNetto"]},
            "model.architecture='UNetto'",
        ),
        ({"path": "optimizer.lrr", "type": "float", "low": 0.1, "high": 0.2}, "lrr"),
    ],
)
def test_a_bad_path_or_value_is_refused_with_the_parameter_named(dimension: dict, named: str):
    with pytest.raises(BadInputError, match="sweep") as error:
        check_search_space(TrainingParams.model_validate(BASE), _sweep(dimension))
    assert named in str(error.value)


def test_bad_trial_overrides_are_refused_before_any_trial():
    with pytest.raises(BadInputError, match="epochs"):
        check_search_space(
            TrainingParams.model_validate(BASE), _sweep(trial_overrides={"epochs": 0})
        )


def test_the_base_is_trial_0_only_when_its_values_lie_in_the_search_space():
    inside = _sweep(
        {"path": "optimizer.lr", "type": "float", "low": 1e-4, "high": 1e-2, "log": True},
        {"path": "model.architecture", "type": "categorical", "choices": ["FPN", "Unet"]},
    )
    training = TrainingParams.model_validate(BASE)
    assert base_values(training, inside) == {"optimizer.lr": 1e-3, "model.architecture": "Unet"}
    outside = _sweep({"path": "optimizer.lr", "type": "float", "low": 2e-3, "high": 1e-2})
    assert base_values(training, outside) is None


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
    sweep = _sweep(
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
    assert best_hypothesis_files(_summary(None), training, _sweep(), {"training": BASE}, {}) == {}


def test_environments_are_replaced_whole_and_only_when_a_sweep_wrote_them(tmp_path: Path):
    conf = tmp_path / "conf"
    (conf / "mine").mkdir(parents=True)
    (conf / "mine" / "globals.yml").write_text("hypothesis: mine\n")
    dataset = ConfEnvironmentsDataset(path=str(conf))

    dataset.save({"best": {"globals.yml": "hypothesis: best\n", "parameters_training.yml": "{}"}})
    dataset.save({"best": {"globals.yml": "hypothesis: best\n"}})
    with pytest.raises(DatasetError, match="not written by a sweep"):
        dataset.save({"mine": {"globals.yml": "hypothesis: other\n"}})

    assert (conf / "mine" / "globals.yml").read_text() == "hypothesis: mine\n"
    assert [p.name for p in (conf / "best").iterdir()] == ["globals.yml"]
    assert (conf / "best" / "globals.yml").read_text() == f"{GENERATED_MARKER}\nhypothesis: best\n"
    assert sorted(p.name for p in conf.iterdir()) == ["best", "mine"]  # no temporaries left
    assert dataset.load() == {"best": True, "mine": False}
