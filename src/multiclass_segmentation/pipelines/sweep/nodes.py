"""Nodes of the sweep pipeline; the Optuna logic is in ``multiclass_segmentation.core.sweep``,
the trials' ClearML tasks in ``integrations.clearml_trials``."""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from multiclass_segmentation.config.common import ClassesParams, DatasetParams
from multiclass_segmentation.config.sweep import SweepParams
from multiclass_segmentation.config.tracking import TrackingParams
from multiclass_segmentation.config.training import TrainingParams
from multiclass_segmentation.core.sweep import trials
from multiclass_segmentation.core.sweep.storage import load_study
from multiclass_segmentation.core.sweep.summary import summarize
from multiclass_segmentation.errors import BadInputError
from multiclass_segmentation.integrations.clearml_tasks import tracking_callbacks
from multiclass_segmentation.integrations.clearml_trials import tracked_trials
from multiclass_segmentation.report.sweep import sweep_markdown
from multiclass_segmentation.report.sweep_figures import history_figure, importance_figure


def _check_best_env_is_ours(conf_environments: dict[str, bool], sweep: SweepParams) -> None:
    env = sweep.best_hypothesis.env
    if conf_environments.get(env) is False:
        raise BadInputError(
            f"sweep.best_hypothesis.env '{env}' is an environment that no sweep wrote "
            f"(conf/{env}/); the sweep never overwrites one. Choose another name, e.g. "
            f'--params "sweep.best_hypothesis.env={env}_sweep".'
        )


def run_sweep(
    train: pd.DataFrame,
    val: pd.DataFrame,
    dataset: DatasetParams,
    suggested_class_weights: dict[str, Any],
    training: TrainingParams,
    classes: ClassesParams,
    hypothesis: str,
    sweep: SweepParams,
    tracking: TrackingParams,
    conf_environments: dict[str, bool],
) -> dict[str, Any]:
    """Runs this worker's trials, each a ClearML task; returns the summary of every trial."""
    _check_best_env_is_ours(conf_environments, sweep)
    inputs = trials.SweepInputs(
        train,
        val,
        dataset,
        suggested_class_weights,
        training,
        classes,
        hypothesis,
        callbacks=tracking_callbacks(),
    )
    study = trials.run_sweep(inputs, sweep, trial_runner=tracked_trials(tracking))
    return summarize(study, sweep)


def plot_sweep_history(summary: dict[str, Any], sweep: SweepParams) -> Figure:
    """Optuna's optimisation history of the study (every worker's trials)."""
    return history_figure(load_study(sweep))


def plot_sweep_importances(summary: dict[str, Any], sweep: SweepParams) -> Figure:
    """Optuna's parameter importances of the study."""
    return importance_figure(load_study(sweep))


def write_sweep_report(summary: dict[str, Any], hypothesis: str) -> str:
    """The markdown report; its figures sit in figures/ next to it (the catalog's paths)."""
    figures = {
        name: f"figures/sweep_{name}_{hypothesis}.png" for name in ("history", "importances")
    }
    return sweep_markdown(summary, figures)
