"""Drawing helpers shared by every figure: class and hypothesis colours, the message figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.colors import to_rgb

from multiclass_segmentation.config.common import ClassesParams
from multiclass_segmentation.report.plotting import (
    class_legend_handles,
    class_rgb,
    colorize_mask,
    hypothesis_colors,
    message_figure,
)

CLASSES = ClassesParams(
    names=("background", "cat", "dog"), ids=(0, 1, 2), colors=("#4d4d4d", "#f28e2b", "tab:blue")
)
SOURCE = Path(__file__).parents[2] / "src" / "multiclass_segmentation"


def test_class_rgb_converts_hex_and_named_colours():
    assert class_rgb(CLASSES, 1) == (0xF2 / 255, 0x8E / 255, 0x2B / 255)
    assert class_rgb(CLASSES, 2) == to_rgb("#1f77b4")


def test_masks_and_legends_use_the_class_colours():
    mask = np.array([[0, 1], [2, 255]])
    rgb = colorize_mask(mask, CLASSES)
    assert np.allclose(rgb[0, 1], (0xF2 / 255, 0x8E / 255, 0x2B / 255))
    assert np.allclose(rgb[1, 1], (1.0, 1.0, 1.0))  # ignore pixels are white
    handles = class_legend_handles(CLASSES, with_ignore=True)
    assert [h.get_label() for h in handles] == ["background", "cat", "dog", "ignore"]
    assert np.allclose(handles[0].get_facecolor()[:3], (0x4D / 255,) * 3)


def test_hypothesis_colours_follow_name_order_not_insertion_order():
    colors = hypothesis_colors(["unet_r34", "base", "focal"])
    assert colors["base"] == to_rgb("tab:blue")
    assert colors["focal"] == to_rgb("tab:orange")
    assert colors["unet_r34"] == to_rgb("tab:green")


def test_message_figure_shows_its_title_and_message_without_axes():
    figure = message_figure("Learning curves", "Nothing yet.")
    (ax,) = figure.axes
    assert ax.get_title() == "Learning curves"
    assert [text.get_text() for text in ax.texts] == ["Nothing yet."]
    assert not ax.axison


def test_figures_are_drawn_with_the_object_api_not_pyplot():
    drawing = [*(SOURCE / "report").rglob("*.py"), *(SOURCE / "pipelines").rglob("*.py")]
    assert [str(path) for path in drawing if "pyplot" in path.read_text()] == []
