"""Training parameters and a sweep over them, shared by the sweep's tests."""

from __future__ import annotations

from multiclass_segmentation.config.sweep import SweepParams

BASE = {
    "checkpoint_dir": "data/06_models/checkpoints/base",
    "model": {"architecture": "Unet", "encoder_name": "resnet18", "encoder_weights": None},
    "epochs": 24,
    "loss": {"terms": [{"name": "cross_entropy"}, {"name": "dice", "weight": 1.0}]},
    "optimizer": {"name": "adamw", "lr": 1.0e-3, "weight_decay": 1.0e-4},
    "trainer": {"gradient_clip_val": 1.0},
}


def sweep_params(*dimensions: dict, **settings) -> SweepParams:
    return SweepParams.model_validate(
        {
            "study_name": "s",
            "embedded_storage_dir": "unused",
            "n_trials": 1,
            "search_space": list(dimensions)
            or [{"path": "optimizer.lr", "type": "float", "low": 1e-4, "high": 1e-2}],
            **settings,
        }
    )
