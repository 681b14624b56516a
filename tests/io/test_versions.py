"""The saved versions of Kedro's versioned datasets, on disk and among partition ids."""

from __future__ import annotations

from pathlib import Path

from multiclass_segmentation.io.versions import saved_versions, version_path_pattern

OLDER, NEWER = "2026-01-02T10.00.00.000Z", "2026-03-04T08.30.00.000Z"


def test_saved_versions_lists_the_version_folders_holding_the_dataset(tmp_path: Path):
    model = tmp_path / "06_models" / "base"
    for version in (NEWER, OLDER):
        (model / version / "base").mkdir(parents=True)
    # A version folder whose save never finished, and a file that is no version.
    (model / "2026-05-06T00.00.00.000Z").mkdir()
    (model / "notes.txt").write_text("")

    assert saved_versions(model) == [OLDER, NEWER]


def test_a_dataset_never_saved_has_no_versions(tmp_path: Path):
    assert saved_versions(tmp_path / "missing") == []
    (tmp_path / "empty").mkdir()
    assert saved_versions(tmp_path / "empty") == []


def test_saved_versions_of_a_file_dataset(tmp_path: Path):
    history = tmp_path / "training_history_base.json"
    (history / OLDER).mkdir(parents=True)
    (history / OLDER / "training_history_base.json").write_text("[]")

    assert saved_versions(history) == [OLDER]


def test_version_path_pattern_reads_partition_ids_without_the_suffix():
    metrics = version_path_pattern("metrics", ".json")

    assert metrics.fullmatch(f"metrics.json/{OLDER}/metrics")["version"] == OLDER
    assert not metrics.fullmatch(f"metrics.json/{OLDER}/other")
    assert not metrics.fullmatch("metrics")
    assert not metrics.fullmatch(f"metricsXjson/{OLDER}/metrics")


def test_version_path_pattern_keeps_the_groups_of_the_name():
    history = version_path_pattern(r"training_history_(?P<hypothesis>[^/]+)", ".json")

    match = history.fullmatch(f"training_history_unet_r34.json/{NEWER}/training_history_unet_r34")
    assert (match["hypothesis"], match["version"]) == ("unet_r34", NEWER)
    # The file must name the same hypothesis as its folder.
    assert not history.fullmatch(f"training_history_a.json/{NEWER}/training_history_b")
