"""Hand-made reports, results, metrics and histories in the shapes the other pipelines save."""

from __future__ import annotations

from multiclass_segmentation.config.common import ClassesParams

CLASSES = ClassesParams(
    names=("background", "cat", "dog"), ids=(0, 1, 2), colors=("#4d4d4d", "#f28e2b", "#4e79a7")
)
SPLIT_SUMMARY = {
    "images": 10,
    "masks": 9,
    "images_without_masks": 1,
    "masks_without_images": 0,
    "complete_pairs": 9,
    "validated_pairs": 9,
    "masks_background_only": 1,
    "masks_one_class": 6,
    "masks_several_classes": 2,
    "masks_with_class": {"cat": 5, "dog": 4},
}


def validation_report() -> dict:
    """One error (two files) in train and two duplicate warnings in val."""
    return {
        "dataset_root": "data/01_raw/pets",
        "passed": False,
        "errors": 1,
        "warnings": 2,
        "summary": {split: dict(SPLIT_SUMMARY) for split in ("train", "val", "test")},
        "findings": [
            {
                "check": "image_without_mask",
                "severity": "error",
                "split": "train",
                "files": ["img/train/a.jpg", "img/train/b.jpg"],
                "message": "has no mask of the same name",
            },
            *(
                {
                    "check": "duplicate_images",
                    "severity": "warning",
                    "split": "val",
                    "files": [f"img/val/{name}.jpg", f"img/val/{name}_copy.jpg"],
                    "message": "2 identical images: they weigh more than others",
                }
                for name in ("c", "d")
            ),
        ],
    }


def _eda_split(cat_share: float) -> dict:
    return {
        "num_images": 9,
        "class_pixels": {
            "background": {"pixels": 900, "share": 0.9 - cat_share},
            "cat": {"pixels": 60, "share": cat_share},
            "dog": {"pixels": 40, "share": 0.1},
        },
        "objects_per_image": {
            name: {"mean": 1.25, "median": 1.0, "max": 3, "images_without": 2}
            for name in ("cat", "dog")
        },
    }


def eda_report() -> dict:
    channel = {"mean_0_1": [0.5, 0.4, 0.3], "std_0_1": [0.2, 0.2, 0.25]}
    return {
        "classes": ["background", "cat", "dog"],
        "min_component_pixels": 20,
        "splits": {"train": _eda_split(0.06), "val": _eda_split(0.05), "test": _eda_split(0.04)},
        "channel_statistics": {"train": channel, "val": channel, "test": channel, "all": channel},
        "class_weights": {
            "class_names": ["background", "cat", "dog"],
            "inverse_frequency": [0.1, 1.4, 1.5],
            "median_frequency": [0.2, 1.3, 1.5],
            "recommended": "median_frequency",
            "weights": [0.2, 1.3, 1.5],
        },
    }


def _unreported_scores() -> dict:
    """The keys of a results.json entry that no report shows."""
    return {
        "test_miou": None,
        "val_dice": {},
        "epochs_run": 30,
        "evaluated_at": "2026-01-02T03:04:05+00:00",
    }


def study_results(unet_test: float = 0.70, deeplab_test: float = 0.78) -> dict:
    """Two hypotheses; unet_r34 leads on validation, deeplabv3plus_r50 on test."""
    return {
        "hypotheses": {
            "deeplabv3plus_r50": {
                "val_mdice": 0.74,
                "val_fg_mdice": 0.66,
                "test_mdice": deeplab_test,
                "test_fg_mdice": 0.68,
                "test_dice": {"background": 0.95, "cat": 0.70, "dog": 0.69},
                **_unreported_scores(),
            },
            "unet_r34": {
                "val_mdice": 0.76,
                "val_fg_mdice": 0.67,
                "test_mdice": unet_test,
                "test_fg_mdice": 0.6,
                "test_dice": {"background": 0.9, "cat": 0.5, "dog": 0.7},
                **_unreported_scores(),
            },
        },
        "best_model": "unet_r34",
        "best_selected_by": "val_mdice",
        "best_mdice": unet_test,
        "target_mdice": 0.75,
        "target_achieved": unet_test > 0.75,
    }


def metrics(
    hypothesis: str,
    architecture: str = "Unet",
    image_size: int = 256,
    best_epoch: int = 27,
    tta: dict | None = None,
) -> dict:
    """metrics.json of one evaluation: the training parameters and the test scores."""
    return {
        "schema_version": 1,
        "hypothesis": hypothesis,
        "evaluated_at": "2026-01-02T03:04:05+00:00",
        "target_mdice": 0.75,
        "val": _split_scores(),
        "tta": tta or {"hflip": False, "scales": [1.0]},
        "model": {
            "best_epoch": best_epoch,
            "epochs_run": 30,
            "parameters": {
                "model": {
                    "architecture": architecture,
                    "encoder_name": "resnet34",
                    "encoder_weights": "imagenet",
                },
                "image_size": image_size,
                "epochs": 30,
                "augmentations": [
                    {"name": "HorizontalFlip", "params": {"p": 0.5}},
                    {"name": "Rotate", "params": {"limit": 45}},
                ],
                "loss": {
                    "terms": [{"name": "cross_entropy", "weight": 1.0}],
                    "class_weights": [0.1, 1.2, 1.2],
                },
                "optimizer": {"name": "adamw", "lr": 2.0e-4, "weight_decay": 1.0e-4},
                "scheduler": {"name": "none"},
                "checkpoint_dir": f"data/06_models/checkpoints/{hypothesis}",
            },
        },
        "test": {
            **_split_scores(),
            "confusion_normalized": [[0.9, 0.05, 0.05], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8]],
            "recall_by_object_size": {
                "cat": [
                    {"min_share": 0.0, "max_share": 0.02, "objects": 4, "mean_recall": 0.25},
                    {"min_share": 0.02, "max_share": 1.0, "objects": 6, "mean_recall": 0.75},
                ],
                "dog": [
                    {"min_share": 0.0, "max_share": 0.02, "objects": 0, "mean_recall": None},
                    {"min_share": 0.02, "max_share": 1.0, "objects": 5, "mean_recall": 0.8},
                ],
            },
        },
    }


def _split_scores() -> dict:
    return {
        "mdice": 0.7,
        "fg_mdice": 0.6,
        "miou": 0.55,
        "dice": {"background": 0.9, "cat": 0.5, "dog": 0.7},
    }


def history(epochs: int, peak: float) -> list[dict]:
    """A training history whose validation mDice climbs to ``peak`` in the last epoch."""
    return [
        {
            "epoch": epoch,
            "train_loss": 2.0 / epoch,
            "lr": 1e-3,
            "val_mdice": peak * epoch / epochs,
            "val_fg_mdice": peak * epoch / epochs - 0.1,
            "val_dice": {"background": 0.9, "cat": 0.5, "dog": 0.5},
            "seconds": 10.0,
        }
        for epoch in range(1, epochs + 1)
    ]


def _run(hypothesis: str, seed: int | None, scores: tuple[float, float, float, float]) -> dict:
    val, val_fg, test, test_fg = scores
    return {
        "hypothesis": hypothesis,
        "seed": seed,
        "val_mdice": val,
        "val_fg_mdice": val_fg,
        "test_mdice": test,
        "test_fg_mdice": test_fg,
        "epochs_run": None if seed is None else 20,
    }


def _statistics(n: int, mean: float, low: float | None = None, high: float | None = None) -> dict:
    return {"n": n, "mean": mean, "sd": None if n == 1 else 0.005, "ci_low": low, "ci_high": high}


def _comparison(other: str, metric: str, difference: float, low: float, high: float) -> dict:
    real = low > 0 or high < 0
    return {
        "best": "base_ensemble",
        "other": other,
        "metric": metric,
        "difference": difference,
        "ci_low": low,
        "ci_high": high,
        "samples": 10000,
        "images": 120,
        "verdict": "real: base_ensemble is better (the 95% interval excludes 0)"
        if real
        else "not shown: the 95% interval includes 0",
    }


def seed_study() -> dict:
    """results.json's "study": base and focal over seeds 42 and 43, and base_ensemble (the
    two base runs averaged), the best by mean val mDice; 5 runs with every score."""
    return {
        "runs": {
            "base.seed_42": _run("base", 42, (0.851, 0.784, 0.887, 0.837)),
            "base.seed_43": _run("base", 43, (0.845, 0.776, 0.879, 0.825)),
            "focal.seed_42": _run("focal", 42, (0.848, 0.781, 0.884, 0.832)),
            "focal.seed_43": _run("focal", 43, (0.840, 0.770, 0.870, 0.815)),
            "base_ensemble": _run("base_ensemble", None, (0.862, 0.799, 0.898, 0.851)),
        },
        "summary": {
            "base": {
                "kind": "single",
                "runs": ["base.seed_42", "base.seed_43"],
                "val_mdice": _statistics(2, 0.848, 0.81, 0.886),
                "val_fg_mdice": _statistics(2, 0.78, 0.729, 0.831),
                "test_mdice": _statistics(2, 0.883, 0.832, 0.934),
                "test_fg_mdice": _statistics(2, 0.831, 0.755, 0.907),
            },
            "focal": {
                "kind": "single",
                "runs": ["focal.seed_42", "focal.seed_43"],
                "val_mdice": _statistics(2, 0.844, 0.793, 0.895),
                "val_fg_mdice": _statistics(2, 0.7755, 0.706, 0.845),
                "test_mdice": _statistics(2, 0.877, 0.788, 0.966),
                "test_fg_mdice": _statistics(2, 0.824, 0.716, 0.931),
            },
            "base_ensemble": {
                "kind": "ensemble",
                "runs": ["base_ensemble"],
                "val_mdice": _statistics(1, 0.862),
                "val_fg_mdice": _statistics(1, 0.799),
                "test_mdice": _statistics(1, 0.898),
                "test_fg_mdice": _statistics(1, 0.851),
            },
        },
        "best": "base_ensemble",
        "best_selected_by": "mean val mDice",
        "confidence": 0.95,
        "comparisons": [
            _comparison("base", "test_mdice", 0.015, 0.006, 0.024),
            _comparison("base", "test_fg_mdice", 0.02, -0.004, 0.044),
            _comparison("focal", "test_mdice", 0.021, 0.01, 0.032),
            _comparison("focal", "test_fg_mdice", 0.027, -0.001, 0.055),
        ],
        "ensembles": {
            "base_ensemble": {
                "members": ["base.seed_42", "base.seed_43"],
                "weights": [1.0, 1.0],
                "test_mdice": 0.898,
                "members_test_mdice": {"base.seed_42": 0.887, "base.seed_43": 0.879},
                "best_member": "base.seed_42",
                "against_best_member": {
                    "difference": 0.011,
                    "ci_low": 0.004,
                    "ci_high": 0.018,
                    "samples": 10000,
                    "images": 120,
                    "verdict": "real: base_ensemble is better (the 95% interval excludes 0)",
                },
            }
        },
    }
