"""The model the service answers with: which folder and version, how it runs, its metrics.

The default runtime is ONNX Runtime: each single model's folder gets its export,
``model.onnx``, the first time it is served (``cached_onnx``); an ensemble is its
members' exports averaged as ``EnsembleSegmenter`` averages PyTorch members.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import onnx

from multiclass_segmentation.config.common import ClassesParams
from multiclass_segmentation.config.evaluation import TestTimeAugmentation
from multiclass_segmentation.config.results import Metrics, read_results_file
from multiclass_segmentation.core.export import export_onnx
from multiclass_segmentation.core.onnx_segmenter import OnnxSegmenter
from multiclass_segmentation.core.segmenter import EnsembleSegmenter, LabelsFromProbabilities
from multiclass_segmentation.errors import BadInputError, MissingInputError
from multiclass_segmentation.io.model_folder import (
    ensemble_metadata,
    is_model_folder,
    load_model_folder,
    model_checksum,
)
from multiclass_segmentation.io.versions import saved_versions

logger = logging.getLogger(__name__)

ONNX_FILE = "model.onnx"
# The ONNX property that records which weights the export was made from.
CHECKSUM_KEY = "source_sha256"

Runtime = Literal["onnx", "torch"]


@dataclass(frozen=True)
class ModelChoice:
    """Which model to serve and how: ``path`` is a versioned model folder
    (``data/06_models/<hypothesis>``, latest or ``version``) or one saved model's folder."""

    path: Path
    version: str | None = None
    runtime: Runtime = "onnx"
    device: str = "cpu"
    threads: int | None = None
    # Export in a process of its own (see cached_onnx); the tests export in-process, faster.
    export_in_subprocess: bool = True


@dataclass
class ServedModel:
    """A loaded model and what ``GET /model`` says about it.

    Predictions run one at a time (``predict``): ONNX Runtime and PyTorch use
    every core for one image, so parallel runs would only compete for them.
    """

    segmenter: LabelsFromProbabilities
    hypothesis: str
    version: str
    folder: Path
    runtime: Runtime
    info: dict[str, Any]
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def class_names(self) -> list[str]:
        return list(self.segmenter.class_names)

    def predict(self, image: np.ndarray, tta: TestTimeAugmentation) -> np.ndarray:
        """The class-id mask (H x W uint8) of an RGB image, at its size."""
        with self._lock:
            return self.segmenter.predict(image, hflip=tta.hflip, scales=tuple(tta.scales))


def resolve_model_folder(path: Path, version: str | None) -> tuple[Path, str]:
    """The saved model folder to serve and its version name.

    ``path`` is a versioned dataset folder (``<path>/<version>/<path name>``): its
    latest version, or ``version``; or one model's folder, whose version is its parent's name.
    """
    path = Path(path)
    if is_model_folder(path):
        if version is not None:
            raise BadInputError(
                f"{path} is one saved model; a version is chosen in a folder of versions, "
                f"e.g. {path.parent.parent}"
            )
        return path, path.parent.name
    versions = saved_versions(path)
    if not versions:
        raise MissingInputError(
            f"There is no trained model in {path}: train one (`make run`) or pass --model with "
            "a folder of model versions (data/06_models/<hypothesis>)."
        )
    chosen = versions[-1] if version is None else version
    if chosen not in versions:
        raise MissingInputError(
            f"{path} has no version {chosen}; its versions are {', '.join(versions[-5:])}"
            + (" and earlier" if len(versions) > 5 else "")
        )
    return path / chosen / path.name, chosen


def cached_onnx(folder: Path, in_subprocess: bool = True) -> Path:
    """``folder``/model.onnx, exported now unless it exists and was made from these weights."""
    path = Path(folder) / ONNX_FILE
    checksum = model_checksum(folder)
    if path.is_file() and _export_checksum(path) == checksum:
        return path
    logger.info("Exporting %s to ONNX (%s)", folder, path.name)
    if not in_subprocess:
        _export(Path(folder), path, checksum)
        return path
    # In a process of its own: the export holds the PyTorch model and torch.export's graphs
    # (1 GB more resident memory for the default model), which the service would keep.
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        pool.apply(_export, (Path(folder), path, checksum))
    return path


def _export(folder: Path, path: Path, checksum: str) -> None:
    export_onnx(load_model_folder(folder), path, extra_metadata={CHECKSUM_KEY: checksum})


def _export_checksum(path: Path) -> str | None:
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:  # an unreadable cache is exported again, whatever broke it
        logger.warning("The cached ONNX export %s is unreadable; exporting again", path)
        return None
    return {prop.key: prop.value for prop in model.metadata_props}.get(CHECKSUM_KEY)


def _onnx_segmenter(folder: Path, choice: ModelChoice) -> LabelsFromProbabilities:
    metadata = ensemble_metadata(folder)
    if metadata is None:
        onnx_file = cached_onnx(folder, choice.export_in_subprocess)
        return OnnxSegmenter.from_file(onnx_file, choice.device, choice.threads)
    return EnsembleSegmenter(
        members=[_onnx_segmenter(folder / name, choice) for name in metadata["members"]],
        weights=metadata["weights"],
        hypothesis=metadata["hypothesis"],
        info=metadata["info"],
    )


def load_served_model(choice: ModelChoice, classes: ClassesParams) -> ServedModel:
    """Loads (and, for ONNX Runtime, exports once) the chosen model; checks its classes."""
    folder, version = resolve_model_folder(choice.path, choice.version)
    if choice.runtime == "onnx":
        segmenter = _onnx_segmenter(folder, choice)
    else:
        segmenter = load_model_folder(folder)
        segmenter.to(choice.device)
    if list(segmenter.class_names) != list(classes.names):
        raise BadInputError(
            f"The model in {folder} predicts classes {list(segmenter.class_names)}, but "
            f"classes.names is {list(classes.names)}: serve it with the environment it was "
            "trained in (--env)."
        )
    return ServedModel(
        segmenter=segmenter,
        hypothesis=segmenter.hypothesis,
        version=version,
        folder=folder,
        runtime=choice.runtime,
        info=segmenter.info,
    )


def model_metrics(reporting_dir: Path, served: ServedModel) -> dict[str, Any] | None:
    """The test metrics of the served model from the newest metrics.json that evaluated it.

    The evaluation's ``metrics.json`` versions and a study's ``study/<name>/metrics.json``
    are searched; one that names the same model (its ``info``) wins, else the newest of the
    same hypothesis, marked ``matches_model: false``. None when there is neither.
    """
    reporting_dir = Path(reporting_dir)
    candidates = [
        *(
            reporting_dir / "metrics.json" / version / "metrics.json"
            for version in reversed(saved_versions(reporting_dir / "metrics.json"))
        ),
        reporting_dir / "study" / served.hypothesis / "metrics.json",
    ]
    same_hypothesis = [
        (path, metrics)
        for path in candidates
        if path.is_file() and (metrics := _read_metrics(path))["hypothesis"] == served.hypothesis
    ]
    for matches in (True, False):
        for path, metrics in same_hypothesis:
            if not matches or metrics.get("model") == served.info:
                return {
                    "source": str(path),
                    "matches_model": matches,
                    "evaluated_at": metrics.get("evaluated_at"),
                    "tta": metrics.get("tta"),
                    "test": metrics.get("test"),
                }
    return None


def _read_metrics(path: Path) -> dict[str, Any]:
    """metrics.json at ``path`` through its model (config/results.py)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return read_results_file(Metrics, data, str(path)).to_json()
