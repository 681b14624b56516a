"""Figures of the shift benchmark, Kedro-free: severity curves and the worst shifted examples."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from multiclass_segmentation.config.common import ClassesParams, DatasetParams
from multiclass_segmentation.config.evaluation import EvaluationParams
from multiclass_segmentation.config.robustness import RobustnessParams
from multiclass_segmentation.core.segmenter import Segmenter
from multiclass_segmentation.io import imaging
from multiclass_segmentation.report.plotting import class_legend_handles, class_rgb, overlay_mask

# The split whose curves and examples are drawn: the one that reports.
REPORTED_SPLIT = "test"


def severity_curves_figure(robustness: dict[str, Any], classes: ClassesParams) -> Figure:
    """One panel per corruption family (mDice and each class's Dice against severity, 0 =
    clean) and one for the scale views (zoom-outs, clean, close-ups), on the test split."""
    summary = robustness["summary"].get(REPORTED_SPLIT) or next(
        iter(robustness["summary"].values())
    )
    families = list(summary["family_mdice"])
    panels = len(families) + 1
    figure = Figure(figsize=(3.6 * panels, 3.8), layout="constrained")
    axes = figure.subplots(1, panels, sharey=True, squeeze=False)[0]
    _scale_panel(axes[0], summary, classes)
    for ax, family in zip(axes[1:], families, strict=True):
        views = {int(v["level"]): v for v in summary["views"].values() if v["family"] == family}
        levels = [0, *sorted(views)]
        points = [_clean_point(summary), *(views[level] for level in sorted(views))]
        _score_lines(ax, levels, points, classes)
        ax.set(title=family, xlabel="severity (0 = clean)", xticks=levels)
    axes[0].set_ylabel("Dice")
    axes[0].set_ylim(0, 1.02)
    mpc, rpc = summary.get("mpc"), summary.get("rpc")
    figure.suptitle(
        f"{robustness['hypothesis']}, {REPORTED_SPLIT} split: P = {_number(summary['clean_mdice'])}"
        f", mPC = {_number(mpc)}, rPC = {_number(rpc)}, scale-view mDice = "
        f"{_number(summary.get('scale_mdice'))}"
    )
    figure.legend(
        handles=[*class_legend_handles(classes)],
        loc="outside lower center",
        ncol=classes.num_classes + 1,
        title="thin lines: per-class Dice; thick black: mDice",
    )
    return figure


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _clean_point(summary: dict[str, Any]) -> dict[str, Any]:
    return {"mdice": summary["clean_mdice"], "dice": summary.get("clean_dice") or {}}


def _scale_panel(ax: Any, summary: dict[str, Any], classes: ClassesParams) -> None:
    """mDice per scale view, ordered from the smallest objects to the largest."""
    views = {n: v for n, v in summary["views"].items() if v["family"] == "scale"}
    zoomouts = sorted(
        (n for n in views if n.startswith("zoomout")), key=lambda n: views[n]["level"]
    )
    closeups = sorted(
        (n for n in views if n.startswith("closeup")), key=lambda n: views[n]["level"]
    )
    names = [*zoomouts, "clean", *closeups]
    points = [views[n] if n != "clean" else _clean_point(summary) for n in names]
    _score_lines(ax, list(range(len(names))), points, classes)
    ax.set_xticks(
        range(len(names)), [n.replace("_", " ") + ("%" if n != "clean" else "") for n in names]
    )
    ax.tick_params(axis="x", labelrotation=30)
    ax.set(title="scale (object share of the frame)")


def _score_lines(
    ax: Any, xs: list[int], points: list[dict[str, Any]], classes: ClassesParams
) -> None:
    """mDice (thick black) and each class's Dice (its colour) through ``points``."""
    for class_id in classes.ids:
        name = classes.name_of(class_id)
        values = [_nan((p.get("dice") or {}).get(name)) for p in points]
        ax.plot(xs, values, marker=".", lw=1, color=class_rgb(classes, class_id))
    ax.plot(xs, [_nan(p.get("mdice")) for p in points], marker="o", lw=2.5, color="black")
    ax.grid(alpha=0.3)


def _nan(value: float | None) -> float:
    return np.nan if value is None else value


def worst_shifted(
    robustness: dict[str, Any], metrics: dict[str, Any], count: int
) -> list[tuple[str, str, float, float]]:
    """The ``count`` test (view, id) pairs that lose the most Dice against the clean image,
    one per image: (view, id, clean Dice, shifted Dice)."""
    clean = {
        e["id"]: e["dice"]
        for e in metrics[REPORTED_SPLIT]["per_image_dice"]
        if e["dice"] is not None
    }
    drops = [
        (clean[entry["id"]] - entry["dice"], view, entry["id"], entry["dice"])
        for view, scores in robustness["views"].get(REPORTED_SPLIT, {}).items()
        for entry in scores["per_image_dice"]
        if entry["dice"] is not None and entry["id"] in clean
    ]
    picked: dict[str, tuple[str, str, float, float]] = {}
    for _, view, image_id, dice in sorted(drops, key=lambda d: -d[0]):
        if image_id not in picked:
            picked[image_id] = (view, image_id, clean[image_id], dice)
        if len(picked) == count:
            break
    return list(picked.values())


def shift_examples_figure(
    segmenter: Segmenter,
    views: pd.DataFrame,
    test_manifest: pd.DataFrame,
    robustness: dict[str, Any],
    metrics: dict[str, Any],
    dataset: DatasetParams,
    classes: ClassesParams,
    evaluation: EvaluationParams,
    params: RobustnessParams,
) -> Figure:
    """Rows: a clean test image and its prediction beside its worst shifted view and that
    view's prediction; only the drawn images are read and predicted again."""
    picks = worst_shifted(robustness, metrics, params.worst_examples)
    figure = Figure(figsize=(12, 3 * max(1, len(picks)) + 0.8), layout="constrained")
    axes = figure.subplots(max(1, len(picks)), 4, squeeze=False)
    clean_rows = test_manifest.set_index("id")
    for row, (view, image_id, clean_dice, shifted_dice) in enumerate(picks):
        shifted = views[
            (views["split"] == REPORTED_SPLIT) & (views["view"] == view) & (views["id"] == image_id)
        ].iloc[0]
        pairs = [
            imaging.read_pair(
                dataset.root, clean_rows.at[image_id, "image"], clean_rows.at[image_id, "mask"]
            ),
            imaging.read_pair(params.cache_dir, shifted["image"], shifted["mask"]),
        ]
        predicted = segmenter.predict_batch(
            [image for image, _ in pairs], hflip=evaluation.tta.hflip, scales=evaluation.tta.scales
        )
        label = view + (f" ({shifted['corruption']})" if shifted["corruption"] else "")
        panels = [
            (pairs[0][0], f"clean: {image_id}"),
            (
                overlay_mask(pairs[0][0], predicted[0], classes),
                f"prediction, Dice {clean_dice:.3f}",
            ),
            (pairs[1][0], label),
            (
                overlay_mask(pairs[1][0], predicted[1], classes),
                f"prediction, Dice {shifted_dice:.3f}",
            ),
        ]
        for ax, (picture, title) in zip(axes[row], panels, strict=True):
            ax.imshow(picture)
            ax.set_title(title, fontsize=9)
    for ax in axes.ravel():
        ax.axis("off")
    figure.suptitle(
        "Test images that lose the most Dice under a shift (left: clean, right: shifted)"
    )
    figure.legend(
        handles=class_legend_handles(classes), loc="outside lower center", ncol=classes.num_classes
    )
    return figure
