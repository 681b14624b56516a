"""Robustness figures of one model from its scores on shifted views; numpy only, no torch.

mmdetection's robustness report defines, on one split:

- P: the clean mDice;
- mPC: the mean mDice over every corruption cell (family x severity);
- rPC = mPC / P: the share of the clean score kept under corruption.

Beside them the scale views: each close-up's and zoom-out's mDice and their mean
(``scale_mdice``), and each family's mean over its severities. ``view_confusions``
stacks per-image confusions by view so that a study can resample images.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

SCALE_FAMILY = "scale"
# What a view keeps in the summary (its per-image lists stay in robustness.json's views).
VIEW_SCORES = ("family", "level", "images", "mdice", "fg_mdice", "dice")


def split_summary(
    views: Mapping[str, Mapping[str, Any]],
    clean: Mapping[str, Any],
    families_order: Sequence[str] = (),
) -> dict[str, Any]:
    """P, scale and corruption figures of one split from its views' scores.

    ``views`` maps view name -> scores with ``family``, ``level`` and ``mdice``;
    ``clean`` is the clean split's scores (``mdice`` is P, ``dice`` per class); families
    come in ``families_order`` (then any other). A mean over no view, and rPC without P,
    are None.
    """
    clean_mdice = clean.get("mdice")
    scale = {name: s for name, s in views.items() if s["family"] == SCALE_FAMILY}
    cells = {name: s for name, s in views.items() if s["family"] != SCALE_FAMILY}
    families: dict[str, dict[int, float | None]] = {
        family: {}
        for family in families_order
        if any(s["family"] == family for s in cells.values())
    }
    for score in cells.values():
        families.setdefault(score["family"], {})[int(score["level"])] = score["mdice"]
    mpc = _mean(s["mdice"] for s in cells.values())
    return {
        "clean_mdice": clean_mdice,
        "clean_dice": dict(clean.get("dice") or {}),
        "scale_mdice": _mean(s["mdice"] for s in scale.values()),
        "closeup_mdice": _mean(s["mdice"] for n, s in scale.items() if n.startswith("closeup")),
        "zoomout_mdice": _mean(s["mdice"] for n, s in scale.items() if n.startswith("zoomout")),
        "mpc": mpc,
        "rpc": mpc / clean_mdice if mpc is not None and clean_mdice else None,
        "family_mdice": {
            family: {
                "mean": _mean(levels.values()),
                "by_severity": {str(k): v for k, v in sorted(levels.items())},
            }
            for family, levels in families.items()
        },
        "views": {name: {key: s.get(key) for key in VIEW_SCORES} for name, s in views.items()},
    }


def _mean(values: Any) -> float | None:
    defined = [value for value in values if value is not None]
    return float(np.mean(defined)) if defined else None


def view_names(views: Mapping[str, Mapping[str, Any]], kind: str) -> list[str]:
    """The views of ``kind``: "scale" (close-ups and zoom-outs) or "corruption" (every cell)."""
    if kind not in ("scale", "corruption"):
        raise ValueError(f"kind must be 'scale' or 'corruption', got {kind!r}")
    return sorted(
        name for name, s in views.items() if (s["family"] == SCALE_FAMILY) == (kind == "scale")
    )


def view_confusions(
    views: Mapping[str, Mapping[str, Any]], names: Sequence[str], ids: Sequence[str]
) -> np.ndarray:
    """int64 (len(ids), len(names), k, k): each image's confusion in each view, 0 where absent.

    An image absent from a view (a close-up of an image with no object; another
    severity under rotated sampling) adds nothing to that view's sums; an image
    seen several times in one view (every corruption of a cell) adds them all.
    """
    position = {image_id: index for index, image_id in enumerate(ids)}
    stack: np.ndarray | None = None
    for column, name in enumerate(names):
        for image in views[name]["per_image_dice"]:
            matrix = np.asarray(image["confusion"], dtype=np.int64)
            if stack is None:
                k = matrix.shape[0]
                stack = np.zeros((len(ids), len(names), k, k), dtype=np.int64)
            if image["id"] not in position:
                raise ValueError(f"view {name} scores image {image['id']!r}, not among {len(ids)}")
            stack[position[image["id"]], column] += matrix
    if stack is None:
        raise ValueError(f"views {list(names)} score no image")
    return stack
