"""LiveScalars: a training's curves in the current ClearML task, the history found by itself."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from multiclass_segmentation.core.module import EpochHistory
from multiclass_segmentation.integrations import clearml_tasks
from multiclass_segmentation.integrations.clearml_tasks import LiveScalars, tracking_callbacks

EPOCH_2 = {"epoch": 2, "train_loss": 0.5, "lr": 1e-3, "seconds": 7.0, "val_mdice": 0.6}


class ScalarRecorder:
    def __init__(self) -> None:
        self.reported: list[tuple[str, str, float, int]] = []

    def report_scalar(self, title: str, series: str, value: float, iteration: int) -> None:
        self.reported.append((title, series, value, iteration))


@pytest.fixture
def task_logger(monkeypatch: pytest.MonkeyPatch) -> ScalarRecorder:
    recorder = ScalarRecorder()
    monkeypatch.setattr(clearml_tasks, "_current_task_logger", lambda: recorder)
    return recorder


def _trainer(history: EpochHistory, current_epoch: int) -> SimpleNamespace:
    return SimpleNamespace(
        callbacks=[history, LiveScalars()], current_epoch=current_epoch, is_global_zero=True
    )


def test_the_epoch_line_comes_from_the_trainers_history(task_logger: ScalarRecorder):
    history = EpochHistory()
    history.epochs = [{**EPOCH_2, "epoch": 1}, EPOCH_2]
    trainer = _trainer(history, current_epoch=1)

    trainer.callbacks[1].on_train_epoch_end(trainer, None)

    assert task_logger.reported == [
        ("train loss", "train", 0.5, 2),
        ("learning rate", "lr", 1e-3, 2),
        ("epoch time", "seconds", 7.0, 2),
    ]


def test_an_epoch_the_history_has_not_recorded_is_not_reported(task_logger: ScalarRecorder):
    history = EpochHistory()
    history.epochs = [{**EPOCH_2, "epoch": 1}]
    trainer = _trainer(history, current_epoch=1)  # epoch 2 ends, the history holds epoch 1

    trainer.callbacks[1].on_train_epoch_end(trainer, None)
    trainer.callbacks[1].on_train_epoch_end(_trainer(EpochHistory(), 0), None)

    assert task_logger.reported == []


def test_the_tracking_callbacks_are_live_scalars():
    assert [type(c) for c in tracking_callbacks()] == [LiveScalars]
