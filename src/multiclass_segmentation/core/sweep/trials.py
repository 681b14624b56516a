"""A sweep's trials: each one training run, this worker's budget of them in the study."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import optuna
import pandas as pd
from optuna_integration import PyTorchLightningPruningCallback

from multiclass_segmentation.analysis.model_selection import best_epoch
from multiclass_segmentation.config.common import ClassesParams, DatasetParams
from multiclass_segmentation.config.sweep import SweepParams
from multiclass_segmentation.config.training import TrainingParams
from multiclass_segmentation.core.sweep.search_space import (
    base_values,
    check_search_space,
    sample,
    trial_training,
)
from multiclass_segmentation.core.sweep.storage import (
    HOST,
    WORKER,
    open_study,
    shown_url,
    storage_url,
)
from multiclass_segmentation.core.training_run import fit_segmenter, resolve_class_weights

logger = logging.getLogger(__name__)

OBJECTIVE = "val_mdice"  # what SegmentationModule logs after each validation epoch


@dataclass(frozen=True)
class SweepInputs:
    """What every trial trains on: the training node's inputs, and the Lightning callbacks
    that every trial's training gets (the caller's tracking)."""

    train: pd.DataFrame
    val: pd.DataFrame
    dataset: DatasetParams
    suggested_class_weights: dict[str, Any]
    training: TrainingParams
    classes: ClassesParams
    hypothesis: str
    callbacks: Sequence[L.Callback] = ()


TrialRunner = Callable[[optuna.Trial, SweepInputs, SweepParams], float]


def run_trial(trial: optuna.Trial, inputs: SweepInputs, sweep: SweepParams) -> float:
    """One trial, one training run: its best validation mDice; raises TrialPruned when pruned.

    The one call per trial, so per-trial tracking can wrap it (``run_sweep``'s
    ``trial_runner``). Its checkpoints go to
    ``<training.checkpoint_dir>/sweep-<study>/trial-<number>/``.
    """
    trial.set_user_attr("worker", WORKER)
    trial.set_user_attr("host", HOST)
    folder = Path(
        inputs.training.checkpoint_dir, f"sweep-{sweep.study_name}", f"trial-{trial.number}"
    )
    overrides = {**sweep.trial_overrides, "checkpoint_dir": str(folder)}
    training = trial_training(inputs.training, overrides, sample(trial, sweep.search_space))
    class_weights = resolve_class_weights(training, inputs.classes, inputs.suggested_class_weights)
    pruning = PyTorchLightningPruningCallback(trial, monitor=OBJECTIVE)
    _, history = fit_segmenter(
        inputs.train,
        inputs.val,
        inputs.dataset,
        class_weights,
        training,
        inputs.classes,
        inputs.hypothesis,
        # After the caller's callbacks: they report a validation before pruning stops the run.
        extra_callbacks=[*inputs.callbacks, pruning],
    )
    pruning.check_pruned()  # the DDP case: a spawned process decided
    trial.set_user_attr("epochs_run", len(history))
    best = best_epoch(history)
    return float(best[OBJECTIVE]) if best else math.nan


def _enqueue_base(study: optuna.Study, inputs: SweepInputs, sweep: SweepParams) -> None:
    # Only into a new study: the base is measured once, by whichever worker takes it.
    if study.get_trials(deepcopy=False):
        return
    values = base_values(inputs.training, sweep)
    if values is not None:
        study.enqueue_trial(values, user_attrs={"base": True}, skip_if_exists=True)


def run_sweep(
    inputs: SweepInputs, sweep: SweepParams, trial_runner: TrialRunner = run_trial
) -> optuna.Study:
    """Runs this worker's budget of trials in the study; returns the study."""
    check_search_space(inputs.training, sweep)
    study = open_study(sweep)
    logger.info(
        "Sweep '%s' in %s, worker %s: %s trials, %s minutes at most",
        sweep.study_name,
        shown_url(storage_url(sweep)),
        WORKER,
        sweep.n_trials or "any number of",
        sweep.timeout_minutes or "no limit in",
    )
    if sweep.include_base:
        _enqueue_base(study, inputs, sweep)
    study.optimize(
        lambda trial: trial_runner(trial, inputs, sweep),
        n_trials=sweep.n_trials,
        timeout=None if sweep.timeout_minutes is None else sweep.timeout_minutes * 60,
        gc_after_trial=True,
    )
    return study
