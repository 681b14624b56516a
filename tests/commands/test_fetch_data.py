"""Getting the real dataset: keep, copy, download, and clear errors. No internet needed:
downloads come from a local HTTP server."""

from __future__ import annotations

import functools
import http.server
import io
import socket
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from multiclass_segmentation.commands.fetch_data import DatasetFetchError, fetch_dataset, main

SAMPLE_IDS = ("000000000001_1", "000000000002_2")


def _image_bytes(array: np.ndarray, image_format: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=image_format)
    return buffer.getvalue()


def _dataset_files() -> dict[str, bytes]:
    """A tiny dataset in the real layout: relative path -> content."""
    files = {}
    for index, sample_id in enumerate(SAMPLE_IDS):
        image = np.full((8, 8, 3), 40 * index, dtype=np.uint8)
        mask = np.zeros((8, 8), dtype=np.uint8)
        mask[2:5, 2:5] = index + 1
        files[f"img/train/{sample_id}.jpg"] = _image_bytes(image, "JPEG")
        files[f"labels/train/{sample_id}.png"] = _image_bytes(mask, "PNG")
    return files


def _write_dataset(folder: Path) -> dict[str, bytes]:
    files = _dataset_files()
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    return files


def _files_under(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file()
    }


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _in_top_folder(files: dict[str, bytes]) -> dict[str, bytes]:
    return {f"train_dataset_for_students/{name}": content for name, content in files.items()}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base's name)
        """Keeps the test output clean."""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder served over HTTP on 127.0.0.1, and its base URL."""
    folder = tmp_path / "served"
    folder.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/dataset.zip"


@pytest.fixture
def shared_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "shared" / "train_dataset_for_students"
    _write_dataset(folder)
    (folder / "PROVENANCE.md").write_text("where the data came from")
    return folder


def test_existing_dataset_is_kept_untouched(tmp_path: Path, shared_copy: Path) -> None:
    target = tmp_path / "data" / "dataset"
    _write_dataset(target)
    (target / "img" / "train" / "mine.jpg").write_bytes(b"the user's own file")
    before = _files_under(target)

    assert fetch_dataset(target, shared_copy, url=None) == "kept"
    assert _files_under(target) == before


def test_existing_folder_without_the_layout_is_an_error_and_untouched(
    tmp_path: Path, shared_copy: Path
) -> None:
    target = tmp_path / "data" / "dataset"
    (target / "img").mkdir(parents=True)
    (target / "notes.txt").write_text("mine")

    with pytest.raises(DatasetFetchError, match=r"has no labels/") as error:
        fetch_dataset(target, shared_copy, url=None)
    assert str(target) in str(error.value)
    assert _files_under(target) == {"notes.txt": b"mine"}


def test_copies_img_and_labels_from_the_shared_copy(tmp_path: Path, shared_copy: Path) -> None:
    target = tmp_path / "data" / "dataset"
    # The shared copy is read-only; the user's copy must not be.
    for folder in [path for path in shared_copy.rglob("*") if path.is_dir()]:
        folder.chmod(0o555)
    try:
        assert fetch_dataset(target, shared_copy, url=None) == "copied"
    finally:
        for folder in [path for path in shared_copy.rglob("*") if path.is_dir()]:
            folder.chmod(0o755)

    assert _files_under(target) == _dataset_files()
    assert (target / "img" / "train").stat().st_mode & 0o200
    assert [path.name for path in target.parent.iterdir()] == ["dataset"]


def test_an_empty_target_folder_is_filled(tmp_path: Path, shared_copy: Path) -> None:
    target = tmp_path / "data" / "dataset"
    target.mkdir(parents=True)

    assert fetch_dataset(target, shared_copy, url=None) == "copied"
    assert _files_under(target) == _dataset_files()


def test_downloads_and_unpacks_the_archive(tmp_path: Path, served: tuple[Path, str]) -> None:
    folder, base_url = served
    (folder / "dataset.zip").write_bytes(_zip(_in_top_folder(_dataset_files())))
    target = tmp_path / "data" / "dataset"

    action = fetch_dataset(target, tmp_path / "no_shared_copy", f"{base_url}/dataset.zip")

    assert action == "downloaded"
    assert _files_under(target) == _dataset_files()
    assert [path.name for path in target.parent.iterdir()] == ["dataset"]


def test_archive_with_a_member_outside_is_rejected(
    tmp_path: Path, served: tuple[Path, str]
) -> None:
    folder, base_url = served
    files = {**_in_top_folder(_dataset_files()), "../evil.txt": b"escaped"}
    (folder / "dataset.zip").write_bytes(_zip(files))
    target = tmp_path / "data" / "dataset"

    with pytest.raises(DatasetFetchError, match=r"'\.\./evil\.txt'"):
        fetch_dataset(target, None, f"{base_url}/dataset.zip")

    assert list(target.parent.iterdir()) == []
    assert not any(path.name == "evil.txt" for path in tmp_path.rglob("*"))


@pytest.mark.parametrize(
    ("served_name", "served_content", "reason"),
    [
        ("other.zip", b"", "404"),
        ("dataset.zip", b"not a zip file", "not a zip file"),
        ("dataset.zip", _zip({"readme.txt": b"no dataset here"}), "no folder holding img/"),
    ],
)
def test_failed_download_names_target_and_url_and_leaves_nothing(
    tmp_path: Path, served: tuple[Path, str], served_name: str, served_content: bytes, reason: str
) -> None:
    folder, base_url = served
    (folder / served_name).write_bytes(served_content)
    target = tmp_path / "data" / "dataset"
    url = f"{base_url}/dataset.zip"

    with pytest.raises(DatasetFetchError) as error:
        fetch_dataset(target, tmp_path / "no_shared_copy", url, timeout_s=5)

    message = str(error.value)
    assert str(target) in message
    assert url in message
    assert reason in message
    assert str(tmp_path / "no_shared_copy") in message
    assert list(target.parent.iterdir()) == []


def test_closed_port_is_a_clear_error(tmp_path: Path) -> None:
    target = tmp_path / "data" / "dataset"
    url = _closed_port_url()

    with pytest.raises(DatasetFetchError, match="refused") as error:
        fetch_dataset(target, None, url, timeout_s=5)

    assert str(target) in str(error.value)
    assert url in str(error.value)
    assert not target.exists()


def test_no_url_and_no_shared_copy_says_what_to_put_where(tmp_path: Path) -> None:
    target = tmp_path / "data" / "dataset"

    with pytest.raises(DatasetFetchError, match="dataset.download_url") as error:
        fetch_dataset(target, None, url=None)

    assert f"{target} must hold img/<split>/<id>.jpg" in str(error.value)
    assert not target.exists()


def _run_command(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "multiclass_segmentation.commands.fetch_data", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_command_copies_the_shared_copy_next_to_the_project(project_copy: Path) -> None:
    shared = project_copy.parent / "shared" / "datasets" / "train_dataset_for_students"
    _write_dataset(shared)

    result = _run_command(project_copy)

    assert result.returncode == 0, result.stderr
    target = project_copy / "data" / "01_raw" / "train_dataset_for_students"
    assert _files_under(target) == _dataset_files()


@pytest.mark.slow
def test_command_fails_with_the_message_and_no_traceback(project_copy: Path) -> None:
    url = _closed_port_url()
    (project_copy / "conf" / "local" / "parameters.yml").write_text(
        f"dataset:\n  download_url: {url}\n"
    )

    result = _run_command(project_copy, "--timeout", "5")

    target = project_copy / "data" / "01_raw" / "train_dataset_for_students"
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"Could not get the dataset into {target}" in result.stderr
    assert url in result.stderr
    assert not target.exists()


def test_command_leaves_the_demo_environment_to_its_generator(project_copy: Path) -> None:
    shared = project_copy.parent / "shared" / "datasets" / "train_dataset_for_students"
    _write_dataset(shared)

    assert main(["--project", str(project_copy), "--env", "demo"]) == 0
    assert list((project_copy / "data" / "01_raw").iterdir()) == []
