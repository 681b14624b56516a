"""The study section of report.md: every hypothesis over seeds, the ensembles and the paired
comparisons, from the ``"study"`` entry of results.json (written by the study pipeline).

A run is one hypothesis trained with one seed; a summary gives each hypothesis (or ensemble)
the mean and confidence interval of its runs; a comparison is a paired bootstrap over test
images of the best against another, seeds pooled.
"""

from __future__ import annotations

from typing import Any

from multiclass_segmentation.report.format import (
    estimate,
    label,
    level,
    mean_interval,
    score,
    signed,
)

# The figure of the section, saved by the reporting pipeline as `<name>_figure`.
STUDY_SEEDS_FIGURE = "study_seeds"
# The hypothesis of conf/base: the conclusion says whether the study's best beats it.
DEFAULT_HYPOTHESIS = "base"
METRIC_LABELS = {
    "val_mdice": "val mDice",
    "val_fg_mdice": "val fg mDice",
    "test_mdice": "test mDice",
    "test_fg_mdice": "test fg mDice",
    "val_scale_mdice": "val scale-view mDice",
    "val_mpc": "val mPC",
    "test_scale_mdice": "test scale-view mDice",
    "test_mpc": "test mPC",
    "test_rpc": "test rPC",
}
# The summary table's score columns, in order; the shift benchmark's when the study has them.
TABLE_METRICS = ("val_mdice", "test_mdice", "test_fg_mdice")
SHIFT_METRICS = ("val_scale_mdice", "val_mpc", "test_scale_mdice", "test_mpc", "test_rpc")


def metric_label(metric: str) -> str:
    """'test_fg_mdice' -> 'test fg mDice'."""
    return METRIC_LABELS.get(metric, label(metric))


def is_real(comparison: dict) -> bool:
    """Whether a paired difference's interval excludes 0 (False without an interval)."""
    low, high = comparison.get("ci_low"), comparison.get("ci_high")
    return low is not None and high is not None and (low > 0 or high < 0)


def listing(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def plural(count: int, one: str, many: str) -> str:
    """'1 seed', '2 seeds'."""
    return f"{count} {one if count == 1 else many}"


def kinds(study: dict) -> tuple[list[str], list[str]]:
    """The study's hypotheses and its ensembles, in the summary's order."""
    summary = study.get("summary", {})
    ensembles = [name for name, s in summary.items() if s.get("kind") == "ensemble"]
    return [name for name in summary if name not in ensembles], ensembles


def seeds_of(study: dict, hypothesis: str) -> list[int]:
    """The seeds of one hypothesis's runs, in increasing order."""
    runs = study.get("runs", {})
    seeds = {runs.get(run, {}).get("seed") for run in study["summary"][hypothesis].get("runs", [])}
    return sorted(seed for seed in seeds if seed is not None)


def intro(study: dict) -> str:
    """Which hypotheses over which seeds, which ensembles; how the best is chosen; what
    intervals mean."""
    hypotheses, ensembles = kinds(study)
    trained = "; ".join(
        f"{name} over {plural(len(seeds), 'seed', 'seeds')} ({', '.join(map(str, seeds))})"
        for name, seeds in ((name, seeds_of(study, name)) for name in hypotheses)
    )
    built = (
        f"built {plural(len(ensembles), 'ensemble', 'ensembles')} ({', '.join(ensembles)})"
        if ensembles
        else "built no ensemble"
    )
    return (
        f"The study trained {plural(len(hypotheses), 'hypothesis', 'hypotheses')} "
        f"({trained}) and {built}; the best, **{study.get('best')}**, is "
        f"chosen by {study.get('best_selected_by') or 'mean val mDice'} (never by test), "
        f"intervals are {level(study.get('confidence', 0.95))} confidence intervals, and one "
        "run is one draw: a single seed's score can be luck, so read the means and intervals."
    )


def summary_table(study: dict, digits: int) -> dict[str, list]:
    """One row per hypothesis and ensemble: kind, runs, and mean [CI] of each table metric."""
    confidence = level(study.get("confidence", 0.95))
    best = study.get("best")
    first = next(iter(study.get("summary", {}).values()), {})
    metrics = [*TABLE_METRICS, *(m for m in SHIFT_METRICS if m in first)]
    return {
        "header": [
            "hypothesis",
            "kind",
            "runs",
            *(f"{metric_label(m)} mean [{confidence} CI]" for m in metrics),
        ],
        "rows": [
            [
                name + (" (best)" if name == best else ""),
                summary.get("kind", "-"),
                len(summary.get("runs", [])),
                *(mean_interval(summary.get(m), digits) for m in metrics),
            ]
            for name, summary in study.get("summary", {}).items()
        ],
    }


def comparison_rows(study: dict, digits: int) -> list[list[Any]]:
    """best | other | metric | difference [CI] | real or noise, one row per comparison; the
    sentence after the table says it in words."""
    return [
        [
            c["best"],
            c["other"],
            metric_label(c["metric"]),
            estimate(c.get("difference"), c.get("ci_low"), c.get("ci_high"), digits, sign=True),
            "real" if is_real(c) else "may be noise",
        ]
        for c in study.get("comparisons", [])
    ]


def comparison_note(study: dict) -> str:
    """What a difference is and over what it is resampled."""
    first = (study.get("comparisons") or [{}])[0]
    return (
        f"Each difference is the best minus the other on the same {first.get('images', '?')} "
        f"test images, with the runs of each seed pooled; its interval comes from "
        f"{first.get('samples', '?')} bootstrap resamples of those images."
    )


def _described(comparison: dict, digits: int) -> str:
    difference = comparison.get("difference") or 0.0
    direction = "above" if difference > 0 else "below" if difference < 0 else "level with"
    return (
        f"{comparison['best']} {direction} {comparison['other']} on "
        f"{metric_label(comparison['metric'])} ({signed(difference, 0.0, digits)})"
    )


def comparison_sentence(study: dict, digits: int) -> str:
    """Which differences are real (their interval excludes 0) and which are not, in words."""
    comparisons = study.get("comparisons", [])
    if not comparisons:
        return "No paired comparison was made."
    confidence = level(study.get("confidence", 0.95))
    real = [_described(c, digits) for c in comparisons if is_real(c)]
    noise = [_described(c, digits) for c in comparisons if not is_real(c)]
    return (
        f"Real (the {confidence} interval excludes 0): {listing(real) if real else 'none'}; "
        "not shown to be real (the interval includes 0, so the difference may be noise): "
        f"{listing(noise) if noise else 'none'}."
    )


def ensemble_summary(name: str, ensemble: dict, digits: int) -> dict[str, Any]:
    """An ensemble's members, its test mDice against each member's, and its paired comparison
    with its best member by validation."""
    members, weights = ensemble.get("members", []), ensemble.get("weights")
    weighting = (
        "equal weights"
        if not weights or len(set(weights)) == 1
        else "weights " + ", ".join(f"{w:g}" for w in weights)
    )
    best_member, test = ensemble.get("best_member"), ensemble.get("test_mdice")
    return {
        "intro": (
            f"**{name}** averages the softmax of {plural(len(members), 'run', 'runs')} "
            f"({', '.join(members)}) with {weighting}."
        ),
        "header": ["run", "test mDice", f"{name} minus run"],
        "rows": [
            [f"{name} (ensemble)", score(test, digits), "-"],
            *(
                [
                    member + (" (best member by validation)" if member == best_member else ""),
                    score(value, digits),
                    signed(test, value, digits),
                ]
                for member, value in ensemble.get("members_test_mdice", {}).items()
            ),
        ],
        "against": _against_best_member(
            name, best_member, ensemble.get("against_best_member"), digits
        ),
    }


def _against_best_member(
    name: str, best_member: str | None, against: dict | None, digits: int
) -> str:
    """The ensemble minus its best member by validation, paired on the test images."""
    if not against:
        return f"{name} was not compared with its best member on paired test images."
    difference = estimate(
        against.get("difference"), against.get("ci_low"), against.get("ci_high"), digits, True
    )
    return (
        f"Paired with its best member by validation, {best_member}, on "
        f"{against.get('images', '?')} test images ({against.get('samples', '?')} bootstrap "
        f"resamples): {name} minus {best_member} is {difference} test mDice; "
        f"{str(against.get('verdict', 'no verdict')).rstrip('.')}."
    )


def ensembles(study: dict, digits: int) -> list[dict[str, Any]]:
    return [
        ensemble_summary(name, ensemble, digits)
        for name, ensemble in study.get("ensembles", {}).items()
    ]


def section(study: dict | None, digits: int) -> dict[str, Any] | None:
    """What the study section shows; None without a study (the section is left out)."""
    if not study:
        return None
    return {
        "intro": intro(study),
        "table": summary_table(study, digits),
        "figure": STUDY_SEEDS_FIGURE,
        "comparison_note": comparison_note(study),
        "comparisons": comparison_rows(study, digits),
        "comparison_sentence": comparison_sentence(study, digits),
        "ensembles": ensembles(study, digits),
    }


def against_default(study: dict, digits: int) -> str:
    """Whether the best's test mDice difference from the default hypothesis is real."""
    best = study.get("best")
    if best == DEFAULT_HYPOTHESIS:
        return f"it is the default hypothesis, {DEFAULT_HYPOTHESIS}, itself"
    comparison = next(
        (
            c
            for c in study.get("comparisons", [])
            if c["best"] == best
            and c["other"] == DEFAULT_HYPOTHESIS
            and c["metric"] == "test_mdice"
        ),
        None,
    )
    if comparison is None:
        return f"it was not compared with the default {DEFAULT_HYPOTHESIS} on test mDice"
    difference = estimate(
        comparison.get("difference"),
        comparison.get("ci_low"),
        comparison.get("ci_high"),
        digits,
        sign=True,
    )
    verdict = (
        "is real (the interval excludes 0)"
        if is_real(comparison)
        else "is not shown to be real (the interval includes 0)"
    )
    return (
        f"its test mDice difference from the default {DEFAULT_HYPOTHESIS}, {difference}, {verdict}"
    )


def conclusion_bullet(study: dict, digits: int) -> str:
    """The study's best, its test mDice mean and interval, and whether it beats the default."""
    best = study.get("best")
    statistics = study.get("summary", {}).get(best, {}).get("test_mdice") or {}
    n = statistics.get("n") or 0
    test = (
        f"{mean_interval(statistics, digits)} (mean [{level(study.get('confidence', 0.95))} "
        f"CI] over {n} runs)"
        if n > 1
        else f"{score(statistics.get('mean'), digits)} (a single run, so no interval)"
    )
    return (
        f"Over seeds, the study's best is {best} (by "
        f"{study.get('best_selected_by') or 'mean val mDice'}), with a test mDice of {test}; "
        f"{against_default(study, digits)}."
    )
