"""The robustness section of report.md: each hypothesis's scores outside its test split, from
the ``robustness`` of its entry in results.json (written by the robustness pipeline).

P is the clean test mDice, the scale views are close-ups (the largest object filling a
share of the frame) and zoom-outs, mPC the mean mDice over corruption families and
severities, rPC = mPC / P (mmdetection's robustness report).
"""

from __future__ import annotations

from typing import Any

from multiclass_segmentation.report.format import score

# The hypothesis figures of the robustness pipeline, saved as `<prefix>_<hypothesis>.png`.
FIGURES = {
    "robustness_curves": "Dice against severity per corruption family, and per scale view",
    "shift_examples": "Test images that lose the most Dice under a shift",
}
SPLIT = "test"


def _views(summary: dict, prefix: str) -> list[str]:
    """The scale views named ``prefix``_<level>, by level."""
    views = summary.get("views", {})
    return sorted((n for n in views if n.startswith(prefix)), key=lambda n: views[n]["level"])


def _view_header(name: str) -> str:
    kind, level = name.split("_", 1)
    return f"{kind} {level}%"


def overview_table(entries: dict[str, dict], ranked: list[str], digits: int) -> dict[str, list]:
    """One row per hypothesis with robustness: P, each scale view, their mean, mPC and rPC on
    test, the same means on val, and each external set's mDice."""
    scored = [h for h in ranked if entries[h].get("robustness")]
    if not scored:
        return {"header": [], "rows": []}
    first = entries[scored[0]]["robustness"]
    test = first["summary"].get(SPLIT, {})
    scale_views = [*_views(test, "zoomout"), *_views(test, "closeup")]
    externals = list(first.get("external", {}))
    with_val = "val" in first["summary"]
    header = [
        "hypothesis",
        "test P (clean)",
        *(f"test {_view_header(v)}" for v in scale_views),
        "test scale-view mDice",
        "test mPC",
        "test rPC",
        *(["val scale-view mDice", "val mPC"] if with_val else []),
        *(f"{name} mDice" for name in externals),
    ]
    rows = [
        _overview_row(h, entries[h]["robustness"], scale_views, externals, digits, with_val)
        for h in scored
    ]
    return {"header": header, "rows": rows}


def _overview_row(
    hypothesis: str,
    robustness: dict,
    scale_views: list[str],
    externals: list[str],
    digits: int,
    with_val: bool,
) -> list[str]:
    test = robustness["summary"].get(SPLIT, {})
    val = robustness["summary"].get("val", {})
    views = test.get("views", {})
    return [
        hypothesis,
        score(test.get("clean_mdice"), digits),
        *(score((views.get(v) or {}).get("mdice"), digits) for v in scale_views),
        score(test.get("scale_mdice"), digits),
        score(test.get("mpc"), digits),
        score(test.get("rpc"), digits),
        *(
            [score(val.get("scale_mdice"), digits), score(val.get("mpc"), digits)]
            if with_val
            else []
        ),
        *(score(robustness["external"].get(name, {}).get("mdice"), digits) for name in externals),
    ]


def family_table(robustness: dict, digits: int) -> dict[str, list]:
    """Test mDice of each corruption family at each severity, and its mean."""
    families = robustness["summary"].get(SPLIT, {}).get("family_mdice", {})
    levels = sorted({level for f in families.values() for level in f["by_severity"]}, key=int)
    return {
        "header": ["family", *(f"severity {level}" for level in levels), "mean"],
        "rows": [
            [
                family,
                *(score(f["by_severity"].get(level), digits) for level in levels),
                score(f["mean"], digits),
            ]
            for family, f in families.items()
        ],
    }


def weakest_sentence(entries: dict[str, dict], best: str | None, digits: int) -> str:
    """Where the best model loses most: its lowest scale view and its weakest family."""
    robustness = (entries.get(best) or {}).get("robustness") if best else None
    if not robustness:
        return ""
    test = robustness["summary"].get(SPLIT, {})
    views = {n: v for n, v in test.get("views", {}).items() if v["family"] == "scale"}
    families = test.get("family_mdice", {})
    parts = []
    if views:
        view = min(views, key=lambda n: views[n]["mdice"] or 0.0)
        view_score = score(views[view]["mdice"], digits)
        parts.append(f"its weakest scale view is {_view_header(view)} ({view_score})")
    if families:
        family = min(families, key=lambda f: families[f]["mean"] or 0.0)
        family_score = score(families[family]["mean"], digits)
        parts.append(f"its weakest corruption family is {family} ({family_score})")
    clean = score(test.get("clean_mdice"), digits)
    return (
        f"The best model, {best}, scores {clean} on the clean test split; "
        + " and ".join(parts)
        + "."
    )


def section(
    entries: dict[str, dict], ranked: list[str], best: str | None, digits: int
) -> dict[str, Any] | None:
    """What the robustness section shows; None when no hypothesis has robustness scores."""
    overview = overview_table(entries, ranked, digits)
    if not overview["rows"]:
        return None
    scored = [h for h in ranked if entries[h].get("robustness")]
    families = {h: family_table(entries[h]["robustness"], digits) for h in scored}
    first = families[scored[0]]
    return {
        "overview": overview,
        "family_count": len(first["rows"]),
        "severity_count": max(len(first["header"]) - 2, 0),
        "families": families,
        "hypotheses": scored,
        "figures": FIGURES,
        "weakest": weakest_sentence(entries, best, digits),
    }
