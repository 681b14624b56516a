"""Nodes of the inference pipeline: every image of a folder labelled by the trained model."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from kedro.io import DatasetError
from kedro.io.core import generate_timestamp
from PIL import Image

from multiclass_segmentation.config.common import ClassesParams
from multiclass_segmentation.config.evaluation import TestTimeAugmentation
from multiclass_segmentation.config.inference import InferenceParams
from multiclass_segmentation.core.segmenter import Segmenter
from multiclass_segmentation.errors import BadInputError, MissingInputError
from multiclass_segmentation.io.imaging import UnsupportedImageError, rgb_array
from multiclass_segmentation.io.versions import saved_versions
from multiclass_segmentation.progress import ProgressCounter, tracked
from multiclass_segmentation.report.plotting import overlay_mask

logger = logging.getLogger(__name__)

LoadImage = Callable[[], Image.Image]


def start_inference_run(inference: InferenceParams) -> str:
    """Checks the input folder and the model before either loads; names this run's folder.

    The name is a UTC timestamp in Kedro's version format, so a run never
    writes into an earlier run's folder.
    """
    input_dir = Path(inference.input_dir).resolve()
    model_dir = Path(inference.model_dir).resolve()
    if not input_dir.is_dir():
        raise MissingInputError(
            f"The folder of images to label, {input_dir} (inference.input_dir), does not exist: "
            'pass it with --params "inference.input_dir=/path/to/images".'
        )
    if not any(path.is_file() for path in input_dir.rglob("*")):
        raise MissingInputError(
            f"The folder of images to label, {input_dir} (inference.input_dir), holds no files: "
            "put the JPEG or PNG images there (subfolders are included)."
        )
    if Path(inference.output_dir).resolve().is_relative_to(input_dir):
        raise BadInputError(
            f"inference.output_dir {inference.output_dir} is inside inference.input_dir "
            f"{input_dir}, so a later run would label this run's masks: choose another folder."
        )
    if not saved_versions(model_dir):
        raise MissingInputError(
            f"There is no trained model in {model_dir}: run `kedro run --pipelines training` "
            "with the same --env first."
        )
    return generate_timestamp()


def output_names(image_ids: Iterable[str]) -> dict[str, str]:
    """The name of each input file's mask and overlay: its relative path ending in .png.

    Files that would share a name (``a.jpg`` and ``a.png``) keep their full
    name instead (``a.jpg.png``, ``a.png.png``).
    """
    stems = {image_id: str(PurePosixPath(image_id).with_suffix("")) for image_id in image_ids}
    uses = Counter(stems.values())
    return {
        image_id: f"{stem}.png" if uses[stem] == 1 else f"{image_id}.png"
        for image_id, stem in stems.items()
    }


def _predicted_mask(
    load_image: LoadImage,
    segmenter: Segmenter,
    tta: TestTimeAugmentation,
    progress: ProgressCounter,
) -> Image.Image:
    mask = segmenter.predict(rgb_array(load_image()), hflip=tta.hflip, scales=tta.scales)
    progress.advance()
    return Image.fromarray(mask)


def label_images(
    images: dict[str, LoadImage],
    segmenter: Segmenter,
    run: str,
    classes: ClassesParams,
    inference: InferenceParams,
) -> tuple[dict[str, Callable[[], Image.Image]], dict[str, str], dict[str, dict[str, Any]]]:
    """This run's masks (computed as each is saved), which file got which name, and the report.

    Every file is decoded and converted to RGB here once to find the unreadable ones, which the
    report lists and the run skips. The model runs when Kedro saves each
    mask, so a folder of any size holds one image in memory at a time.
    """
    if list(segmenter.class_names) != list(classes.names):
        raise BadInputError(
            f"The model predicts classes {list(segmenter.class_names)}, but classes.names is "
            f"{list(classes.names)}: use the environment the model was trained in."
        )
    names = output_names(images)
    labelled: dict[str, str] = {}
    unreadable: list[dict[str, str]] = []
    for image_id in tracked(sorted(images), "Reading the input images"):
        try:
            rgb_array(images[image_id]())
        # Kedro wraps what PIL raised for this file; a mode with no RGB rule is refused too.
        except (DatasetError, UnsupportedImageError) as error:
            cause = error.__cause__ or error
            unreadable.append({"file": image_id, "error": f"{type(cause).__name__}: {cause}"})
        else:
            labelled[image_id] = names[image_id]
    if not labelled:
        raise BadInputError(
            f"None of the {len(images)} files in {inference.input_dir} is a readable image, "
            f"e.g. {unreadable[0]['file']}: {unreadable[0]['error']}."
        )
    logger.info(
        "Labelling %d images from %s into %s/%s; %d unreadable files skipped%s",
        len(labelled),
        inference.input_dir,
        inference.output_dir,
        run,
        len(unreadable),
        f" (listed in {run}/report.json)" if unreadable else "",
    )
    # The model runs as Kedro saves each mask: the counter advances there.
    progress = ProgressCounter("Labelling images", total=len(labelled))
    masks = {
        f"{run}/masks/{name}": partial(
            _predicted_mask, images[image_id], segmenter, inference.tta, progress
        )
        for image_id, name in labelled.items()
    }
    report = {
        "run": run,
        "input_dir": inference.input_dir,
        "hypothesis": segmenter.hypothesis,
        "model": segmenter.info,
        "class_names": list(segmenter.class_names),
        "tta": inference.tta.model_dump(),
        "labelled": labelled,
        "unreadable": unreadable,
    }
    return masks, labelled, {f"{run}/report": report}


def _overlay(
    load_image: LoadImage, load_mask: LoadImage, classes: ClassesParams, alpha: float
) -> Image.Image:
    image = rgb_array(load_image())
    blended = overlay_mask(image, np.asarray(load_mask()), classes, alpha)
    return Image.fromarray((blended * 255).round().astype(np.uint8))


def draw_overlays(
    images: dict[str, LoadImage],
    masks: dict[str, LoadImage],
    labelled: dict[str, str],
    run: str,
    classes: ClassesParams,
    inference: InferenceParams,
) -> dict[str, Callable[[], Image.Image]]:
    """This run's overlays: each image with its saved mask in the class colours.

    Drawn as each is saved, like the masks.
    """
    return {
        f"{run}/overlays/{name}": partial(
            _overlay,
            images[image_id],
            masks[f"{run}/masks/{name}"],
            classes,
            inference.overlay_alpha,
        )
        for image_id, name in labelled.items()
    }
