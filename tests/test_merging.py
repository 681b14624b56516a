"""Kedro's soft merge, the one the sweep and the study layer parameters with."""

from __future__ import annotations

from multiclass_segmentation.merging import soft_merge


def test_mappings_merge_key_by_key_and_other_values_are_replaced_whole():
    base = {"model": {"arch": "Unet", "encoder": {"name": "resnet18", "depth": 5}}, "lrs": [1, 2]}
    override = {"model": {"encoder": {"depth": 3}}, "lrs": [9], "epochs": 4}
    assert soft_merge(base, override) == {
        "model": {"arch": "Unet", "encoder": {"name": "resnet18", "depth": 3}},
        "lrs": [9],
        "epochs": 4,
    }


def test_later_layers_win_and_a_mapping_replaces_a_scalar():
    assert soft_merge({"a": 1, "b": {"c": 1}}, {"a": {"x": 1}}, {"b": {"c": 3}}) == {
        "a": {"x": 1},
        "b": {"c": 3},
    }


def test_none_replaces_a_mapping():
    assert soft_merge({"scheduler": {"name": "cosine"}}, {"scheduler": None}) == {"scheduler": None}


def test_the_result_shares_nothing_with_its_layers():
    base = {"augmentations": [{"name": "flip", "p": 0.5}], "loss": {"name": "ce"}}
    merged = soft_merge(base, {})
    merged["augmentations"][0]["p"] = 1.0
    merged["loss"]["name"] = "dice"
    assert base == {"augmentations": [{"name": "flip", "p": 0.5}], "loss": {"name": "ce"}}
