"""What tells hypotheses apart in the study report: their setup and the settings that differ."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

# Training parameters that the setup columns already show.
SETUP_PARAMETERS = (
    "model.architecture",
    "model.encoder_name",
    "model.encoder_weights",
    "loss.terms",
    "loss.class_weights",
    "optimizer.name",
    "optimizer.lr",
    "optimizer.weight_decay",
    "scheduler.name",
    "epochs",
    "augmentations",
)


def _loss(loss: dict) -> str:
    terms = " + ".join(
        term["name"] if term.get("weight", 1.0) == 1.0 else f"{term['weight']:g}·{term['name']}"
        for term in loss.get("terms", [])
    )
    class_weights = loss.get("class_weights")
    if class_weights is not None:
        terms += f"; class weights {_json(class_weights)}"
    return terms or "?"


def _optimiser(parameters: dict) -> str:
    optimizer = parameters.get("optimizer", {})
    scheduler = parameters.get("scheduler", {}).get("name", "none")
    text = f"{optimizer.get('name', '?')}, lr {optimizer.get('lr', float('nan')):g}"
    if optimizer.get("weight_decay"):
        text += f", weight decay {optimizer['weight_decay']:g}"
    if scheduler != "none":
        text += f", {scheduler} schedule"
    return text


def setup(metrics: dict | None) -> dict[str, str]:
    """The columns that tell hypotheses apart, from the training parameters saved in metrics."""
    if metrics is None:
        return {}
    model_info = metrics.get("model", {})
    parameters = model_info.get("parameters", {})
    model = parameters.get("model", {})
    epochs = f"{model_info.get('epochs_run', '?')} of {parameters.get('epochs', '?')}"
    if model_info.get("best_epoch") is not None:
        epochs += f" (best {model_info['best_epoch']})"
    return {
        "architecture": str(model.get("architecture", "?")),
        "encoder": str(model.get("encoder_name", "?")),
        "encoder weights": model.get("encoder_weights") or "none (random init)",
        "loss": _loss(parameters.get("loss", {})),
        "optimiser": _optimiser(parameters),
        "epochs run": epochs,
        "augmentations": ", ".join(a["name"] for a in parameters.get("augmentations", []))
        or "none",
        "test-time augmentation": tta_label(metrics.get("tta")),
    }


def tta_label(tta: dict | None) -> str:
    """How evaluation augmented its inputs: 'flip', 'scales 0.75/1/1.25', both, or 'none'."""
    if tta is None:
        return "?"
    parts = ["flip"] if tta.get("hflip") else []
    scales = tta.get("scales", [1.0])
    if list(scales) != [1.0]:
        parts.append("scales " + "/".join(f"{scale:g}" for scale in scales))
    return ", ".join(parts) or "none"


def differing_parameters(
    metrics: dict[str, dict], hypotheses: list[str], not_compared: Iterable[str]
) -> dict[str, list[str]]:
    """Training parameters (dotted paths) whose values differ between the hypotheses."""
    flat = {
        h: flatten(metrics[h].get("model", {}).get("parameters", {}))
        for h in hypotheses
        if h in metrics
    }
    if len(flat) < 2:
        return {}
    skipped = (*SETUP_PARAMETERS, *not_compared)
    keys = sorted({key for values in flat.values() for key in values})
    differing = {}
    for key in keys:
        if any(key == s or key.startswith(f"{s}.") for s in skipped):
            continue
        if len({values.get(key, "-") for values in flat.values()}) > 1:
            differing[key] = [flat[h].get(key, "-") if h in flat else "-" for h in hypotheses]
    return differing


def flatten(values: dict, prefix: str = "") -> dict[str, str]:
    """Nested parameters as {dotted path: JSON text of the value}."""
    flat = {}
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{path}."))
        else:
            flat[path] = _json(value)
    return flat


def _json(value: Any) -> str:
    return json.dumps(value, separators=(", ", ": "))


# The setup table's columns, in order.
SETUP_COLUMNS = tuple(setup({"model": {}}))
