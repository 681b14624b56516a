"""The study's parameters: run names, ensemble members and weights, and what is refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from multiclass_segmentation.config.study import StudyParams


def _study(**changes) -> StudyParams:
    values = {
        "hypotheses": ["base", "focal"],
        "seeds": [42, 43],
        "ensembles": [{"name": "mix", "members": ["base", "focal.seed_43"]}],
    }
    return StudyParams.model_validate({**values, **changes})


def test_a_hypothesis_member_stands_for_all_its_seeds():
    study = _study()
    assert study.runs() == [("base", 42), ("base", 43), ("focal", 42), ("focal", 43)]
    assert study.member_runs("mix") == ["base.seed_42", "base.seed_43", "focal.seed_43"]
    assert study.ensemble_weights("mix") == [1.0, 1.0, 1.0]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ensembles": [{"name": "mix", "members": ["unet"]}]}, "member 'unet' is neither"),
        ({"ensembles": [{"name": "mix", "members": ["focal.seed_7"]}]}, "'focal.seed_7'"),
        ({"ensembles": [{"name": "one", "members": ["focal.seed_42"]}]}, "fewer than 2 runs"),
        (
            {"ensembles": [{"name": "mix", "members": ["base"], "weights": [1, 2, 3]}]},
            "3 weights for 2 runs",
        ),
        ({"hypotheses": ["base", "base"]}, "listed twice"),
        ({"ensembles": [{"name": "base", "members": ["base"]}]}, "listed twice"),
        ({"hypotheses": ["base", "focal-loss"]}, "'focal-loss' is not a name"),
    ],
)
def test_a_study_that_cannot_run_is_refused_with_the_reason(changes, message):
    with pytest.raises(ValidationError, match=message):
        _study(**changes)


def test_a_hypothesis_may_have_seeds_of_its_own():
    study = _study(
        hypotheses=["base", {"name": "focal", "seeds": [42]}],
        ensembles=[{"name": "mix", "members": ["base", "focal"]}],
    )
    assert study.hypothesis_names == ["base", "focal"]
    assert study.runs() == [("base", 42), ("base", 43), ("focal", 42)]
    assert study.member_runs("mix") == ["base.seed_42", "base.seed_43", "focal.seed_42"]
    with pytest.raises(ValidationError, match="'focal.seed_43'"):
        _study(hypotheses=["base", {"name": "focal", "seeds": [42]}])
