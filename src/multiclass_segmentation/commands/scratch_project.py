"""A throw-away copy of a project's configuration, for runs that must not write into it.

Tests and benchmarks run the pipelines there. Never imports kedro or torch.
"""

from __future__ import annotations

import shutil
from pathlib import Path


def copy_project(project_root: Path, target: Path) -> Path:
    """``target`` as a project: ``conf/`` without ``local/``, tracking off, empty data layers.

    Kedro's bootstrap wants a ``src/`` folder; it stays empty, since the
    package comes from the environment. ``target`` must not exist yet.
    """
    target.mkdir(parents=True)
    shutil.copy(project_root / "pyproject.toml", target / "pyproject.toml")
    shutil.copytree(project_root / "conf", target / "conf", ignore=shutil.ignore_patterns("local"))
    (target / "conf" / "local").mkdir()
    # Tracking has its own tests (tests/integrations/test_tracking.py); elsewhere it only
    # costs time and disk.
    (target / "conf" / "base" / "parameters_tracking.yml").write_text(
        "tracking: {enabled: false}\n"
    )
    (target / "src").mkdir()
    (target / "logs").mkdir()  # conf/logging.yml's log file goes there
    for layer in (project_root / "data").iterdir():
        if layer.is_dir():
            (target / "data" / layer.name).mkdir(parents=True)
    return target
