"""A server-rendered SVG bar chart (no JavaScript, no inline styles): the coefficient per employee."""

from __future__ import annotations

from dataclasses import dataclass

LABEL_WIDTH = 170
PLOT_WIDTH = 520
VALUE_WIDTH = 50
ROW = 26
BAR = 16
PAD = 8


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    label_y: float
    value_x: float
    anchor: str
    css: str


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    width: int
    height: int
    axis_x: float
    plot_left: int

    @property
    def empty(self) -> bool:
        return not self.bars


def bar_chart(items: list[tuple[str, int]]) -> BarChart:
    """Horizontal bars around a zero axis, so negative coefficients point left."""
    width = LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH
    low = min([0, *(v for _l, v in items)])
    high = max([0, *(v for _l, v in items)])
    span = (high - low) or 1
    scale = PLOT_WIDTH / span
    axis = LABEL_WIDTH + (-low) * scale
    bars = []
    for index, (label, value) in enumerate(items):
        y = PAD + index * ROW
        left = axis + min(value, 0) * scale
        bar_width = abs(value) * scale
        css = "chart-bar-positive" if value > 0 else "chart-bar-negative" if value < 0 else "chart-bar-zero"
        bars.append(
            Bar(
                label=label,
                value=value,
                x=round(left, 1),
                y=y,
                width=round(max(bar_width, 2), 1),
                label_y=y + BAR - 3,
                value_x=round((axis + value * scale + 6) if value >= 0 else (left - 6), 1),
                anchor="start" if value >= 0 else "end",
                css=css,
            )
        )
    return BarChart(bars=bars, width=width, height=PAD * 2 + ROW * len(items), axis_x=round(axis, 1),
                    plot_left=LABEL_WIDTH)
