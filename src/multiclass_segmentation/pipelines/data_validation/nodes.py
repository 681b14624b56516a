"""Nodes of the data_validation pipeline; the checks live in ``analysis/validation/``.

``inspect_split`` decodes every file of one split once, keeps its facts (size,
mode, format, hashes, class pixels) and releases its pixels, and turns each
library error and each data problem into a finding instead of an exception;
``build_report`` adds the duplicate checks over all splits and the severities;
``render_report_markdown`` writes the report for people; ``check_report`` stops
the run when a check with severity error failed; ``build_validated_split``
hands a manifest of the usable pairs (paths and facts, no pixels) to the next
pipelines.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from multiclass_segmentation.analysis.validation.findings import failure_message, validation_report
from multiclass_segmentation.analysis.validation.inspection import (
    Partitions,
    SplitInspection,
    inspect_split_files,
    manifest,
)
from multiclass_segmentation.config.common import ClassesParams, DatasetParams
from multiclass_segmentation.config.data_validation import DataValidationParams
from multiclass_segmentation.errors import UserError
from multiclass_segmentation.report.data_validation import data_validation_markdown


class DataValidationError(UserError):
    """The dataset failed a data validation check whose severity is error."""


def inspect_split(images: Partitions, masks: Partitions, classes: ClassesParams) -> SplitInspection:
    """Checks every file of one split and pairs images with masks by file stem.

    Each file is decoded once and released after its facts are taken, so memory
    does not grow with the number of images. A pair is usable when both files
    decode, the image converts to RGB and the mask is one 8-bit channel of class
    ids of the image's size.
    """
    return inspect_split_files(images, masks, classes)


def build_report(
    dataset: DatasetParams,
    classes: ClassesParams,
    params: DataValidationParams,
    **inspections: SplitInspection,
) -> dict:
    """The validation report: per-split summary and every finding with its severity.

    ``inspections`` maps each split name to its inspection, in the splits' order.
    """
    return validation_report(dataset.root, classes, params, inspections)


def render_report_markdown(report: dict, params: DataValidationParams) -> str:
    """A short markdown report: the summary tables, then the findings by severity and check."""
    return data_validation_markdown(report, params.files_listed)


def check_report(report: dict, report_md: str, params: DataValidationParams) -> bool:
    """Raises ``DataValidationError`` naming each failed check and its files; True otherwise.

    ``report_md`` is taken only so that this gate runs after the markdown report is saved.
    """
    message = failure_message(report, params)
    if message is None:
        return True
    raise DataValidationError(message)


def build_validated_split(
    inspection: SplitInspection, validation_passed: bool, classes: ClassesParams, split: str
) -> pd.DataFrame:
    """The data contract of one split: a manifest with a row per usable pair, not its pixels.

    Columns: ``id`` (the file stem), ``image`` and ``mask`` (paths relative to the
    dataset root), ``height``, ``width``, the image's ``image_mode``,
    ``image_format`` and ``image_sha256``, then ``pixels_<class>`` per class and
    ``ignore_pixels``. ``validation_passed`` is the gate's output, taken so that
    this runs only after the gate.
    """
    return manifest(inspection, classes, split)


def validated_split_builder(split: str) -> Callable[..., pd.DataFrame]:
    """``build_validated_split`` of one split as a node function whose type hints Kedro reads."""

    def build_validated(
        inspection: SplitInspection, validation_passed: bool, classes: ClassesParams
    ) -> pd.DataFrame:
        return build_validated_split(inspection, validation_passed, classes, split)

    return build_validated
