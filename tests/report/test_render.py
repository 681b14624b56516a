"""The reports' renderer and filters, with expected text worked out by hand."""

from __future__ import annotations

import subprocess
import sys
from importlib import resources

import jinja2
import pytest

from multiclass_segmentation.report import format as fmt
from multiclass_segmentation.report.data_validation import data_validation_markdown
from multiclass_segmentation.report.render import environment, render
from multiclass_segmentation.report.sweep import sweep_markdown

TEMPLATES = {
    "_best_against_base.md.j2",
    "_objects_per_image.md.j2",
    "data_validation.md.j2",
    "eda.md.j2",
    "study_report.md.j2",
    "sweep.md.j2",
}


def test_scores_percentages_and_differences_have_the_digits_asked_and_a_dash_when_missing():
    assert fmt.score(0.12345, 3) == "0.123"
    assert fmt.score(0.5, 1) == "0.5"
    assert fmt.score(None, 3) == "-"
    assert fmt.percent(0.1234) == "12.3%"
    assert fmt.percent(0.1234, 2) == "12.34%"
    assert fmt.percent(None) == "-"
    assert fmt.signed(0.8, 0.75, 2) == "+0.05"
    assert fmt.signed(0.7, 0.75, 3) == "-0.050"
    assert fmt.signed(0.75, 0.75, 1) == "+0.0"
    assert fmt.signed(None, 0.75, 3) == fmt.signed(0.75, None, 3) == "-"


def test_triples_buckets_and_assignments():
    assert fmt.triple([0.5, 0.25, 1], 2) == "0.50, 0.25, 1.00"
    assert fmt.bucket({"min_share": 0.02, "max_share": 0.08}) == "2%-8%"
    assert fmt.short(0.000123456) == "0.0001235"
    assert fmt.short(3) == "3"
    assert fmt.assignments({"lr": 0.001, "n": 2}) == "lr=0.001, n=2"
    assert fmt.assignments({"lr": 0.001}, code=True) == "`lr=0.001`"
    assert fmt.pairs({"256x256": 3, "64x64": 1}) == "256x256: 3, 64x64: 1"
    assert fmt.lookup("a", {"a": 1}) == 1
    assert fmt.lookup("b", {"a": 1}, "-") == "-"
    with pytest.raises(KeyError):
        fmt.lookup("b", {"a": 1})


def test_a_table_escapes_the_pipes_in_its_cells():
    assert fmt.table([[1, "a|b"], [None, 0.5]], ["x", "y"]) == (
        "| x | y |\n|---|---|\n| 1 | a\\|b |\n| None | 0.5 |"
    )
    assert fmt.table_header(["x"]) == "| x |\n|---|"


def test_block_tags_on_their_own_line_leave_no_line_and_the_last_newline_stays():
    template = environment().from_string(
        "{% for x in xs %}\n- {{ x | score(1) }}\n{% endfor %}\n\n{{ ['a', 1] | row }}\n"
    )
    assert template.render(xs=[1, None]) == "- 1.0\n- -\n\n| a | 1 |\n"


def test_a_missing_variable_is_an_error_not_an_empty_string():
    with pytest.raises(jinja2.UndefinedError):
        environment().from_string("{{ missing }}").render()
    with pytest.raises(jinja2.UndefinedError):
        render("sweep.md.j2", summary={}, figures={})


def test_every_template_ships_with_the_package():
    assert set(environment().list_templates()) >= TEMPLATES
    folder = resources.files("multiclass_segmentation.report") / "templates"
    assert {entry.name for entry in folder.iterdir()} >= TEMPLATES


def test_the_data_validation_report_lists_each_check_once_with_its_files():
    summary = {
        "images": 2,
        "masks": 1,
        "images_without_masks": 1,
        "masks_without_images": 0,
        "complete_pairs": 1,
        "validated_pairs": 1,
        "masks_background_only": 0,
        "masks_one_class": 1,
        "masks_several_classes": 0,
        "masks_with_class": {"cat": 1},
    }
    report = {
        "dataset_root": "data/x",
        "passed": False,
        "errors": 2,
        "warnings": 0,
        "summary": {"train": summary},
        "findings": [
            {"severity": "error", "check": "c", "files": ["a", "b"], "message": "M1."},
            {"severity": "error", "check": "c", "files": ["d"], "message": "M2."},
        ],
    }
    assert data_validation_markdown(report, files_listed=2) == (
        "# Data validation\n"
        "\n"
        "Dataset `data/x`: **failed** with 2 error(s) and 0 warning(s).\n"
        "\n"
        "## Files per split\n"
        "\n"
        "| split | images | masks | images without masks | masks without images"
        " | complete pairs | validated pairs |\n"
        "|---|---|---|---|---|---|---|\n"
        "| train | 2 | 1 | 1 | 0 | 1 | 1 |\n"
        "\n"
        "## Classes in the validated masks\n"
        "\n"
        "| split | masks background only | masks one class | masks several classes | cat |\n"
        "|---|---|---|---|---|\n"
        "| train | 0 | 1 | 0 | 1 |\n"
        "\n"
        "## Errors\n"
        "\n"
        "- **c**: 2 finding(s), 3 file(s): a, b and 1 more. First: M1.\n"
    )


def _trial(number: int, state: str, value: float | None, base: bool = False) -> dict:
    return {
        "number": number,
        "state": state,
        "params": {"lr": 0.00123456, "depth": 3},
        "value": value,
        "epochs_run": 2,
        "seconds": 1.5,
        "worker": "h:1",
        "base": base,
    }


def test_the_sweep_report_puts_the_best_trial_against_the_base():
    base, best = _trial(0, "COMPLETE", 0.5, base=True), _trial(1, "COMPLETE", 0.625)
    summary = {
        "study_name": "s",
        "storage": "sqlite:///s.db",
        "objective": "val_mdice",
        "trial_overrides": {"epochs": 2},
        "states": {"COMPLETE": 2},
        "trials": [base, best],
        "best_trial": best,
        "base_trial": base,
    }
    assert sweep_markdown(summary, {"history": "figures/h.png"}) == (
        "# Sweep `s`\n"
        "\n"
        "Storage `sqlite:///s.db`; objective val_mdice. Trials train the base training "
        "parameters with `{'epochs': 2}` and the sampled values.\n"
        "\n"
        "Trial states: COMPLETE 2.\n"
        "\n"
        "## Best trial against base\n"
        "\n"
        "Best: trial 1, val mDice 0.6250, with `lr=0.001235`, `depth=3`.\n"
        "Base (trial 0, the default values, same trial budget): val mDice 0.5000; "
        "the best is +0.1250 above it.\n"
        "One trial is one draw: CPU training is not deterministic, so a small gain may be noise.\n"
        "\n"
        "## Trials\n"
        "\n"
        "| trial | state | val mDice | epochs | seconds | worker | parameters |\n"
        "|---|---|---|---|---|---|---|\n"
        "| 0 (base) | COMPLETE | 0.5000 | 2 | 1.5 | h:1 | lr=0.001235, depth=3 |\n"
        "| 1 | COMPLETE | 0.6250 | 2 | 1.5 | h:1 | lr=0.001235, depth=3 |\n"
        "\n"
        "## Figures\n"
        "\n"
        "![history](figures/h.png)\n"
    )


def test_without_a_completed_trial_the_best_against_base_says_so():
    text = render("_best_against_base.md.j2", best=None, base=_trial(0, "PRUNED", None))
    assert text == "No trial completed, so there is no best trial and no best hypothesis.\n"
    text = render("_best_against_base.md.j2", best=_trial(1, "COMPLETE", 0.5), base=None)
    assert "not measured in this sweep (no base trial)" in text


def test_the_report_package_never_imports_kedro():
    code = (
        "import sys, multiclass_segmentation.report.study, multiclass_segmentation.report.eda, "
        "multiclass_segmentation.report.data_validation, multiclass_segmentation.report.sweep; "
        "sys.exit('kedro' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
