"""Findings of data validation, Kedro-free: severities, duplicate checks, the report.

A ``Problem`` of one split becomes a finding (a dict with its check's severity);
``duplicate_findings`` adds the identical and near-identical images within and
across splits; ``validation_report`` assembles the report; ``failure_message``
names each failed check and its files.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from multiclass_segmentation.analysis.text import preview
from multiclass_segmentation.analysis.validation.inspection import (
    ImageRecord,
    SplitInspection,
    file_path,
)
from multiclass_segmentation.config.common import ClassesParams
from multiclass_segmentation.config.data_validation import DataValidationParams

SEVERITIES_REPORTED = ("error", "warning")


def duplicate_findings(
    inspections: dict[str, SplitInspection], classes: ClassesParams, params: DataValidationParams
) -> list[dict]:
    """Identical and near-identical images within and across splits, and their masks' agreement."""
    members = [
        (split, record) for split, inspection in inspections.items() for record in inspection.images
    ]
    if len(members) < 2:
        return []
    hashes = np.stack([record.perceptual_hash for _, record in members]).astype(np.float32)
    # Between vectors of 0s and 1s the Hamming distance is the L1 distance.
    close = cKDTree(hashes).query_pairs(
        r=params.near_duplicate_max_distance, p=1, output_type="ndarray"
    )
    graph = coo_matrix(
        (np.ones(len(close)), (close[:, 0], close[:, 1])), shape=(len(members), len(members))
    )
    _, labels = connected_components(graph, directed=False)
    groups: dict[int, list[tuple[str, ImageRecord]]] = defaultdict(list)
    for member, label in zip(members, labels, strict=True):
        groups[label].append(member)

    findings = []
    for group in groups.values():
        if len(group) < 2:
            continue
        by_pixels: dict[str, list[tuple[str, ImageRecord]]] = defaultdict(list)
        for split, record in group:
            by_pixels[record.pixel_hash].append((split, record))
        findings += [
            _duplicates_finding(params, "duplicate_images", "identical", identical)
            for identical in by_pixels.values()
            if len(identical) > 1
        ]
        if len(by_pixels) > 1:
            kind = (
                "near-identical (perceptual hashes within "
                f"{params.near_duplicate_max_distance} bits)"
            )
            findings.append(_duplicates_finding(params, "near_duplicate_images", kind, group))
        findings += _mask_disagreement_findings(group, classes, params)
    return findings


def _duplicates_finding(
    params: DataValidationParams, check: str, kind: str, group: list[tuple[str, ImageRecord]]
) -> dict:
    splits = list(dict.fromkeys(split for split, _ in group))
    files = [file_path(split, record.image) for split, record in group]
    if len(splits) > 1:
        message = (
            f"{len(group)} {kind} images in {' and '.join(splits)}: the splits leak into each "
            "other, so scores on the held-out split are optimistic; keep each picture in one split"
        )
        return finding(params, f"{check}_across_splits", "+".join(splits), files, message)
    message = f"{len(group)} {kind} images: they weigh more than others in training and metrics"
    return finding(params, check, splits[0], files, message)


def _mask_disagreement_findings(
    group: list[tuple[str, ImageRecord]], classes: ClassesParams, params: DataValidationParams
) -> list[dict]:
    """A finding when duplicate images' masks hold other classes or differ on many pixels."""
    labelled = [(split, record) for split, record in group if record.mask is not None]
    if len(labelled) < 2:
        return []
    first = labelled[0][1]
    for _, other in labelled[1:]:
        if other.mask_class_ids != first.mask_class_ids:
            detail = (
                f"classes {_class_names(first.mask_class_ids, classes)} vs "
                f"{_class_names(other.mask_class_ids, classes)}"
            )
        else:
            differing = float(np.mean(first.mask_thumbnail != other.mask_thumbnail))
            if differing <= params.mask_disagreement_fraction:
                continue
            detail = f"{differing:.0%} of the pixels differ"
        splits = list(dict.fromkeys(split for split, _ in labelled))
        message = (
            f"masks of {len(labelled)} duplicate images disagree ({detail}); "
            "at least one is labelled wrongly or incompletely"
        )
        files = [file_path(split, record.mask) for split, record in labelled]
        return [finding(params, "duplicate_masks_disagree", "+".join(splits), files, message)]
    return []


def finding(
    params: DataValidationParams, check: str, split: str, files: list[str], message: str
) -> dict:
    return {
        "check": check,
        "severity": getattr(params.severity, check),
        "split": split,
        "files": files,
        "message": message,
    }


def group_by_check(findings: list[dict], severity: str) -> dict[str, list[dict]]:
    by_check: dict[str, list[dict]] = defaultdict(list)
    for finding in findings:
        if finding["severity"] == severity:
            by_check[finding["check"]].append(finding)
    return dict(by_check)


def _class_names(class_ids: frozenset[int], classes: ClassesParams) -> str:
    return "{" + ", ".join(classes.name_of(i) for i in sorted(class_ids)) + "}"


def validation_report(
    dataset_root: str,
    classes: ClassesParams,
    params: DataValidationParams,
    inspections: dict[str, SplitInspection],
) -> dict:
    """The validation report: per-split summary and every finding with its severity.

    ``inspections`` maps each split name to its inspection, in the splits' order.
    """
    findings = [
        finding(
            params,
            problem.check,
            split,
            [file_path(split, f) for f in problem.files],
            problem.message,
        )
        for split, inspection in inspections.items()
        for problem in inspection.problems
    ]
    findings += duplicate_findings(inspections, classes, params)
    findings = [finding for finding in findings if finding["severity"] in SEVERITIES_REPORTED]
    findings.sort(
        key=lambda finding: (SEVERITIES_REPORTED.index(finding["severity"]), finding["check"])
    )
    severity_counts = Counter(finding["severity"] for finding in findings)
    return {
        "dataset_root": dataset_root,
        "passed": severity_counts["error"] == 0,
        "errors": severity_counts["error"],
        "warnings": severity_counts["warning"],
        "summary": {split: inspection.summary for split, inspection in inspections.items()},
        "findings": findings,
    }


def failure_message(
    report: dict, params: DataValidationParams, report_path: str | None = None
) -> str | None:
    """What failed: each check with severity error and its files; None when none failed.

    ``report_path`` names the saved report (default: ``params.report_path``).
    """
    by_check = group_by_check(report["findings"], "error")
    if not by_check:
        return None
    lines = [
        f"Data validation of the dataset at '{report['dataset_root']}' failed "
        f"{len(by_check)} check(s); the full report is {report_path or params.report_path} "
        "(and the JSON next to it):"
    ]
    for check, findings in by_check.items():
        files = sorted({file for finding in findings for file in finding["files"]})
        lines.append(f"  - {check}: {len(files)} file(s): {preview(files, params.files_listed)}")
    lines.append(
        "Fix or remove these files, or change a check's severity in "
        "conf/base/parameters_data_validation.yml."
    )
    return "\n".join(lines)
