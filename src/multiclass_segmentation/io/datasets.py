"""Kedro datasets that kedro-datasets does not provide."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd
import torch
from kedro.io.core import (
    AbstractDataset,
    AbstractVersionedDataset,
    DatasetError,
    Version,
    get_filepath_str,
)
from kedro_datasets.json import JSONDataset
from kedro_datasets.pandas import CSVDataset
from kedro_datasets.pillow import ImageDataset
from kedro_datasets.text import TextDataset
from PIL import Image

from multiclass_segmentation.config.results import (
    RESULTS_FILES,
    StudyResults,
    read_results_file,
)
from multiclass_segmentation.core.segmenter import EnsembleSegmenter, Segmenter
from multiclass_segmentation.io.atomic import write_atomically
from multiclass_segmentation.io.model_folder import (
    ENSEMBLE_METADATA,
    SEGMENTER_METADATA,
    load_model_folder,
)


class DecodedImageDataset(ImageDataset):
    """``pillow.ImageDataset`` that keeps the decoded file format.

    kedro-datasets' loader returns ``Image.open(f).copy()``, and the copy drops
    ``Image.format``, which data validation compares with the file extension
    (a PNG or GIF named ``.jpg``). Here the pixels are read in full (so a
    truncated file fails on load, as it does there) and the format is kept.
    """

    def load(self) -> Image.Image:
        load_path = get_filepath_str(self._get_load_path(), self._protocol)
        with self._fs.open(load_path, **self._fs_open_args_load) as fs_file:
            image = Image.open(fs_file)
            image.load()
        return image


class SegmentationModelDataset(AbstractVersionedDataset[Segmenter, Segmenter]):
    """A :class:`Segmenter` saved as smp's ``save_pretrained`` folder.

    The folder holds ``config.json`` and the weights (smp's own format, which
    ``smp.from_pretrained`` rebuilds without knowing the architecture) plus
    ``segmenter.json`` with the preprocessing and the class names. An ensemble
    is ``ensemble.json`` plus one such folder per member. Local filesystem only.
    """

    def __init__(
        self,
        *,
        filepath: str,
        version: Version | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(filepath=PurePosixPath(filepath), version=version, exists_function=None)
        self.metadata = metadata

    def _exists(self) -> bool:
        try:
            folder = Path(self._get_load_path())
        except DatasetError:
            return False
        # A folder of checkpoints, or a stray one, is no model: its metadata says what it holds.
        return any((folder / name).is_file() for name in (SEGMENTER_METADATA, ENSEMBLE_METADATA))

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "version": self._version}

    def saved_folder(self) -> Path:
        """The folder of the version this run saved (or, before a save, the latest one)."""
        return Path(self._get_load_path())

    def load(self) -> Segmenter | EnsembleSegmenter:
        return load_model_folder(self.saved_folder())

    def save(self, data: Segmenter | EnsembleSegmenter) -> None:
        write_atomically(Path(self._get_save_path()), lambda folder: _write_segmenter(data, folder))


def _write_segmenter(data: Segmenter | EnsembleSegmenter, folder: Path) -> None:
    """A single model as smp's folder; an ensemble as one such folder per member."""
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(data, EnsembleSegmenter):
        names = [f"member_{index}" for index in range(len(data.members))]
        for name, member in zip(names, data.members, strict=True):
            _write_segmenter(member, folder / name)
        metadata = {
            "hypothesis": data.hypothesis,
            "weights": data.weights,
            "members": names,
            "info": data.info,
        }
        (folder / ENSEMBLE_METADATA).write_text(json.dumps(metadata, indent=2), encoding="utf-8")
        return
    # safetensors stores contiguous tensors; inference may have left them channels_last.
    data.model.to(memory_format=torch.contiguous_format)
    data.model.save_pretrained(str(folder))
    (folder / SEGMENTER_METADATA).write_text(
        json.dumps(data.metadata(), indent=2), encoding="utf-8"
    )


def rebuilt_each_run(metadata: dict[str, Any] | None) -> bool:
    """Whether the catalog marks a dataset as a view of other outputs (``rebuilt_each_run``).

    ``kedro run --only-missing-outputs`` skips a node whose outputs exist; a view
    (results.json, report.md) must be rebuilt whenever the runs it summarises
    change, so such a dataset never counts as existing.
    """
    return bool((metadata or {}).get("rebuilt_each_run"))


class StudyResultsDataset(AbstractDataset[dict, dict]):
    """The study's results table as JSON: empty before the first evaluation.

    Saved atomically, since every hypothesis's evaluation rewrites it.
    """

    # hooks.UpstreamInputHook: a run may read it before any evaluation wrote it.
    loads_when_missing = True

    def __init__(self, *, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = Path(filepath)
        self.metadata = metadata

    def _exists(self) -> bool:
        return self._filepath.is_file() and not rebuilt_each_run(self.metadata)

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}

    def load(self) -> dict:
        if not self._filepath.is_file():
            return {}
        data = json.loads(self._filepath.read_text(encoding="utf-8"))
        return read_results_file(StudyResults, data, str(self._filepath)).to_json()

    def save(self, data: dict) -> None:
        write_atomically(
            self._filepath,
            lambda tmp: tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8"),
        )


def _local_save_path(dataset: JSONDataset | TextDataset | CSVDataset, remote_type: str) -> Path:
    if dataset._protocol != "file":
        raise DatasetError(
            f"{type(dataset).__name__} writes local files only, not "
            f"'{dataset._protocol}://' paths: use type {remote_type} for {dataset._filepath}."
        )
    return Path(get_filepath_str(dataset._get_save_path(), dataset._protocol))


class AtomicJSONDataset(JSONDataset):
    """``json.JSONDataset`` whose save writes a temporary and renames it.

    kedro-datasets writes in place, so a run killed while saving leaves a
    half-written file; here the earlier file, or version, stays whole.
    Versioning, ``save_args`` and ``fs_args.open_args_save`` work as there.
    """

    def save(self, data: Any) -> None:
        def write(tmp_path: Path) -> None:
            with open(tmp_path, **self._fs_open_args_save) as file:
                json.dump(data, file, **self._save_args)

        write_atomically(_local_save_path(self, "json.JSONDataset"), write)
        self._invalidate_cache()


class ResultsJSONDataset(AtomicJSONDataset):
    """metrics.json or robustness.json (``results_file``): loaded through its model of
    config/results.py, so a file of another shape or schema version fails on load."""

    def __init__(self, *, results_file: str, **kwargs: Any) -> None:
        if results_file not in RESULTS_FILES:
            raise DatasetError(f"results_file {results_file!r} is none of {sorted(RESULTS_FILES)}")
        super().__init__(**kwargs)
        self._model = RESULTS_FILES[results_file]

    def load(self) -> dict:
        source = get_filepath_str(self._get_load_path(), self._protocol)
        return read_results_file(self._model, super().load(), source).to_json()


class AtomicTextDataset(TextDataset):
    """``text.TextDataset`` whose save writes a temporary and renames it."""

    def _exists(self) -> bool:
        return super()._exists() and not rebuilt_each_run(self.metadata)

    def save(self, data: str) -> None:
        def write(tmp_path: Path) -> None:
            with open(tmp_path, **self._fs_open_args_save) as file:
                file.write(data)

        write_atomically(_local_save_path(self, "text.TextDataset"), write)
        self._invalidate_cache()


class AtomicCSVDataset(CSVDataset):
    """``pandas.CSVDataset`` whose save writes a temporary and renames it."""

    def save(self, data: pd.DataFrame) -> None:
        write_atomically(
            _local_save_path(self, "pandas.CSVDataset"),
            lambda tmp_path: data.to_csv(tmp_path, **self._save_args),
        )
        self._invalidate_cache()


# The first line of every file that ConfEnvironmentsDataset writes.
GENERATED_MARKER = "# Written by `kedro run --pipelines sweep`; the next sweep replaces this file."
SWAP_ATTEMPTS = 5


def written_by_pipeline(folder: Path) -> bool:
    """Whether every entry of ``folder`` is a file that starts with GENERATED_MARKER."""
    for entry in folder.iterdir():
        if not entry.is_file():
            return False
        with open(entry, encoding="utf-8", errors="replace") as file:
            if file.readline().rstrip("\n") != GENERATED_MARKER:
                return False
    return True


class ConfEnvironmentsDataset(AbstractDataset[dict, dict]):
    """Kedro environments (``<path>/<env>/``) that a pipeline writes, e.g. a sweep's best trial.

    ``save({env: {file name: text}})`` writes each environment whole: its files go
    to a hidden temporary folder (the config loader skips hidden folders) that
    then takes the place of the old one, so the environment is the old or the
    new one, never half of each. Every file starts with ``GENERATED_MARKER``; an
    existing environment with any other file was not written here and is refused.
    ``load()`` gives ``{env: written here}`` for every environment, so a pipeline
    can refuse a name before its work rather than after.
    """

    def __init__(self, *, path: str, metadata: dict[str, Any] | None = None) -> None:
        self._path = Path(path)
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path)}

    def _exists(self) -> bool:
        return self._path.is_dir()

    def load(self) -> dict[str, bool]:
        folders = [p for p in self._path.iterdir() if p.is_dir() and not p.name.startswith(".")]
        return {folder.name: written_by_pipeline(folder) for folder in sorted(folders)}

    def save(self, data: dict[str, dict[str, str]]) -> None:
        for env, files in data.items():
            self._write(env, files)

    def _write(self, env: str, files: dict[str, str]) -> None:
        target = self._path / env
        if target.exists() and not written_by_pipeline(target):
            raise DatasetError(
                f"{target} exists and was not written by a sweep: it is left as it is. "
                "Choose another sweep.best_hypothesis.env or move that folder away."
            )
        staged = Path(tempfile.mkdtemp(prefix=f".{env}.", dir=self._path))
        try:
            for name, text in files.items():
                (staged / name).write_text(f"{GENERATED_MARKER}\n{text}", encoding="utf-8")
            self._swap(staged, target)
        finally:
            shutil.rmtree(staged, ignore_errors=True)

    @staticmethod
    def _swap(staged: Path, target: Path) -> None:
        aside = staged.with_name(f"{staged.name}.old")
        for _ in range(SWAP_ATTEMPTS):
            if target.exists():
                os.replace(target, aside)
            try:
                os.rename(staged, target)
            except OSError:
                continue  # another worker put its own there in between: move that aside too
            finally:
                shutil.rmtree(aside, ignore_errors=True)
            return
        raise DatasetError(f"Could not replace {target}: other processes keep writing it.")
