"""Statistics of a seed study, Kedro-free (numpy and scipy only, never torch).

A study trains each hypothesis (a training recipe) over several seeds, runs named
``<hypothesis>.seed_<seed>``, plus ensembles, one run each. From the runs' evaluation
metrics this module builds the ``study`` section of results.json:

- ``seed_interval``: mean and Student-t interval of a metric over the seeds;
- ``mdice_of_confusions``: mDice of (batches of) confusion matrices, with the rules of
  ``metrics.scores_from_confusion``: Dice_c = 2 TP / (rowsum + colsum), a class absent from
  both ground truth and prediction has no Dice and is left out of the mean;
- ``pooled_image_confusions``: per-image confusion matrices summed over a hypothesis' seeds;
- ``paired_bootstrap`` and ``verdict``: is one entry's test mDice really higher than
  another's? Images are resampled with replacement, the same images for both (paired), so
  what the two share (an image being easy or hard) cancels out of the difference;
- ``summarise_study``: the whole section. The best entry is chosen on validation mDice only;
  test scores are compared, never used to choose.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from multiclass_segmentation.analysis.robustness import view_confusions, view_names

# Resampled (image count) rows per chunk: bounds the bootstrap's memory to a few tens of MB.
_BOOTSTRAP_CELLS = 2_000_000
_RUN_NAME = re.compile(r"^(?P<hypothesis>.+)\.seed_(?P<seed>-?\d+)$")
_METRICS = ("val_mdice", "val_fg_mdice", "test_mdice", "test_fg_mdice")
# Figures of the shift benchmark (robustness.json's summary per split), and the views each
# paired comparison resamples: the scale views, or every corruption cell (mPC).
ROBUSTNESS_METRICS = ("val_scale_mdice", "val_mpc", "test_scale_mdice", "test_mpc", "test_rpc")
ROBUSTNESS_COMPARISONS = {"test_scale_mdice": "scale", "test_mpc": "corruption"}


def seed_interval(values: Sequence[float], confidence: float = 0.95) -> dict[str, Any]:
    """Mean of ``values`` (one per seed) and its Student-t interval.

    Returns {"n", "mean", "sd", "ci_low", "ci_high"}: ``sd`` is the sample standard deviation
    (ddof=1) and the interval is mean +- t_{(1+confidence)/2, n-1} * sd / sqrt(n). With a
    single value ``sd``, ``ci_low`` and ``ci_high`` are None. A None value (an undefined
    score) raises ValueError naming its position.
    """
    values = list(values)
    if not values:
        raise ValueError("seed_interval needs at least one value, got none")
    missing = [index for index, value in enumerate(values) if value is None]
    if missing:
        raise ValueError(f"value {missing[0]} of {values} is None: every seed needs a score")
    array = np.asarray(values, dtype=np.float64)
    n = array.size
    mean = float(array.mean())
    if n == 1:
        return {"n": 1, "mean": mean, "sd": None, "ci_low": None, "ci_high": None}
    sd = float(array.std(ddof=1))
    half_width = float(stats.t.ppf((1 + confidence) / 2, n - 1)) * sd / math.sqrt(n)
    return {
        "n": n,
        "mean": mean,
        "sd": sd,
        "ci_low": mean - half_width,
        "ci_high": mean + half_width,
    }


def mdice_of_confusions(
    confusions: np.ndarray, background_id: int = 0, foreground_only: bool = False
) -> np.ndarray:
    """mDice of each (k, k) confusion matrix (rows = ground truth) in ``confusions`` (..., k, k).

    Dice_c = 2 diag_c / (rowsum_c + colsum_c); a class with rowsum + colsum == 0 has no Dice
    and is left out of the mean. ``foreground_only`` averages over the classes other than
    ``background_id`` (fg_mDice). Returns the leading shape (...); NaN where no class has a
    Dice.
    """
    matrix = np.asarray(confusions, dtype=np.float64)
    if matrix.ndim < 2 or matrix.shape[-1] != matrix.shape[-2]:
        raise ValueError(f"confusion matrices must be (..., k, k), got shape {matrix.shape}")
    true_positive = np.diagonal(matrix, axis1=-2, axis2=-1)
    denominator = matrix.sum(axis=-1) + matrix.sum(axis=-2)
    defined = denominator > 0
    dice = np.where(defined, 2 * true_positive / np.where(defined, denominator, 1), 0.0)
    if foreground_only:
        keep = np.arange(matrix.shape[-1]) != background_id
        dice, defined = dice[..., keep], defined[..., keep]
    count = defined.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, dice.sum(axis=-1) / count, np.nan)


def pooled_image_confusions(
    runs_metrics: Sequence[Mapping[str, Any]],
    split: str = "test",
    names: Sequence[str] | None = None,
) -> tuple[list[str], np.ndarray]:
    """Per-image confusion matrices of ``split`` summed over runs (the seeds pooled).

    Images are aligned by id and come in the first run's order. Returns (ids, int64 array
    (n_images, k, k)). ``names`` label the runs in errors (default: their position and
    hypothesis); a run that scored another set of images, repeats an id, or lacks the
    per-image confusion raises ValueError naming it.
    """
    if not runs_metrics:
        raise ValueError("pooled_image_confusions needs at least one run, got none")
    labels = list(names or (f"run {i} ({m.get('hypothesis')})" for i, m in enumerate(runs_metrics)))
    ids: list[str] = []
    total: np.ndarray | None = None
    for label, metrics in zip(labels, runs_metrics, strict=True):
        run_ids, matrices = _image_confusions(metrics, split, label)
        if total is None:
            ids, total = run_ids, matrices.copy()
            continue
        if sorted(run_ids) != sorted(ids) or matrices.shape[1:] != total.shape[1:]:
            raise ValueError(
                f"{label} scored other {split} images (or classes) than {labels[0]}: "
                f"{len(run_ids)} images of {matrices.shape[1:]} vs {len(ids)} of {total.shape[1:]}"
            )
        position = {image_id: index for index, image_id in enumerate(run_ids)}
        total += matrices[[position[image_id] for image_id in ids]]
    return ids, total


def _image_confusions(
    metrics: Mapping[str, Any], split: str, label: str
) -> tuple[list[str], np.ndarray]:
    """(ids, (n, k, k) int64) of one run's per-image confusions; ValueError naming the run."""
    try:
        images = metrics[split]["per_image_dice"]
        ids = [str(image["id"]) for image in images]
        matrices = np.asarray([image["confusion"] for image in images], dtype=np.int64)
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(
            f"{label} has no per-image confusion matrices for {split} "
            f"(metrics[{split!r}]['per_image_dice'][i]['confusion']): {error!r}"
        ) from error
    if not ids or matrices.ndim != 3 or matrices.shape[1] != matrices.shape[2]:
        raise ValueError(f"{label}: {split} per-image confusions are not (n, k, k) matrices")
    if len(set(ids)) != len(ids):
        raise ValueError(f"{label} scores some {split} image twice")
    return ids, matrices


def paired_bootstrap(
    confusions_a: np.ndarray,
    confusions_b: np.ndarray,
    *,
    samples: int = 10000,
    confidence: float = 0.95,
    seed: int = 0,
    background_id: int = 0,
    foreground_only: bool = False,
) -> dict[str, Any]:
    """Paired bootstrap of mDice(a) - mDice(b) over images; a and b hold the same images.

    a and b are (n, k, k) per-image confusions, or (n, cells, k, k) for a score that is
    the mean over cells (views, corruption severities) of each cell's mDice, as mPC is.
    ``difference`` is that score of a's confusions summed over all images minus b's. Each
    of ``samples`` resamples draws n image indices with replacement, the same for a and b,
    and recomputes the difference; ``ci_low`` / ``ci_high`` are its (1 -+ confidence)/2
    percentiles (resamples whose difference is undefined are left out). Deterministic for
    a ``seed``. Returns {"difference", "ci_low", "ci_high", "confidence", "samples",
    "images"}; undefined values are None.
    """
    a, b = _as_cells(confusions_a), _as_cells(confusions_b)
    if a.shape != b.shape or a.ndim != 4 or a.shape[0] == 0:
        raise ValueError(
            "need two (n, k, k) or (n, cells, k, k) stacks of the same images, "
            f"got {np.shape(confusions_a)}, {np.shape(confusions_b)}"
        )
    n, cells, k = a.shape[0], a.shape[1], a.shape[2]

    def score(summed: np.ndarray) -> np.ndarray:
        return _mean_over_cells(mdice_of_confusions(summed, background_id, foreground_only))

    def difference(summed_a: np.ndarray, summed_b: np.ndarray) -> np.ndarray:
        return score(summed_a) - score(summed_b)

    flat_a, flat_b = a.reshape(n, cells * k * k), b.reshape(n, cells * k * k)
    resampled = np.concatenate(
        [np.empty(0)]
        + [
            difference(
                (counts @ flat_a).reshape(-1, cells, k, k),
                (counts @ flat_b).reshape(-1, cells, k, k),
            )
            for counts in _resample_counts(np.random.default_rng(seed), n, samples)
        ]
    )
    low, high = _percentile_interval(resampled[~np.isnan(resampled)], confidence)
    return {
        "difference": _json_float(difference(a.sum(axis=0), b.sum(axis=0))),
        "ci_low": _json_float(low),
        "ci_high": _json_float(high),
        "confidence": confidence,
        "samples": int(samples),
        "images": int(n),
    }


def _as_cells(confusions: np.ndarray) -> np.ndarray:
    """float64 (n, cells, k, k): a (n, k, k) stack is one cell."""
    matrix = np.asarray(confusions, dtype=np.float64)
    return matrix[:, None] if matrix.ndim == 3 else matrix


def _mean_over_cells(scores: np.ndarray) -> np.ndarray:
    """The mean over the last axis of the defined (non-NaN) scores; NaN where none is."""
    defined = ~np.isnan(scores)
    count = defined.sum(axis=-1)
    total = np.where(defined, scores, 0.0).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _resample_counts(rng: np.random.Generator, n: int, samples: int) -> Iterator[np.ndarray]:
    """Chunks of (rows, n) float counts: how often each of n images is drawn in a resample."""
    chunk = max(1, _BOOTSTRAP_CELLS // n)
    for start in range(0, samples, chunk):
        counts = rng.multinomial(n, np.full(n, 1 / n), size=min(chunk, samples - start))
        yield counts.astype(np.float64)


def _percentile_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    """The (1 -+ confidence)/2 quantiles of values; NaN, NaN for no values."""
    if not values.size:
        return math.nan, math.nan
    low, high = np.quantile(values, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(low), float(high)


def verdict(comparison: Mapping[str, Any], a_name: str = "A", b_name: str = "B") -> str:
    """Words for a report on a ``paired_bootstrap`` result (difference = A - B).

    - interval above 0: "real: A is better (the 95% interval [+0.004, +0.012] excludes 0)";
    - interval below 0: "real: B is better (the 95% interval [-0.012, -0.004] excludes 0)";
    - otherwise: "not shown: the 95% interval [-0.004, +0.012] includes 0";
    - no interval: "not shown: the interval is undefined".
    Bounds are written with a sign and 3 decimals; the level comes from ``confidence``.
    """
    low, high = comparison.get("ci_low"), comparison.get("ci_high")
    if low is None or high is None:
        return "not shown: the interval is undefined"
    level = f"{100 * comparison.get('confidence', 0.95):g}%"
    interval = f"the {level} interval [{low:+.3f}, {high:+.3f}]"
    if low > 0:
        return f"real: {a_name} is better ({interval} excludes 0)"
    if high < 0:
        return f"real: {b_name} is better ({interval} excludes 0)"
    return f"not shown: {interval} includes 0"


def summarise_study(
    runs: Mapping[str, Mapping[str, Any]],
    plan: Mapping[str, Any],
    *,
    confidence: float = 0.95,
    samples: int = 10000,
    seed: int = 0,
    background_id: int = 0,
    robustness: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The ``study`` section of results.json from the runs' metrics and the study's plan.

    ``runs`` maps run name -> evaluation metrics; ``plan`` is {"hypotheses": {hypothesis:
    [run names]}, "ensembles": {name: {"members": [...], "weights": [...]}}}. Returns
    {"runs", "summary", "best", "best_selected_by", "confidence", "comparisons", "ensembles"}:
    the best entry (hypothesis or ensemble) has the highest mean validation mDice (ties: the
    first in the plan), and its test confusions, summed over its seeds and images, are
    compared (``paired_bootstrap``, mDice and fg_mDice) with every other entry's; so a
    comparison's ``difference`` is the pooled mDice's, not the seed means'.

    ``robustness`` (run name -> robustness.json) adds the shift benchmark's figures
    (``ROBUSTNESS_METRICS``) to the runs and summaries, and comparisons of the best with
    every other entry on the scale views' mean mDice and on mPC, images resampled alike.
    """
    entries = _plan_entries(plan)
    rows = _run_rows(runs, entries)
    metrics = _METRICS
    if robustness is not None:
        _add_robustness_rows(rows, robustness)
        # A split without shifted views (robustness.splits) has no figures to summarise.
        scored = [k for k in ROBUSTNESS_METRICS if all(r[k] is not None for r in rows.values())]
        metrics = (*_METRICS, *scored)
    summary = {
        entry: {
            "kind": "ensemble" if entry in plan.get("ensembles", {}) else "single",
            "runs": list(names),
            **{key: _interval_of(rows, names, key, confidence) for key in metrics},
        }
        for entry, names in entries.items()
    }
    best = max(entries, key=lambda entry: summary[entry]["val_mdice"]["mean"])
    options = {"samples": samples, "confidence": confidence, "seed": seed}
    options["background_id"] = background_id
    pooled = {entry: _pooled(runs, names) for entry, names in entries.items()}
    comparisons = [
        _comparison(pooled, best, other, metric, options)
        for other in entries
        if other != best
        for metric in ("test_mdice", "test_fg_mdice")
    ]
    if robustness is not None:
        comparisons += _robustness_comparisons(robustness, entries, pooled, best, options)
    ensembles = {
        name: _ensemble_section(name, spec, runs, rows, options)
        for name, spec in plan.get("ensembles", {}).items()
    }
    return {
        "runs": rows,
        "summary": summary,
        "best": best,
        "best_selected_by": "mean val mDice",
        "confidence": confidence,
        "comparisons": comparisons,
        "ensembles": ensembles,
    }


def _add_robustness_rows(
    rows: dict[str, dict[str, Any]], robustness: Mapping[str, Mapping[str, Any]]
) -> None:
    """Each run's shift figures (``ROBUSTNESS_METRICS``) in its row; a missing run is named."""
    missing = [name for name in rows if name not in robustness]
    if missing:
        raise ValueError(f"the plan's runs {missing} have no robustness scores")
    for name, row in rows.items():
        summaries = robustness[name].get("summary") or {}
        for key in ROBUSTNESS_METRICS:
            split, figure = key.split("_", 1)
            row[key] = (summaries.get(split) or {}).get(figure)


def _robustness_comparisons(
    robustness: Mapping[str, Mapping[str, Any]],
    entries: Mapping[str, list[str]],
    pooled: Mapping[str, tuple[list[str], np.ndarray]],
    best: str,
    options: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """The best against every other entry on each shift figure, test images resampled."""
    first = robustness[entries[best][0]]["views"]["test"]
    comparisons = []
    for metric, kind in ROBUSTNESS_COMPARISONS.items():
        names = view_names(first, kind)
        if not names:
            continue
        stacks = {
            entry: (pooled[entry][0], _pooled_views(robustness, runs, names, pooled[entry][0]))
            for entry, runs in entries.items()
        }
        comparisons += [
            {
                "best": best,
                "other": other,
                "metric": metric,
                **_paired(stacks[best], stacks[other], (best, other), False, options),
            }
            for other in entries
            if other != best
        ]
    return comparisons


def _pooled_views(
    robustness: Mapping[str, Mapping[str, Any]],
    runs: Sequence[str],
    names: Sequence[str],
    ids: Sequence[str],
) -> np.ndarray:
    """Per-image, per-view test confusions summed over ``runs`` (the seeds pooled)."""
    return sum(view_confusions(robustness[run]["views"]["test"], names, ids) for run in runs)


def _plan_entries(plan: Mapping[str, Any]) -> dict[str, list[str]]:
    """Entry (hypothesis or ensemble) -> its run names, hypotheses first, in the plan's order."""
    entries = {hypothesis: list(names) for hypothesis, names in plan.get("hypotheses", {}).items()}
    for name in plan.get("ensembles", {}):
        if name in entries:
            raise ValueError(f"ensemble {name!r} has the name of a hypothesis")
        entries[name] = [name]
    empty = [entry for entry, names in entries.items() if not names]
    if not entries or empty:
        raise ValueError(f"the study plan has no runs for {empty or 'any entry'}")
    return entries


def _run_rows(
    runs: Mapping[str, Mapping[str, Any]], entries: Mapping[str, list[str]]
) -> dict[str, dict[str, Any]]:
    """The ``runs`` section: a line per run of the plan; a run without metrics is an error."""
    names = [name for members in entries.values() for name in members]
    missing = [name for name in names if name not in runs]
    if missing:
        raise ValueError(f"the plan's runs {missing} have no metrics")
    return {name: _run_row(name, runs[name], entries) for name in names}


def _run_row(
    name: str, metrics: Mapping[str, Any], entries: Mapping[str, list[str]]
) -> dict[str, Any]:
    """One run's line in ``runs``: hypothesis, seed (None for an ensemble), scores, epochs."""
    hypothesis = next(entry for entry, names in entries.items() if name in names)
    seed = None
    if name != hypothesis:
        match = _RUN_NAME.match(name)
        if match is None or match["hypothesis"] != hypothesis:
            raise ValueError(f"run {name!r} of {hypothesis!r} is not named {hypothesis}.seed_<int>")
        seed = int(match["seed"])
    row: dict[str, Any] = {"hypothesis": hypothesis, "seed": seed}
    for key in _METRICS:
        split, score = key.split("_", 1)
        row[key] = (metrics.get(split) or {}).get(score)
    row["epochs_run"] = (metrics.get("model") or {}).get("epochs_run")
    return row


def _interval_of(
    rows: Mapping[str, Mapping[str, Any]], names: Sequence[str], key: str, confidence: float
) -> dict[str, Any]:
    """seed_interval of ``key`` over the runs ``names``; a missing score names its run."""
    undefined = [name for name in names if rows[name][key] is None]
    if undefined:
        raise ValueError(f"runs {undefined} have no {key}")
    return seed_interval([rows[name][key] for name in names], confidence)


def _pooled(runs: Mapping[str, Mapping[str, Any]], names: Sequence[str]) -> tuple[list, Any]:
    return pooled_image_confusions([runs[name] for name in names], "test", names=names)


def _paired(
    first: tuple[list[str], np.ndarray],
    second: tuple[list[str], np.ndarray],
    labels: tuple[str, str],
    foreground_only: bool,
    options: Mapping[str, Any],
) -> dict[str, Any]:
    """paired_bootstrap of two pooled (ids, confusions), second aligned to first's ids."""
    (ids, a), (other_ids, b) = first, second
    if sorted(ids) != sorted(other_ids) or a.shape != b.shape:
        raise ValueError(f"{labels[0]} and {labels[1]} scored different test images")
    position = {image_id: index for index, image_id in enumerate(other_ids)}
    b = b[[position[image_id] for image_id in ids]]
    result = paired_bootstrap(a, b, foreground_only=foreground_only, **options)
    return {**result, "verdict": verdict(result, *labels)}


def _comparison(
    pooled: Mapping[str, tuple[list[str], np.ndarray]],
    best: str,
    other: str,
    metric: str,
    options: Mapping[str, Any],
) -> dict[str, Any]:
    """One entry of ``comparisons``: best - other on the pooled test images."""
    foreground_only = metric == "test_fg_mdice"
    paired = _paired(pooled[best], pooled[other], (best, other), foreground_only, options)
    return {"best": best, "other": other, "metric": metric, **paired}


def _ensemble_section(
    name: str,
    spec: Mapping[str, Any],
    runs: Mapping[str, Mapping[str, Any]],
    rows: Mapping[str, Mapping[str, Any]],
    options: Mapping[str, Any],
) -> dict[str, Any]:
    """An ensemble's members, their test mDice, and the ensemble against its best member."""
    members = list(spec.get("members", []))
    missing = [member for member in members if member not in runs]
    if not members or missing:
        raise ValueError(f"ensemble {name!r}: members {missing or members} have no metrics")

    def val_mdice(member: str) -> float:
        value = (runs[member].get("val") or {}).get("mdice")
        return -math.inf if value is None else value

    best_member = max(members, key=val_mdice)
    against = _paired(
        _pooled(runs, [name]), _pooled(runs, [best_member]), (name, best_member), False, options
    )
    return {
        "members": members,
        "weights": list(spec["weights"]) if spec.get("weights") is not None else None,
        "test_mdice": rows[name]["test_mdice"],
        "members_test_mdice": {
            member: (runs[member].get("test") or {}).get("mdice") for member in members
        },
        "best_member": best_member,
        "against_best_member": {"ensemble": name, "member": best_member, "metric": "test_mdice"}
        | against,
    }


def _json_float(value: float) -> float | None:
    return None if math.isnan(value) else float(value)
