"""Data-parallel training: two CPU processes (gloo) that the training node starts itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from multiclass_segmentation.config.common import ClassesParams, DatasetParams
from multiclass_segmentation.config.training import TrainingParams
from multiclass_segmentation.pipelines.training.nodes import train_model
from tests.manifests import write_split

CLASSES = ClassesParams(
    names=("background", "cat", "dog"), ids=(0, 1, 2), colors=("gray", "orange", "blue")
)
TRAIN_IMAGES = 8
BATCH_SIZE = 2
EPOCHS = 2


def _split(root: Path, count: int, seed: int) -> pd.DataFrame:
    """The manifest of ``count`` random 64x64 pairs written under ``root``."""
    rng = np.random.default_rng(seed)
    return write_split(
        root,
        f"split{seed}",
        [f"image_{i}" for i in range(count)],
        [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(count)],
        [rng.integers(0, 3, (64, 64), dtype=np.uint8) for _ in range(count)],
    )


def _training(checkpoint_dir: Path, strategy: str) -> TrainingParams:
    # A full-depth encoder: DDP needs every parameter to take part in the loss.
    return TrainingParams.model_validate(
        {
            "model": {
                "architecture": "Unet",
                "encoder_name": "resnet18",
                "encoder_weights": None,
                "extra": {"decoder_channels": [32, 16, 8, 8, 8]},
            },
            "image_size": 64,
            "batch_size": BATCH_SIZE,
            "epochs": EPOCHS,
            "trainer": {"accelerator": "cpu", "devices": 2, "strategy": strategy},
            "checkpoint_dir": str(checkpoint_dir),
        }
    )


@pytest.mark.slow
def test_ddp_spawn_trains_in_two_processes_and_returns_the_best_model_and_history(
    tmp_path: Path,
):
    data = tmp_path / "data"
    segmenter, history = train_model(
        _split(data, TRAIN_IMAGES, seed=0),
        _split(data, 4, seed=1),
        DatasetParams(root=str(data)),
        {},
        _training(tmp_path / "checkpoints", "ddp_spawn"),
        CLASSES,
        "ddp",
    )

    # The history comes back from the spawned processes, every epoch of it.
    assert [e["epoch"] for e in history] == list(range(1, EPOCHS + 1))
    assert all(0.0 <= e["val_mdice"] <= 1.0 for e in history)
    assert segmenter.info["epochs_run"] == EPOCHS
    (run_folder,) = (tmp_path / "checkpoints").iterdir()
    last = torch.load(run_folder / "last.ckpt", map_location="cpu", weights_only=False)
    # Each of the 2 processes trained on its half of the images: 2 steps an epoch, not 4.
    assert last["global_step"] == EPOCHS * TRAIN_IMAGES // (2 * BATCH_SIZE)
    (best_path,) = run_folder.glob("best-*.ckpt")
    best = torch.load(best_path, map_location="cpu", weights_only=False)["state_dict"]
    returned = segmenter.model.state_dict()
    assert returned.keys() == {n.removeprefix("model.") for n in best if n.startswith("model.")}
    assert all(torch.equal(returned[name], best[f"model.{name}"]) for name in returned)


@pytest.mark.parametrize("strategy", ["ddp", "auto"])
def test_strategies_that_rerun_kedro_in_every_process_are_refused(tmp_path: Path, strategy):
    data = tmp_path / "data"
    train, val = _split(data, 4, seed=0), _split(data, 2, seed=1)
    checkpoints = tmp_path / "checkpoints"
    with pytest.raises(ValueError, match="set training.trainer.strategy to ddp_spawn"):
        train_model(
            train,
            val,
            DatasetParams(root=str(data)),
            {},
            _training(checkpoints, strategy),
            CLASSES,
            "x",
        )
    assert not checkpoints.exists()
