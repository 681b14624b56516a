"""A trial's parameters at the search space's paths, checked before the first trial."""

from __future__ import annotations

import pytest

from multiclass_segmentation.config.training import TrainingParams
from multiclass_segmentation.core.sweep.search_space import (
    base_values,
    check_search_space,
    trial_training,
)
from multiclass_segmentation.errors import BadInputError
from tests.core.sweep.params import BASE, sweep_params


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
        check_search_space(TrainingParams.model_validate(BASE), sweep_params(dimension))
    assert named in str(error.value)


def test_bad_trial_overrides_are_refused_before_any_trial():
    with pytest.raises(BadInputError, match="epochs"):
        check_search_space(
            TrainingParams.model_validate(BASE), sweep_params(trial_overrides={"epochs": 0})
        )


def test_the_base_is_trial_0_only_when_its_values_lie_in_the_search_space():
    inside = sweep_params(
        {"path": "optimizer.lr", "type": "float", "low": 1e-4, "high": 1e-2, "log": True},
        {"path": "model.architecture", "type": "categorical", "choices": ["FPN", "Unet"]},
    )
    training = TrainingParams.model_validate(BASE)
    assert base_values(training, inside) == {"optimizer.lr": 1e-3, "model.architecture": "Unet"}
    outside = sweep_params({"path": "optimizer.lr", "type": "float", "low": 2e-3, "high": 1e-2})
    assert base_values(training, outside) is None
