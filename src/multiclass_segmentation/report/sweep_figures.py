"""Figures of a sweep's Optuna study: the optimisation history and the parameter importances.

Optuna's matplotlib plots make their own figures (matplotlib's global state); with too
few trials for a plot, a figure holding a note says so instead.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import optuna
from matplotlib.figure import Figure
from optuna.trial import TrialState

SIZE_INCHES = (8, 4.5)


def _optuna_plot(plot: Callable[[optuna.Study], Any], study: optuna.Study) -> Figure:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        axes = plot(study)
    figure = axes.figure
    figure.set_size_inches(*SIZE_INCHES)
    return figure


def _note(title: str, text: str) -> Figure:
    figure = Figure(figsize=SIZE_INCHES)
    axes = figure.subplots()
    axes.set_axis_off()
    axes.set_title(title)
    axes.text(0.5, 0.5, text, ha="center", va="center", wrap=True)
    return figure


def _complete_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


def history_figure(study: optuna.Study) -> Figure:
    """Optuna's optimisation history: each trial's value and the best so far."""
    if not _complete_trials(study):
        return _note("Optimization History Plot", "No complete trial yet.")
    return _optuna_plot(optuna.visualization.matplotlib.plot_optimization_history, study)


def importance_figure(study: optuna.Study) -> Figure:
    """Optuna's parameter importances (fANOVA), or a note when there are too few trials."""
    complete = _complete_trials(study)
    if len(complete) < 2:
        return _note(
            "Hyperparameter Importances",
            f"{len(complete)} complete trial(s): importances need 2 or more.",
        )
    return _optuna_plot(optuna.visualization.matplotlib.plot_param_importances, study)
