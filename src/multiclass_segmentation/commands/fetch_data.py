"""Gets the real dataset into ``dataset.root`` before ``make run``.

In this order: keep a dataset that is already there, copy the shared
read-only copy next to the project, download the published zip. A user's
data is never overwritten or deleted, and nothing half-written is ever left
at the target: every copy is built in a temporary sibling folder and
renamed into place at the end.

Run ``python -m multiclass_segmentation.commands.fetch_data [--env ENV]`` from the project folder.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import tempfile
import urllib.request
import zipfile
from collections.abc import Sequence
from http.client import HTTPException
from pathlib import Path, PurePosixPath, PureWindowsPath

from multiclass_segmentation.config.common import DatasetParams
from multiclass_segmentation.errors import UserError
from multiclass_segmentation.io.atomic import is_empty_dir, staged_directory
from multiclass_segmentation.io.config_loading import environment_parameters

logger = logging.getLogger(__name__)

# The two folders a dataset consists of: img/<split>/<id>.jpg and labels/<split>/<id>.png.
LAYOUT = ("img", "labels")
# Where the shared read-only copy lives, relative to the project folder.
SHARED_COPY = Path("..") / "shared" / "datasets" / "train_dataset_for_students"
EXPECTED_LAYOUT = (
    "img/<split>/<id>.jpg (RGB images) and labels/<split>/<id>.png "
    "(single-channel masks of class ids) for every split (train, val, test)"
)


class DatasetFetchError(UserError, RuntimeError):
    """The dataset could not be put in place; the message says what to do."""


def has_layout(folder: Path) -> bool:
    """Whether ``folder`` holds the dataset's img/ and labels/ folders."""
    return all((folder / part).is_dir() for part in LAYOUT)


def fetch_dataset(
    target: Path, shared_copy: Path | None, url: str | None, timeout_s: float = 30
) -> str:
    """Makes sure ``target`` holds the dataset; returns "kept", "copied" or "downloaded".

    Raises:
        DatasetFetchError: ``target`` exists but is not laid out as a dataset,
            or neither the shared copy nor the download gave one.
    """
    target = Path(target)
    if target.exists() and not is_empty_dir(target):
        if not has_layout(target):
            missing = ", ".join(f"{part}/" for part in LAYOUT if not (target / part).is_dir())
            raise DatasetFetchError(
                f"{target} exists but has no {missing}, so it is not a dataset. It is left "
                f"untouched: move it away to fetch the dataset there, or make it hold "
                f"{EXPECTED_LAYOUT}."
            )
        return "kept"

    failures = []
    if shared_copy is not None and has_layout(Path(shared_copy)):
        with staged_directory(target) as staging:
            for part in LAYOUT:
                _copy_tree(Path(shared_copy) / part, staging / part)
        return "copied"
    if shared_copy is not None:
        failures.append(f"no shared copy with img/ and labels/ at {shared_copy}")

    if url:
        try:
            _download(url, target, timeout_s)
        except (OSError, HTTPException, zipfile.BadZipFile, DatasetFetchError) as error:
            failures.append(f"downloading {url} failed: {error}")
        else:
            return "downloaded"
    else:
        failures.append("no download URL is configured (dataset.download_url)")

    reasons = "".join(f"\n  - {failure}" for failure in failures)
    source = f"unpacking {url}" if url else "unpacking the dataset's zip archive"
    raise DatasetFetchError(
        f"Could not get the dataset into {target}:{reasons}\n"
        f"Put it there yourself: {target} must hold {EXPECTED_LAYOUT}, e.g. by {source} so "
        f"that {target / 'img'} and {target / 'labels'} exist."
    )


def _copy_tree(source: Path, destination: Path) -> None:
    """Copies files and folders without their permissions: the shared copy is read-only."""
    destination.mkdir()
    for path in sorted(source.rglob("*")):
        copied = destination / path.relative_to(source)
        if path.is_dir():
            copied.mkdir()
        else:
            shutil.copyfile(path, copied)


def _download(url: str, target: Path, timeout_s: float) -> None:
    """Downloads the zip at ``url`` and moves the dataset folder inside it to ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{target.name}.download-", dir=target.parent) as work:
        archive = Path(work) / "dataset.zip"
        with urllib.request.urlopen(url, timeout=timeout_s) as response, archive.open("wb") as file:
            shutil.copyfileobj(response, file, length=1 << 20)
        unpacked = Path(work) / "unpacked"
        _extract_safely(archive, unpacked)
        dataset = _find_dataset_folder(unpacked)
        with staged_directory(target) as staging:
            for part in LAYOUT:
                os.rename(dataset / part, staging / part)


def _extract_safely(archive: Path, destination: Path) -> None:
    """Unpacks ``archive``, refusing it whole if any member could land outside ``destination``."""
    with zipfile.ZipFile(archive) as zip_file:
        for member in zip_file.infolist():
            name = PurePosixPath(member.filename.replace("\\", "/"))
            if name.is_absolute() or ".." in name.parts or PureWindowsPath(member.filename).drive:
                raise DatasetFetchError(
                    f"the archive holds a member with an absolute path or '..' "
                    f"('{member.filename}'); it was not unpacked"
                )
        zip_file.extractall(destination)


def _find_dataset_folder(unpacked: Path) -> Path:
    """The shallowest folder holding img/ and labels/ (archives often wrap it in a top folder)."""
    candidates = [
        folder
        for folder in [unpacked, *unpacked.rglob("*")]
        if folder.is_dir() and "__MACOSX" not in folder.parts and has_layout(folder)
    ]
    if not candidates:
        raise DatasetFetchError("the archive has no folder holding img/ and labels/")
    return min(candidates, key=lambda folder: (len(folder.parts), str(folder)))


def locate_project(project: Path | None) -> Path:
    """``project``, or the Kedro project holding the current folder."""
    from kedro.utils import find_kedro_project

    found = find_kedro_project(Path(project or Path.cwd()).resolve())
    if found is None:
        where = project or Path.cwd()
        raise FileNotFoundError(
            f"no Kedro project (pyproject.toml with [tool.kedro]) at or above {where}; "
            "run this from the project folder or pass --project"
        )
    return Path(found)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: puts the dataset of the project's configuration in place."""
    parser = argparse.ArgumentParser(
        prog="python -m multiclass_segmentation.commands.fetch_data", description=main.__doc__
    )
    parser.add_argument("--env", help="Kedro environment whose dataset.root to fill")
    parser.add_argument("--project", type=Path, help="project folder (default: the current one)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait on the server")
    args = parser.parse_args(argv)
    try:
        project = locate_project(args.project)
        parameters = environment_parameters(project, args.env)
        dataset = DatasetParams.model_validate(parameters["dataset"])
        target = Path(dataset.root)
        if not target.is_absolute():
            target = project / target
        if parameters.get("synthetic_dataset"):
            logger.info(
                "Environment %s generates its synthetic dataset in %s when it first runs; "
                "nothing to fetch",
                args.env,
                target,
            )
            return 0
        shared_copy = (project / SHARED_COPY).resolve()
        action = fetch_dataset(target, shared_copy, dataset.download_url, args.timeout)
    except (DatasetFetchError, OSError, ValueError) as error:
        parser.exit(1, f"{parser.prog}: error: {error}\n")
    what_happened = {
        "kept": f"kept the one already in {target}",
        "copied": f"copied {shared_copy} to {target}",
        "downloaded": f"downloaded {dataset.download_url} to {target}",
    }
    logger.info("Dataset: %s", what_happened[action])
    return 0


if __name__ == "__main__":
    # The package's own module, not this __main__ copy, so that its logger is the package's.
    from multiclass_segmentation.commands.fetch_data import main as package_main

    raise SystemExit(package_main())
