"""Kedro's soft merge of parameters, for the places that layer them outside Kedro's loader:
a sweep's trial over the training parameters, a study's hypothesis over conf/base."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any


def soft_merge(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Each layer over the ones before it, key by key at every depth; other values
    (lists among them) replaced whole, as Kedro merges an environment over conf/base.

    The result shares nothing with the layers, so editing it (a trial setting its
    sampled values) never edits the parameters it came from.
    """
    merged: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            below = merged.get(key)
            if isinstance(value, Mapping) and isinstance(below, Mapping):
                merged[key] = soft_merge(below, value)
            else:
                merged[key] = copy.deepcopy(value)
    return merged
