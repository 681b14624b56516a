"""One training run: callbacks handed in by the caller, checkpoints read without unpickling,
the strategies whose processes start inside the node."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest

from multiclass_segmentation.config.common import DatasetParams
from multiclass_segmentation.config.training import TrainingParams
from multiclass_segmentation.core.module import EpochHistory
from multiclass_segmentation.core.training_run import (
    LAST_CHECKPOINT,
    _check_resume_epochs,
    _starts_processes_itself,
    fit_segmenter,
)
from multiclass_segmentation.errors import BadInputError
from tests.core.test_ddp import CLASSES, _split

EPOCHS = 2


class EpochsSeen(L.Callback):
    """What the caller's callback sees of the trainer's history at each epoch's end."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        (history,) = [c for c in trainer.callbacks if isinstance(c, EpochHistory)]
        self.seen.append(history.epochs[-1]["epoch"])


def _training(checkpoint_dir: Path, epochs: int) -> TrainingParams:
    return TrainingParams.model_validate(
        {
            "model": {
                "architecture": "Unet",
                "encoder_name": "resnet18",
                "encoder_weights": None,
                "encoder_depth": 3,
                "extra": {"decoder_channels": [16, 8, 8]},
            },
            "image_size": 32,
            "batch_size": 2,
            "epochs": epochs,
            "trainer": {"accelerator": "cpu", "devices": 1},
            "checkpoint_dir": str(checkpoint_dir),
        }
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, EpochsSeen, dict]:
    root = tmp_path_factory.mktemp("training_run")
    epochs_seen = EpochsSeen()
    segmenter, _ = fit_segmenter(
        _split(root / "data", 4, seed=0),
        _split(root / "data", 2, seed=1),
        DatasetParams(root=str(root / "data")),
        None,
        _training(root / "checkpoints", EPOCHS),
        CLASSES,
        "tiny",
        extra_callbacks=[epochs_seen],
    )
    (run_folder,) = (root / "checkpoints").iterdir()
    return run_folder, epochs_seen, segmenter.info


@pytest.mark.slow
def test_the_callers_callbacks_run_after_the_history_has_recorded_each_epoch(trained):
    _, epochs_seen, info = trained
    assert epochs_seen.seen == list(range(1, EPOCHS + 1))
    assert info["epochs_run"] == EPOCHS


@pytest.mark.slow
def test_a_resume_reads_the_planned_epochs_from_a_real_checkpoint(trained, tmp_path: Path):
    run_folder, _, _ = trained
    last = run_folder / LAST_CHECKPOINT
    _check_resume_epochs(last, _training(tmp_path, EPOCHS))
    with pytest.raises(BadInputError, match=f"planned for {EPOCHS} epochs"):
        _check_resume_epochs(last, _training(tmp_path, EPOCHS + 1))


@pytest.mark.parametrize(
    ("strategy", "inside"),
    [("ddp_spawn", True), ("ddp_fork", True), ("ddp_notebook", True), ("ddp", False)]
    + [("auto", False), ("ddp_find_unused_parameters_true", False)],
)
def test_only_spawn_and_fork_strategies_start_their_processes_inside(strategy, inside):
    assert _starts_processes_itself(strategy) is inside
