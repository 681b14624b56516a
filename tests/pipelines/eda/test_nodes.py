"""The eda nodes on tiny hand-made masks whose statistics are known by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest

from multiclass_segmentation.analysis.eda_statistics import (
    SplitStatistics,
    channel_statistics,
    inverse_frequency_weights,
    median_frequency_weights,
    statistics_of_pairs,
)
from multiclass_segmentation.config.common import ClassesParams, DatasetParams
from multiclass_segmentation.config.eda import EdaParams
from multiclass_segmentation.io.imaging import read_pair
from multiclass_segmentation.pipelines.eda.nodes import (
    build_eda_report,
    compute_split_statistics,
    plot_class_pixels,
    plot_cooccurrence,
    plot_object_sizes,
    plot_objects_per_image,
    plot_sample_grid,
    render_eda_markdown,
    suggest_class_weights,
)
from multiclass_segmentation.report.plotting import class_rgb
from tests.conftest import REAL_DATASET
from tests.manifests import write_split

CLASSES = ClassesParams(
    names=("background", "cat", "dog"),
    ids=(0, 1, 2),
    colors=("#4d4d4d", "#f28e2b", "#4e79a7"),
    ignore_index=255,
)
EDA = EdaParams(min_component_pixels=2, samples_per_split=2)

# Cat: two diagonal pixels (one object only with 8-connectivity) and a pair
# below them; dog: a vertical pair; one ignore pixel.
MASK_A = np.array(
    [
        [1, 0, 0, 0],
        [0, 1, 0, 2],
        [0, 0, 0, 2],
        [1, 1, 0, 255],
    ],
    dtype=np.uint8,
)
# A single cat pixel: present, but a speck below min_component_pixels.
MASK_B = np.zeros((4, 4), dtype=np.uint8)
MASK_B[2, 2] = 1


def _constant_image(rgb: tuple[int, int, int]) -> np.ndarray:
    return np.broadcast_to(np.array(rgb, dtype=np.uint8), (4, 4, 3)).copy()


def _split() -> dict:
    return {
        "ids": ["a", "b"],
        "images": [_constant_image((10, 20, 30)), _constant_image((30, 20, 10))],
        "masks": [MASK_A, MASK_B],
    }


def _statistics(split: dict) -> SplitStatistics:
    pairs = zip(split["ids"], split["images"], split["masks"], strict=True)
    return statistics_of_pairs(pairs, CLASSES, EDA)


@pytest.fixture
def statistics():
    return _statistics(_split())


def test_the_node_streams_the_pairs_its_manifest_lists_from_their_files(tmp_path, statistics):
    split = _split()
    manifest = write_split(tmp_path, "train", split["ids"], split["images"], split["masks"])

    from_files = compute_split_statistics(manifest, DatasetParams(root=str(tmp_path)), CLASSES, EDA)

    assert from_files.ids == ["a", "b"]
    np.testing.assert_array_equal(from_files.class_pixels, [24, 5, 2])
    np.testing.assert_array_equal(from_files.channel_sum, statistics.channel_sum)


def test_pixels_are_counted_per_class_without_ignore_pixels(statistics):
    assert statistics.class_pixels.tolist() == [9 + 15, 4 + 1, 2]
    assert statistics.ignore_pixels == 1
    # Labelled pixels of the images containing each class: a has 15, b has 16.
    assert statistics.present_image_pixels.tolist() == [31, 31, 15]
    assert statistics.image_sizes == [(4, 4), (4, 4)]


def test_objects_are_8_connected_components_without_specks(statistics):
    assert statistics.objects_per_image[1].tolist() == [2, 0]
    assert statistics.objects_per_image[2].tolist() == [1, 0]
    assert statistics.object_area_fractions[1].tolist() == [2 / 16, 2 / 16]
    assert statistics.object_area_fractions[2].tolist() == [2 / 16]
    assert 0 not in statistics.objects_per_image


def test_cooccurrence_counts_images_holding_both_classes(statistics):
    assert statistics.cooccurrence.tolist() == [[2, 2, 1], [2, 2, 1], [1, 1, 1]]


def test_channel_statistics_of_two_constant_images(statistics):
    channels = channel_statistics(statistics)
    assert channels["mean_0_255"] == [20.0, 20.0, 20.0]
    assert channels["std_0_255"] == [10.0, 0.0, 10.0]
    assert channels["mean_0_1"] == pytest.approx([20 / 255] * 3, abs=1e-6)
    assert channels["std_0_1"] == pytest.approx([10 / 255, 0.0, 10 / 255], abs=1e-6)


def test_channel_statistics_pool_the_pixels_of_several_splits(statistics):
    darker = _statistics({"ids": ["c"], "images": [_constant_image((0, 0, 0))], "masks": [MASK_B]})
    # R over 48 pixels: 16 of 10, 16 of 30, 16 of 0.
    assert channel_statistics(statistics, darker)["mean_0_255"][0] == pytest.approx(40 / 3)


def test_inverse_frequency_weights_follow_the_formula_with_mean_one(statistics):
    weights = inverse_frequency_weights(statistics.class_pixels)
    expected = np.array([31 / (3 * 24), 31 / (3 * 5), 31 / (3 * 2)])
    np.testing.assert_allclose(weights, expected / expected.mean())
    assert weights.mean() == pytest.approx(1.0)
    assert weights[1] / weights[2] == pytest.approx(2 / 5)


def test_median_frequency_weights_use_the_pixels_of_images_holding_the_class(statistics):
    weights = median_frequency_weights(statistics.class_pixels, statistics.present_image_pixels)
    # freq = [24/31, 5/31, 2/15], median 5/31.
    expected = np.array([5 / 24, 1.0, (5 / 31) / (2 / 15)])
    np.testing.assert_allclose(weights, expected / expected.mean())
    assert weights.mean() == pytest.approx(1.0)


def test_a_class_without_pixels_gets_weight_zero():
    weights = inverse_frequency_weights(np.array([30, 0, 10]))
    assert weights.tolist() == pytest.approx([0.5, 0.0, 1.5])


def test_suggested_weights_recommend_the_configured_method(statistics):
    median = suggest_class_weights(statistics, CLASSES, EDA)
    assert median["class_names"] == ["background", "cat", "dog"]
    assert median["recommended"] == "median_frequency"
    assert median["weights"] == median["median_frequency"]
    inverse = suggest_class_weights(
        statistics, CLASSES, EDA.model_copy(update={"class_weights_method": "inverse_frequency"})
    )
    assert inverse["weights"] == inverse["inverse_frequency"] != inverse["median_frequency"]


def test_weights_need_labelled_train_pixels():
    all_ignored = {
        "ids": ["a"],
        "images": [_constant_image((0, 0, 0))],
        "masks": [np.full((4, 4), 255, dtype=np.uint8)],
    }
    statistics = _statistics(all_ignored)
    with pytest.raises(ValueError, match="no labelled pixels"):
        suggest_class_weights(statistics, CLASSES, EDA)


def test_unknown_mask_values_are_reported_with_the_image_id():
    split = _split()
    split["masks"] = [MASK_A, np.full((4, 4), 7, dtype=np.uint8)]
    with pytest.raises(ValueError, match=r"'b' holds values \[7\]"):
        _statistics(split)


def test_an_empty_split_is_an_error():
    with pytest.raises(ValueError, match="no images"):
        _statistics({"ids": [], "images": [], "masks": []})


def test_report_and_markdown_hold_the_numbers_per_split(statistics):
    weights = suggest_class_weights(statistics, CLASSES, EDA)
    report = build_eda_report(CLASSES, EDA, weights, train=statistics, val=statistics)
    json.dumps(report)  # the JSON dataset must be able to save it
    train = report["splits"]["train"]
    assert train["class_pixels"]["cat"] == {"pixels": 5, "share": round(5 / 31, 6)}
    assert train["objects_per_image"]["cat"]["distribution"] == {"0": 1, "2": 1}
    assert train["images_with_class"] == {"background": 2, "cat": 2, "dog": 1}
    assert train["image_sizes"] == {"4x4": 2}
    assert report["channel_statistics"]["all"]["mean_0_255"] == [20.0, 20.0, 20.0]

    markdown = render_eda_markdown(report)
    assert "| cat | 5 (16.13%) | 5 (16.13%) |" in markdown
    for what in ("image_sizes", "class_pixels", "objects_per_image", "object_sizes"):
        assert f"(figures/eda_{what}.png)" in markdown


def _legend_labels(figure) -> list[str]:
    legends = [ax.get_legend() for ax in figure.axes if ax.get_legend()] + figure.legends
    return [text.get_text() for legend in legends for text in legend.get_texts()]


def test_class_pixel_bars_are_log_scaled_in_class_colours(statistics):
    figure = plot_class_pixels(CLASSES, train=statistics, val=statistics)
    ax = figure.axes[0]
    assert ax.get_yscale() == "log"
    assert _legend_labels(figure) == ["background", "cat", "dog"]
    colours = {tuple(np.round(bar.get_facecolor()[:3], 3)) for bar in ax.patches}
    assert colours == {tuple(np.round(class_rgb(CLASSES, c), 3)) for c in CLASSES.ids}
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


def test_object_figures_name_the_foreground_classes(statistics):
    objects = plot_objects_per_image(CLASSES, EDA, train=statistics)
    assert _legend_labels(objects) == ["cat", "dog"]
    sizes = plot_object_sizes(CLASSES, EDA, train=statistics)
    assert sizes.axes[0].get_xscale() == "log"
    assert _legend_labels(sizes) == ["cat (2 objects)", "dog (1 objects)"]


def test_cooccurrence_heatmap_is_annotated_with_counts(statistics):
    figure = plot_cooccurrence(CLASSES, train=statistics)
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.texts] == ["2", "2", "1", "2", "2", "1", "1", "1", "1"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["background", "cat", "dog"]


def test_sample_grid_is_reproducible_and_titled_with_split_and_id(tmp_path):
    ids = [f"img{i}" for i in range(6)]
    six_images = [_constant_image((i, i, i)) for i in range(6)]
    train = write_split(tmp_path, "train", ids, six_images, [MASK_B] * 6)
    val = write_split(tmp_path, "val", **_split())
    dataset = DatasetParams(root=str(tmp_path))

    def titles(seed: int) -> list[str]:
        eda = EDA.model_copy(update={"seed": seed})
        figure = plot_sample_grid(CLASSES, eda, dataset, train=train, val=val)
        return [ax.get_title() for ax in figure.axes if ax.get_title()]

    first = titles(seed=3)
    assert first == titles(seed=3)
    assert len(first) == 4
    assert all(title.startswith("train: img") for title in first[:2])
    assert first[2:] == ["val: a", "val: b"]


@pytest.mark.slow
def test_every_class_has_pixels_in_every_split_of_the_real_dataset():
    if not REAL_DATASET.exists():
        pytest.skip(f"the real dataset is not at {REAL_DATASET}")
    for split in ("train", "val", "test"):
        pairs = (
            (path.stem, *read_pair(REAL_DATASET, path, f"labels/{split}/{path.stem}.png"))
            for path in sorted((REAL_DATASET / "img" / split).glob("*.jpg"))
        )
        statistics = statistics_of_pairs(pairs, CLASSES, EdaParams())
        assert (statistics.class_pixels > 0).all(), split
        assert statistics.ignore_pixels == 0
        weights = suggest_class_weights(statistics, CLASSES, EdaParams())
        # The background is the most frequent class, so it gets the smallest weight.
        assert np.argmin(weights["weights"]) == CLASSES.background_id
