"""An environment's parameters outside a run, for the command-line tools, benchmarks and tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def environment_parameters(
    project_path: Path, env: str | None, runtime_params: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The project's parameters for ``env``, merged over conf/base as ``kedro run`` merges them.

    ``env`` None is Kedro's default run environment (conf/local); ``runtime_params``
    are what ``kedro run --params`` would pass, for the ``${runtime_params:...}`` entries.
    """
    # Imported on call: fetch_data and synthetic import this module and stay Kedro-free until then.
    from kedro.framework.project import settings
    from kedro.framework.startup import bootstrap_project

    # The project's own settings.py (config loader and its arguments), as a run reads it.
    bootstrap_project(project_path)
    conf_source = Path(project_path) / settings.CONF_SOURCE
    if env is not None and not (conf_source / env).is_dir():
        raise FileNotFoundError(f"there is no environment '{env}' (no folder {conf_source / env})")
    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=str(conf_source),
        env=env,
        runtime_params=runtime_params,
        **settings.CONFIG_LOADER_ARGS,
    )
    return loader["parameters"]
