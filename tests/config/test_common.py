"""The classes schema: colours are checked without matplotlib, and each one draws."""

from __future__ import annotations

import pytest
from matplotlib.colors import is_color_like
from pydantic import ValidationError

from multiclass_segmentation.config.common import NAMED_COLORS, ClassesParams


def _classes(*colors: str) -> ClassesParams:
    return ClassesParams(names=("background", "cat", "dog"), ids=(0, 1, 2), colors=colors)


def test_hex_and_named_colours_are_accepted_and_kept_as_written():
    classes = _classes("#4d4d4d", "#F80", "Orange")
    assert [classes.color_of(i) for i in classes.ids] == ["#4d4d4d", "#F80", "Orange"]


@pytest.mark.parametrize("color", ["#12345", "#gggggg", "4d4d4d", "orang", "tab:teal", ""])
def test_a_colour_that_is_neither_hex_nor_named_is_an_error_naming_the_parameter(color):
    with pytest.raises(ValidationError, match=rf"classes\.colors: '{color}' is not a colour"):
        _classes("gray", color, "blue")


def test_every_named_colour_is_one_matplotlib_draws():
    assert sorted(name for name in NAMED_COLORS if not is_color_like(name)) == []
