"""The data validation report (data_validation.md) from data_validation.json."""

from __future__ import annotations

from multiclass_segmentation.report.render import render

# The order in which findings are listed; data validation reports no other severity.
SEVERITIES = ("error", "warning")


def checks(findings: list[dict], severity: str) -> list[dict]:
    """Per check with findings of ``severity``, in order of first finding: its findings and
    their files."""
    by_check: dict[str, list[dict]] = {}
    for finding in findings:
        if finding["severity"] == severity:
            by_check.setdefault(finding["check"], []).append(finding)
    return [
        {
            "check": check,
            "findings": found,
            "files": [file for finding in found for file in finding["files"]],
        }
        for check, found in by_check.items()
    ]


def data_validation_markdown(report: dict, files_listed: int) -> str:
    """The summary tables, then the findings by severity and check, ``files_listed`` files
    named per check."""
    return render(
        "data_validation.md.j2",
        report=report,
        summaries=report["summary"],
        checks_by_severity={s: checks(report["findings"], s) for s in SEVERITIES},
        files_listed=files_listed,
    )
