"""Previews of long lists, in the reports and in the messages of the data checks."""

from __future__ import annotations

import pytest

from multiclass_segmentation.analysis.text import preview


@pytest.mark.parametrize(
    ("items", "limit", "expected"),
    [
        (["a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg"], 2, "a.jpg, b.jpg and 3 more"),
        (["a.jpg", "b.jpg", "c.jpg"], 3, "a.jpg, b.jpg, c.jpg"),
        (["a.jpg"], 5, "a.jpg"),
        ([], 3, ""),
        ([7, 255, 3], 1, "7 and 2 more"),
    ],
)
def test_preview_lists_the_first_items_and_counts_the_rest(items, limit, expected):
    assert preview(items, limit) == expected


def test_code_preview_shows_each_listed_item_as_inline_code():
    assert preview(["x.png", "y.png", "z.png"], 2, code=True) == "`x.png`, `y.png` and 1 more"
    assert preview(["x.png"], 2, code=True) == "`x.png`"
