"""Project pipelines."""

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

# The order in which the default pipeline runs them; Kedro orders nodes by
# their catalog dependencies, this list only decides which pipelines join.
DEFAULT_PIPELINES = (
    "data_validation",
    "eda",
    "training",
    "evaluation",
    "robustness",
    "reporting",
)


def register_pipelines() -> dict[str, Pipeline]:
    pipelines = find_pipelines(raise_errors=True)
    pipelines["__default__"] = sum(
        (pipelines[name] for name in DEFAULT_PIPELINES if name in pipelines), Pipeline([])
    )
    return pipelines
