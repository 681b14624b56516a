"""The sentences of the study report whose wording depends on the results: the target
sentence, the confusion sentence and the conclusion's bullets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from multiclass_segmentation.config.common import ClassesParams
from multiclass_segmentation.config.results import HypothesisEntry
from multiclass_segmentation.report import study_seeds
from multiclass_segmentation.report.format import bucket, percent, score, signed, upper_first

if TYPE_CHECKING:
    from multiclass_segmentation.report.study import Study

NOT_EVALUATED = (
    "No hypothesis has been evaluated yet: train and evaluate one with `kedro run` (the "
    "default hypothesis) or `kedro run --env <hypothesis>`, which also rebuild this report."
)


def target_sentence(study: Study, target: float, digits: int) -> str:
    """Whether the best model's test mDice is above the target, stated plainly."""
    if study.best is None:
        return (
            f"The target (test mDice > {target:g}) is **not reached yet**: no model is evaluated."
        )
    best = study.best
    test = study.results.hypotheses[best].test_mdice
    if test is None:
        return f"The target (test mDice > {target:g}) is **not reached**: {best} has no test mDice."
    if test > target:
        return (
            f"The target (test mDice > {target:g}) is **reached**: {best} scores "
            f"{score(test, digits)}, {score(test - target, digits)} above it."
        )
    return (
        f"The target (test mDice > {target:g}) is **not reached**: {best} scores "
        f"{score(test, digits)}, {score(target - test, digits)} short of it."
    )


def confusion_pairs(matrix: list[list[float]], classes: ClassesParams) -> str:
    """'20.0% of cat pixels are predicted as background; ...', one pair per foreground class
    and other class."""
    pairs = [
        f"{percent(matrix[truth][predicted])} of {classes.name_of(truth)} pixels are predicted "
        f"as {classes.name_of(predicted)}"
        for truth in classes.foreground_ids
        for predicted in classes.ids
        if predicted != truth
    ]
    return upper_first("; ".join(pairs)) + "."


def bullets(study: Study, classes: ClassesParams, target: float, digits: int) -> list[str]:
    """The conclusion: the data, then (once a model is evaluated) the models, then the study
    over seeds where results.json has one."""
    data = [_validation_bullet(study.validation), _eda_bullet(study.eda, classes, digits)]
    seeds = study.results.study
    over_seeds = [study_seeds.conclusion_bullet(seeds, digits)] if seeds else []
    if study.best is None:
        return [*data, NOT_EVALUATED, target_sentence(study, target, digits), *over_seeds]
    best = study.best
    test = study.metrics.get(best, {}).get("test", {})
    return [
        *data,
        *_model_bullets(study, target, digits),
        *_confusion_conclusion(best, test, classes),
        *_size_conclusion(best, test, digits),
        *_convergence_conclusion(best, study.metrics.get(best, {}).get("model", {})),
        *over_seeds,
    ]


def _validation_bullet(report: dict) -> str:
    verdict = "passed" if report["passed"] else "failed"
    return (
        f"Data validation {verdict} with {report['errors']} error(s) and "
        f"{report['warnings']} warning(s); validated pairs: "
        + ", ".join(
            f"{s.get('validated_pairs', '?')} {split}" for split, s in report["summary"].items()
        )
        + "."
    )


def _eda_bullet(eda: dict, classes: ClassesParams, digits: int) -> str:
    split, statistics = next(iter(eda["splits"].items()))
    if "train" in eda["splits"]:
        split, statistics = "train", eda["splits"]["train"]
    shares = {name: value["share"] for name, value in statistics["class_pixels"].items()}
    background = classes.name_of(classes.background_id)
    foreground = [classes.name_of(i) for i in classes.foreground_ids]
    rarest = min(foreground, key=lambda name: shares.get(name, 0.0))
    weights = eda["class_weights"]
    return (
        f"{upper_first(background)} covers {percent(shares.get(background, 0.0))} of the "
        f"labelled {split} pixels and the rarest class, {rarest}, "
        f"{percent(shares.get(rarest, 0.0))}; the EDA suggests {weights['recommended']} "
        "class weights "
        + ", ".join(
            f"{name} {score(w, digits)}"
            for name, w in zip(weights["class_names"], weights["weights"], strict=True)
        )
        + "."
    )


def _model_bullets(study: Study, target: float, digits: int) -> list[str]:
    """The ranking, the target, a better model on test, the runner-up, the weakest class."""
    entries, ranked, best = study.results.hypotheses, study.ranked, study.best
    entry = entries[best]
    lines = [
        f"{len(ranked)} hypothesis(es) evaluated, ranked by validation mDice: "
        + ", ".join(f"{h} ({score(entries[h].val_mdice, digits)})" for h in ranked)
        + ".",
        target_sentence(study, target, digits),
    ]
    best_on_test = max(ranked, key=lambda h: entries[h].test_mdice or -1.0)
    if (entries[best_on_test].test_mdice or -1.0) > (entry.test_mdice or -1.0):
        lines.append(
            f"On test, {best_on_test} scores higher "
            f"({score(entries[best_on_test].test_mdice, digits)}), but the model is chosen "
            "by validation mDice, never by test: picking by test would make the test score "
            "optimistic."
        )
    runner_up = next((h for h in ranked if h != best), None)
    if runner_up is not None:
        other = entries[runner_up]
        lines.append(
            f"{best} differs from the runner-up {runner_up} by "
            f"{signed(entry.val_mdice, other.val_mdice, digits)} "
            "validation mDice and by "
            f"{signed(entry.test_mdice, other.test_mdice, digits)} test mDice."
        )
    return lines + _class_conclusion(best, entry, digits)


def _class_conclusion(best: str, entry: HypothesisEntry, digits: int) -> list[str]:
    test_dice = {name: d for name, d in entry.test_dice.items() if d is not None}
    if not test_dice:
        return []
    weakest = min(test_dice, key=test_dice.get)
    strongest = max(test_dice, key=test_dice.get)
    return [
        f"For {best}, the weakest class is {weakest} (test Dice "
        f"{score(test_dice[weakest], digits)}) and the strongest {strongest} "
        f"({score(test_dice[strongest], digits)}); test minus validation mDice is "
        f"{signed(entry.test_mdice, entry.val_mdice, digits)}."
    ]


def _confusion_conclusion(hypothesis: str, test: dict, classes: ClassesParams) -> list[str]:
    matrix = test.get("confusion_normalized")
    foreground = classes.foreground_ids
    if not matrix or not foreground:
        return []
    background = classes.background_id
    missed = max(foreground, key=lambda c: matrix[c][background])
    sentences = [
        f"{hypothesis} misses {percent(matrix[missed][background])} of the "
        f"{classes.name_of(missed)} pixels as {classes.name_of(background)}, the most "
        "of any class"
    ]
    if len(foreground) > 1:
        truth, predicted = max(
            ((t, p) for t in foreground for p in foreground if t != p),
            key=lambda pair: matrix[pair[0]][pair[1]],
        )
        sentences.append(
            f"the largest confusion between foreground classes is "
            f"{percent(matrix[truth][predicted])} of {classes.name_of(truth)} pixels predicted "
            f"as {classes.name_of(predicted)} (and {percent(matrix[predicted][truth])} the "
            "other way)"
        )
    return ["; ".join(sentences) + "."]


def _size_conclusion(hypothesis: str, test: dict, digits: int) -> list[str]:
    sentences = []
    for name, buckets in test.get("recall_by_object_size", {}).items():
        filled = [b for b in buckets if b["objects"] and b["mean_recall"] is not None]
        if len(filled) < 2:
            continue
        smallest, largest = filled[0], filled[-1]
        change = largest["mean_recall"] - smallest["mean_recall"]
        trend = "rises" if change > 0 else "falls" if change < 0 else "stays"
        sentences.append(
            f"{name} object recall {trend} from {score(smallest['mean_recall'], digits)} "
            f"({bucket(smallest)} of the image) to {score(largest['mean_recall'], digits)} "
            f"({bucket(largest)})"
        )
    if not sentences:
        return []
    return [f"For {hypothesis}, " + "; ".join(sentences) + "."]


def _convergence_conclusion(best: str, model_info: dict) -> list[str]:
    best_epoch, epochs_run = model_info.get("best_epoch"), model_info.get("epochs_run")
    if best_epoch is None or not epochs_run:
        return []
    if best_epoch == epochs_run:
        return [
            f"{best}'s validation mDice was highest in its last epoch ({best_epoch} of "
            f"{epochs_run}): it may not have converged, so more epochs could still help."
        ]
    return [f"{best}'s validation mDice peaked at epoch {best_epoch} of {epochs_run}."]
