"""The inference pipeline run by Kedro on a folder of mixed images in a project copy."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import copy_project, run_kedro
from tests.pipelines.inference.builders import (
    save_model,
    tiny_segmenter,
    write_mixed_images,
)

EARLIER_VERSION = "2026-01-01T00.00.00.000Z"
LATEST_VERSION = "2026-01-02T00.00.00.000Z"
PREDICTIONS = Path("data/07_model_output/predictions/base")


def _run_inference(
    project: Path, input_dir: Path, load_versions: dict[str, str] | None = None
) -> Path:
    """`kedro run --pipelines inference [--load-versions ...]`; returns the run's new folder."""
    before = set(_runs(project))
    run_kedro(
        project,
        env="base",
        pipeline="inference",
        params={"inference": {"input_dir": str(input_dir)}},
        load_versions=load_versions,
    )
    (new_run,) = set(_runs(project)) - before
    return new_run


def _runs(project: Path) -> list[Path]:
    folder = project / PREDICTIONS
    return sorted(folder.iterdir()) if folder.is_dir() else []


def _snapshot(folder: Path) -> dict[Path, tuple[int, bytes]]:
    """Each file under folder with its modification time and content."""
    return {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project copy with two saved models: an earlier one that sees a cat everywhere,
    and a random latest one; and a folder of mixed images."""
    project = copy_project(tmp_path_factory.mktemp("inference"))
    save_model(project, EARLIER_VERSION, tiny_segmenter("earlier", constant_class=1))
    save_model(project, LATEST_VERSION, tiny_segmenter("latest"))
    return project


@pytest.fixture(scope="module")
def images(project: Path) -> dict[str, tuple[int, int]]:
    return write_mixed_images(project / "images_to_label")


@pytest.fixture(scope="module")
def first_run(project: Path, images: dict[str, tuple[int, int]]) -> Path:
    return _run_inference(project, project / "images_to_label")


def test_every_readable_image_gets_a_mask_and_an_overlay_at_its_own_size(
    first_run: Path, images: dict[str, tuple[int, int]]
):
    expected = {str(Path(name).with_suffix(".png")): size for name, size in images.items()}
    masks = {
        str(p.relative_to(first_run / "masks")): p for p in (first_run / "masks").rglob("*.png")
    }
    overlays = {
        str(p.relative_to(first_run / "overlays")): p
        for p in (first_run / "overlays").rglob("*.png")
    }
    assert set(masks) == set(overlays) == set(expected)
    for name, (height, width) in expected.items():
        mask = Image.open(masks[name])
        assert mask.mode == "L"
        assert mask.size == (width, height)
        assert set(np.unique(np.asarray(mask))) <= {0, 1, 2}
        overlay = Image.open(overlays[name])
        assert (overlay.mode, overlay.size) == ("RGB", (width, height))


def test_unreadable_files_are_listed_in_the_report_and_skipped(
    first_run: Path, images: dict[str, tuple[int, int]]
):
    report = json.loads((first_run / "report.json").read_text())
    assert report["run"] == first_run.name
    assert report["model"] == {"name": "latest"}
    assert sorted(report["labelled"]) == sorted(images)
    assert report["labelled"]["sub/rgba.png"] == "sub/rgba.png"
    unreadable = {entry["file"]: entry["error"] for entry in report["unreadable"]}
    assert set(unreadable) == {"truncated.jpg", "notes.txt"}
    assert "truncated" in unreadable["truncated.jpg"]


def test_a_second_run_writes_a_new_folder_and_leaves_the_first_untouched(
    project: Path, first_run: Path
):
    first_files = _snapshot(first_run)
    second_run = _run_inference(project, project / "images_to_label")
    assert second_run != first_run
    assert _snapshot(first_run) == first_files
    assert (second_run / "masks" / "wide.png").is_file()


def test_load_versions_label_with_an_earlier_model(project: Path, images: dict):
    run = _run_inference(
        project, project / "images_to_label", load_versions={"trained_model": EARLIER_VERSION}
    )
    assert json.loads((run / "report.json").read_text())["model"] == {"name": "earlier"}
    for mask in (run / "masks").rglob("*.png"):
        assert (np.asarray(Image.open(mask)) == 1).all(), "the earlier model sees a cat everywhere"


@pytest.mark.parametrize("folder", ["missing", "empty"])
def test_a_missing_or_empty_input_folder_names_the_folder(project: Path, folder: str):
    input_dir = project / folder
    if folder == "empty":
        (input_dir / "subfolder").mkdir(parents=True)
    runs = _runs(project)
    with pytest.raises(
        FileNotFoundError, match=f"{re.escape(str(input_dir))}.*inference.input_dir"
    ):
        _run_inference(project, input_dir)
    assert _runs(project) == runs


def test_without_a_trained_model_the_run_says_to_train_first(tmp_path: Path):
    project = copy_project(tmp_path)
    write_mixed_images(tmp_path / "images")
    # The hook that checks every run's inputs names the pipelines that write the model.
    with pytest.raises(
        FileNotFoundError,
        match=r"trained_model: not there yet.*--pipelines data_validation,eda,training,inference",
    ):
        _run_inference(project, tmp_path / "images")
    assert not (project / PREDICTIONS).exists()
