"""A ClearML task per sweep trial, without Kedro: the sweep node wraps core's trial runner.

Many trainings in one run would mix their curves in one task, so each trial gets
its own (``clearml_tasks.task_of_its_own``): its live training curves (its training
reports to the current task, ``LiveScalars``), its sampled values, its result and
a ``pruned`` tag.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import optuna

from multiclass_segmentation.config.sweep import SweepParams
from multiclass_segmentation.config.tracking import TrackingParams
from multiclass_segmentation.core.sweep.trials import SweepInputs, TrialRunner, run_trial
from multiclass_segmentation.integrations.clearml_tasks import task_of_its_own

logger = logging.getLogger(__name__)


def tracked_trials(tracking: TrackingParams, runner: TrialRunner = run_trial) -> TrialRunner:
    """``runner`` with each trial in a ClearML task of its own."""

    def run(trial: optuna.Trial, inputs: SweepInputs, sweep: SweepParams) -> float:
        name = f"{sweep.study_name} trial {trial.number}"
        with task_of_its_own(tracking, name, tags=["sweep", sweep.study_name]) as task:
            try:
                value = runner(trial, inputs, sweep)
            except optuna.TrialPruned:
                _record_trial(task, trial, None)
                raise
            _record_trial(task, trial, value)
            return value

    return run


def _record_trial(task: Any, trial: optuna.Trial, value: float | None) -> None:
    """The trial's values and result in its task; a ClearML error is only a warning."""
    if task is None:
        return
    try:
        task.connect({"number": trial.number, **trial.params}, name="trial")
        if value is None:
            task.add_tags(["pruned"])
        elif math.isfinite(value):
            task.get_logger().report_single_value(name="best val mDice", value=value)
    except Exception as error:
        logger.warning("Trial %d: ClearML did not take its result (%s)", trial.number, error)
