"""Parameters shared by every pipeline: the dataset and its classes."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Colour names a class may have, besides hex: each is a colour matplotlib draws (a test
# checks it), so a bad name is caught here, before any work, without matplotlib.
NAMED_COLORS = frozenset(
    ("black", "white", "gray", "grey", "silver", "lightgray", "darkgray")
    + ("red", "darkred", "maroon", "crimson", "salmon", "pink", "magenta", "fuchsia")
    + ("orange", "darkorange", "gold", "yellow", "khaki", "brown", "tan", "chocolate")
    + ("olive", "lime", "green", "darkgreen", "limegreen", "teal", "turquoise")
    + ("cyan", "aqua", "skyblue", "lightblue", "blue", "navy", "royalblue")
    + ("purple", "violet", "indigo", "orchid")
    + tuple(f"tab:{name}" for name in ("blue", "orange", "green", "red", "purple", "brown"))
    + tuple(f"tab:{name}" for name in ("pink", "gray", "olive", "cyan"))
)
HEX_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


class StrictModel(BaseModel):
    """Base of every parameter schema: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DatasetParams(StrictModel):
    """Where the dataset lives and how it is laid out."""

    root: str = Field(description="folder holding img/<split>/ and labels/<split>/")
    download_url: str | None = None


class ClassesParams(StrictModel):
    """The label set: names, mask values, one colour per class, the ignore value."""

    names: tuple[str, ...]
    ids: tuple[int, ...]
    colors: tuple[str, ...]
    ignore_index: int = 255
    background_id: int = 0

    @field_validator("colors")
    @classmethod
    def _colors_are_hex_or_named(cls, colors: tuple[str, ...]) -> tuple[str, ...]:
        for color in colors:
            if not (HEX_COLOR.fullmatch(color) or color.lower() in NAMED_COLORS):
                raise ValueError(
                    f"classes.colors: '{color}' is not a colour; use #rrggbb, #rgb or one of "
                    f"{', '.join(sorted(NAMED_COLORS))}"
                )
        return colors

    @model_validator(mode="after")
    def _consistent(self) -> ClassesParams:
        if not len(self.names) == len(self.ids) == len(self.colors):
            raise ValueError(
                f"classes.names ({len(self.names)}), classes.ids ({len(self.ids)}) and "
                f"classes.colors ({len(self.colors)}) must have one entry per class"
            )
        if len(set(self.ids)) != len(self.ids):
            raise ValueError(f"classes.ids must be unique, got {list(self.ids)}")
        if sorted(self.ids) != list(range(len(self.ids))):
            raise ValueError(
                f"classes.ids must be 0..{len(self.ids) - 1} (the mask values), "
                f"got {list(self.ids)}"
            )
        if self.ignore_index in self.ids:
            raise ValueError(f"classes.ignore_index {self.ignore_index} is also a class id")
        if self.background_id not in self.ids:
            raise ValueError(f"classes.background_id {self.background_id} is not a class id")
        return self

    @property
    def num_classes(self) -> int:
        return len(self.ids)

    @property
    def foreground_ids(self) -> tuple[int, ...]:
        return tuple(i for i in self.ids if i != self.background_id)

    def name_of(self, class_id: int) -> str:
        return self.names[self.ids.index(class_id)]

    def color_of(self, class_id: int) -> str:
        """The class colour as written in the parameters (hex or a name)."""
        return self.colors[self.ids.index(class_id)]
