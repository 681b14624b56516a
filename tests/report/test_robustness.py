"""The robustness section of report.md from results.json's robustness entries."""

from __future__ import annotations

from multiclass_segmentation.report import robustness


def summary(clean: float, closeup: float, zoomout: float, noise: list[float]) -> dict:
    views = {
        "closeup_40": {"family": "scale", "level": 0.4, "mdice": closeup},
        "zoomout_50": {"family": "scale", "level": 0.5, "mdice": zoomout},
    }
    return {
        "clean_mdice": clean,
        "scale_mdice": (closeup + zoomout) / 2,
        "mpc": sum(noise) / len(noise),
        "rpc": sum(noise) / len(noise) / clean,
        "family_mdice": {
            "noise": {
                "mean": sum(noise) / len(noise),
                "by_severity": {str(i + 1): v for i, v in enumerate(noise)},
            }
        },
        "views": views,
    }


ENTRIES = {
    "base": {
        "robustness": {
            "summary": {
                "test": summary(0.8, 0.6, 0.5, [0.7, 0.5]),
                "val": summary(0.7, 0.5, 0.4, [0.6, 0.4]),
            },
            "external": {"pets": {"mdice": 0.76}},
        }
    },
    "unscored": {},
}


def test_the_overview_has_a_row_per_hypothesis_with_robustness():
    table = robustness.overview_table(ENTRIES, ["unscored", "base"], 3)

    assert table["header"][:5] == [
        "hypothesis",
        "test P (clean)",
        "test zoomout 50%",
        "test closeup 40%",
        "test scale-view mDice",
    ]
    assert table["header"][-1] == "pets mDice"
    assert table["rows"] == [
        ["base", "0.800", "0.500", "0.600", "0.550", "0.600", "0.750", "0.450", "0.500", "0.760"]
    ]


def test_the_family_table_and_the_weakest_sentence():
    base = ENTRIES["base"]["robustness"]
    assert robustness.family_table(base, 2) == {
        "header": ["family", "severity 1", "severity 2", "mean"],
        "rows": [["noise", "0.70", "0.50", "0.60"]],
    }
    assert robustness.weakest_sentence(ENTRIES, "base", 2) == (
        "The best model, base, scores 0.80 on the clean test split; its weakest scale view "
        "is zoomout 50% (0.50) and its weakest corruption family is noise (0.60)."
    )


def test_without_robustness_there_is_no_section():
    assert robustness.section({"base": {}}, ["base"], "base", 3) is None
    assert robustness.section(ENTRIES, ["base"], "base", 3)["hypotheses"] == ["base"]


def test_without_shifted_val_the_overview_has_no_val_columns():
    test_only = {"base": {"robustness": {**ENTRIES["base"]["robustness"]}}}
    test_only["base"]["robustness"]["summary"] = {
        "test": ENTRIES["base"]["robustness"]["summary"]["test"]
    }
    table = robustness.overview_table(test_only, ["base"], 3)

    assert not any(column.startswith("val ") for column in table["header"])
    assert len(table["rows"][0]) == len(table["header"]) == 8
