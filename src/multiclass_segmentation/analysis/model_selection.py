"""How the study picks its best, by validation mDice (never by test), without Kedro or torch:
the best epoch of a training run and the best hypothesis of the study."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any


def best_epoch(history: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The epoch with the highest validation mDice (the first of equals), or None if none
    has one; a NaN or infinite score ranks below every finite one."""
    scored = [e for e in history if e.get("val_mdice") is not None]
    if not scored:
        return None
    return max(scored, key=lambda e: e["val_mdice"] if math.isfinite(e["val_mdice"]) else -1)


def ranked_hypotheses(entries: Mapping[str, dict[str, Any]]) -> list[str]:
    """results.json's hypotheses by validation mDice, best first; unscored ones last; equals
    by name."""
    return sorted(
        entries,
        key=lambda h: (entries[h].get("val_mdice") is None, -(entries[h].get("val_mdice") or 0), h),
    )


def best_hypothesis(entries: Mapping[str, dict[str, Any]]) -> str:
    """The hypothesis with the highest validation mDice (the first of ranked_hypotheses)."""
    return ranked_hypotheses(entries)[0]


def recorded_best_hypothesis(results: dict[str, Any]) -> str:
    """The best model that results.json records, as evaluation chose it; where it records
    none among its hypotheses (a file of an older version), the best by validation mDice."""
    entries = results["hypotheses"]
    best = results.get("best_model")
    return best if best in entries else best_hypothesis(entries)
