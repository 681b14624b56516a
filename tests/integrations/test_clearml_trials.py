"""A sweep trial's ClearML task: its values, its result, a tag when pruned."""

from __future__ import annotations

import math

import optuna
import pytest

from multiclass_segmentation.config.tracking import TrackingParams
from multiclass_segmentation.integrations.clearml_trials import _record_trial, tracked_trials


class TaskRecorder:
    def __init__(self) -> None:
        self.connected: dict = {}
        self.tags: list[str] = []
        self.single_values: dict[str, float] = {}

    def connect(self, values: dict, name: str) -> None:
        self.connected[name] = values

    def add_tags(self, tags: list[str]) -> None:
        self.tags += tags

    def get_logger(self) -> TaskRecorder:
        return self

    def report_single_value(self, name: str, value: float) -> None:
        self.single_values[name] = value


class _Sweep:
    study_name = "s"


@pytest.fixture
def trial() -> optuna.Trial:
    study = optuna.create_study(direction="maximize")
    trial = study.ask()
    trial.suggest_float("optimizer.lr", 0.1, 0.2)
    return trial


def test_a_completed_trial_records_its_values_and_result(trial: optuna.Trial):
    task = TaskRecorder()
    _record_trial(task, trial, 0.75)
    assert task.connected == {"trial": {"number": 0, **trial.params}}
    assert task.single_values == {"best val mDice": 0.75}
    assert task.tags == []


def test_a_pruned_trial_is_tagged_and_a_nan_result_is_not_reported(trial: optuna.Trial):
    pruned, failed = TaskRecorder(), TaskRecorder()
    _record_trial(pruned, trial, None)
    _record_trial(failed, trial, math.nan)
    assert pruned.tags == ["pruned"] and pruned.single_values == {}
    assert failed.tags == [] and failed.single_values == {}


def test_without_tracking_the_runner_runs_and_its_value_and_pruning_pass_through(
    trial: optuna.Trial,
):
    tracking = TrackingParams(enabled=False)
    assert tracked_trials(tracking, lambda t, inputs, sweep: 0.5)(trial, None, _Sweep()) == 0.5

    def pruned(t: optuna.Trial, inputs: object, sweep: object) -> float:
        raise optuna.TrialPruned

    with pytest.raises(optuna.TrialPruned):
        tracked_trials(tracking, pruned)(trial, None, _Sweep())
