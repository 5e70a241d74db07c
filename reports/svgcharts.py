"""Server-rendered SVG column charts (no JavaScript, no inline styles): daily trends and histograms.

``reports.charts.bar_chart`` draws horizontal bars; this draws vertical columns for a series
along an axis (days, bins). Coordinates are computed here, the template only places them.
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 720
HEIGHT = 200
LEFT = 36
BOTTOM = 34
TOP = 12


@dataclass(frozen=True)
class Column:
    label: str
    value: float | None
    text: str
    x: float
    y: float
    width: float
    height: float
    centre: float
    show_label: bool
    url: str


@dataclass(frozen=True)
class ColumnChart:
    columns: list[Column]
    width: int
    height: int
    base_y: float
    top_y: float
    max_value: float
    ticks: list[tuple[float, str]]

    @property
    def empty(self) -> bool:
        return not any(c.value for c in self.columns)


def column_chart(items: list[tuple[str, float | None, str]], *, max_value: float | None = None,
                 unit: str = "", max_labels: int = 12) -> ColumnChart:
    """Columns for ``(label, value, url)``; ``None`` values leave a gap. ``max_value`` fixes the scale (100 for %)."""
    plot_h = HEIGHT - BOTTOM - TOP
    plot_w = WIDTH - LEFT - 8
    values = [v for _l, v, _u in items if v is not None]
    top = max_value if max_value is not None else max([1.0, *values])
    slot = plot_w / max(len(items), 1)
    gap = min(6.0, slot * 0.2)
    every = max(1, -(-len(items) // max_labels))
    columns = []
    for index, (label, value, url) in enumerate(items):
        h = 0.0 if value is None else max(plot_h * value / top, 1.5 if value else 0.0)
        x = LEFT + index * slot + gap / 2
        columns.append(Column(
            label=label, value=value, text="—" if value is None else f"{value:g}{unit}",
            x=round(x, 1), y=round(TOP + plot_h - h, 1), width=round(slot - gap, 1), height=round(h, 1),
            centre=round(x + (slot - gap) / 2, 1), show_label=index % every == 0, url=url,
        ))
    ticks = [(round(TOP + plot_h - plot_h * f, 1), f"{top * f:g}{unit}") for f in (0, 0.5, 1)]
    return ColumnChart(columns=columns, width=WIDTH, height=HEIGHT, base_y=TOP + plot_h, top_y=TOP,
                       max_value=top, ticks=ticks)
