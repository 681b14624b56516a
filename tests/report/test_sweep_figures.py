"""The sweep's figures: Optuna's plots, or a note when the study has too few trials."""

from __future__ import annotations

import optuna
from matplotlib.figure import Figure

from multiclass_segmentation.report.sweep_figures import history_figure, importance_figure


def _study(values: list[float]) -> optuna.Study:
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(0))
    for value in values:
        trial = study.ask()
        trial.suggest_float("lr", 1e-4, 1e-2)
        trial.suggest_int("depth", 3, 5)
        study.tell(trial, value)
    return study


def _texts(figure: Figure) -> list[str]:
    return [text.get_text() for axes in figure.axes for text in axes.texts]


def test_a_study_without_complete_trials_gets_notes():
    study = _study([])
    history, importances = history_figure(study), importance_figure(study)
    assert isinstance(history, Figure) and isinstance(importances, Figure)
    assert _texts(history) == ["No complete trial yet."]
    assert _texts(importances) == ["0 complete trial(s): importances need 2 or more."]


def test_one_trial_gets_its_history_and_a_note_on_importances():
    study = _study([0.5])
    history = history_figure(study)
    assert _texts(history) == []
    assert history.axes[0].get_title() == "Optimization History Plot"
    assert tuple(history.get_size_inches()) == (8, 4.5)
    assert _texts(importance_figure(study)) == ["1 complete trial(s): importances need 2 or more."]


def test_enough_trials_get_the_importances_of_every_parameter():
    figure = importance_figure(_study([0.1, 0.5, 0.3, 0.7]))
    labels = {label.get_text() for label in figure.axes[0].get_yticklabels()}
    assert labels == {"lr", "depth"}
