"""The results files as Pydantic models: results.json, metrics.json and robustness.json.

Writers build a model and save ``model_dump(mode="json")``; readers pass what they load
through ``read_results_file``. ``docs/schemas/`` holds the JSON Schema of each file
(``python -m multiclass_segmentation.commands.results_schema`` writes it again).

``SCHEMA_VERSION`` is the shape of all three files. Bump it when a key is renamed or
removed, or a value changes its type or meaning; readers then refuse the older files
until they are written again. A new optional key needs no bump.

A file without ``schema_version`` was written before these models, in version 1's shape,
and is read as version 1: a study's results take hours of training to write again, and a
file of another shape still fails on the keys that differ.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
)

from multiclass_segmentation.errors import BadInputError

SCHEMA_VERSION = 1
# How many wrong keys an error about a results file names.
PROBLEMS_LISTED = 5


class ResultsModel(BaseModel):
    """A part of a results file: unknown keys are refused, and an optional key that the
    input did not have stays absent when the model is dumped again."""

    model_config = ConfigDict(extra="forbid")

    @model_serializer(mode="wrap")
    def _without_absent_keys(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        absent = {
            name
            for name, field in type(self).model_fields.items()
            if not field.is_required() and name not in self.model_fields_set
        }
        return {key: value for key, value in data.items() if key not in absent}


class ResultsFile(ResultsModel):
    """A whole results file: its schema version first."""

    schema_version: int = Field(
        default=SCHEMA_VERSION,
        description="The shape of the file; absent in files written before it (read as 1).",
    )

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, version: int) -> int:
        if version != SCHEMA_VERSION:
            raise ValueError(
                f"schema_version {version} is not the version this code reads "
                f"({SCHEMA_VERSION}): write the file again with this code "
                "(re-run evaluation) or use the code that wrote it"
            )
        return version

    def to_json(self) -> dict[str, Any]:
        """What the file holds, ``schema_version`` always included."""
        return {"schema_version": self.schema_version, **self.model_dump(mode="json")}


class SplitScores(BaseModel):
    """One split's scores (core/scoring.py): the headline figures typed; the per-class
    scores, confusion, per-image Dice and recall by object size kept as written."""

    model_config = ConfigDict(extra="allow")

    mdice: float | None
    fg_mdice: float | None
    miou: float | None
    dice: dict[str, float | None]


class EvaluatedModelFile(ResultsFile):
    """What every file about one evaluated model says first: which model, when, with what TTA."""

    hypothesis: str
    evaluated_at: str
    model: dict[str, Any]
    tta: dict[str, Any]


class Metrics(EvaluatedModelFile):
    """metrics.json: one evaluated model's validation and test scores."""

    target_mdice: float
    val: SplitScores
    test: SplitScores


class Robustness(EvaluatedModelFile):
    """robustness.json: the shift benchmark of one model (pipelines/robustness)."""

    sampling: str
    severities: int
    summary: dict[str, dict[str, Any]]
    views: dict[str, dict[str, Any]]
    external: dict[str, dict[str, Any]]


class RobustnessEntry(ResultsModel):
    """What results.json keeps of robustness.json: the summaries and the external sets'
    scores, no per-image ones."""

    summary: dict[str, dict[str, Any]]
    external: dict[str, dict[str, Any]]


class HypothesisEntry(ResultsModel):
    """results.json's entry of one evaluated hypothesis."""

    val_mdice: float | None
    val_fg_mdice: float | None
    test_mdice: float | None
    test_fg_mdice: float | None
    test_miou: float | None
    test_dice: dict[str, float | None]
    val_dice: dict[str, float | None]
    epochs_run: int | None
    evaluated_at: str
    robustness: RobustnessEntry | None = None


class StudyResults(ResultsFile):
    """results.json: every evaluated hypothesis, the best by validation mDice, and the
    study over seeds (analysis/study_statistics.py) once a study has run. A study alone
    writes only ``study``."""

    hypotheses: dict[str, HypothesisEntry] = {}
    best_model: str | None = None
    best_selected_by: str | None = None
    best_mdice: float | None = None
    target_mdice: float | None = None
    target_achieved: bool | None = None
    study: dict[str, Any] | None = None


ResultsFileT = TypeVar("ResultsFileT", bound=ResultsFile)

# The file of each model, for the exported schemas and the error messages.
RESULTS_FILES: dict[str, type[ResultsFile]] = {
    "results.json": StudyResults,
    "metrics.json": Metrics,
    "robustness.json": Robustness,
}


def read_results_file(model: type[ResultsFileT], data: Any, source: str) -> ResultsFileT:
    """``data`` (loaded from ``source``) as ``model``; a file of another shape or schema
    version is a BadInputError that names ``source`` and each wrong key."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        errors = error.errors()
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or '(whole file)'}: {e['msg']}"
            for e in errors[:PROBLEMS_LISTED]
        )
        if len(errors) > PROBLEMS_LISTED:
            problems += f"; and {len(errors) - PROBLEMS_LISTED} more"
        raise BadInputError(
            f"{source} is not a {model.__name__} file of schema_version {SCHEMA_VERSION}: "
            f"{problems}"
        ) from None
