"""What every figure shares: an empty state written as a sentence, and category labels that fit."""

from __future__ import annotations

import html

import plotly.graph_objects as go
import polars as pl


def empty_figure(message: str, *, height: int = 220) -> go.Figure:
    """A figure that says why there is nothing to draw, in a sentence, instead of an empty pair of axes."""
    fig = go.Figure()
    fig.add_annotation(text=html.escape(message), showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font={"size": 14, "color": "#555"})
    fig.update_layout(xaxis={"visible": False}, yaxis={"visible": False}, height=height,
                      margin={"t": 20, "b": 20, "l": 20, "r": 20}, plot_bgcolor="rgba(0,0,0,0)")
    return fig


def plain(value) -> str:
    """A value from data as plotly text: plotly renders tags in text (<b>, <a href>, <br>), so they are escaped and
    shown as written."""
    return html.escape(str(value))


def plains(values) -> list:
    """``plain`` for each value of a list; missing values stay missing."""
    return [None if v is None else plain(v) for v in values]


def short_label(text: str, *, width: int = 18, lines: int = 3) -> str:
    """A category label wrapped onto short lines (at most ``lines``; the rest cut with an ellipsis), so long segment
    names do not run into each other under a chart. The full name stays in the hover."""
    words, out, line = str(text).split(" "), [], ""
    for word in words:
        while len(word) > width:  # a long word without spaces: cut it into pieces
            if line:
                out.append(line)
                line = ""
            out.append(word[:width])
            word = word[width:]
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        out.append(line)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][: width - 1] + "…"
    return "<br>".join(html.escape(part) for part in out)




def distinct(labels: list[str]) -> list[str]:
    """Labels kept distinct (a plotly category axis merges equal ones): a repeat gets its position appended."""
    out: list[str] = []
    for i, label in enumerate(labels):
        out.append(label if label not in out else f"{label} #{i + 1}")
    return out


def short_labels(names: list[str], **kwargs) -> list[str]:
    """``short_label`` of each name, kept distinct."""
    return distinct([short_label(name, **kwargs) for name in names])


def label_lanes(positions: list[float], texts: list[str], *, width_px: float, lanes: int = 3,
                char_px: float = 6.0, gap_px: float = 8.0) -> list[int | None]:
    """A lane (0, 1, ...) for each horizontal label so that labels in one lane do not overlap, or None when no
    lane has room (the label then lives in the hover only). ``positions`` are fractions of the plot's width
    (0 = left edge), each label starting there; ``width_px`` is the plot's width in pixels, ``char_px`` the width of
    one character of the labels' font."""
    ends = [float("-inf")] * lanes
    out: list[int | None] = [None] * len(positions)
    for i in sorted(range(len(positions)), key=lambda k: positions[k]):
        left = positions[i] * width_px
        for lane in range(lanes):
            if left >= ends[lane] + gap_px:
                ends[lane] = left + len(texts[i]) * char_px
                out[i] = lane
                break
    return out


def stacked_panels(titles: list[str], *, gap: float = 0.05, height: int = 600, **layout) -> go.Figure:
    """An empty figure of panels stacked on one shared time axis (the first panel on top), laid out directly:
    plotly's make_subplots costs more than the figure itself. Put a trace in panel ``i`` (0-based) with
    ``in_panel(trace, i)``; shade a span over every panel with ``shade_span``."""
    n = len(titles)
    size = (1 - gap * (n - 1)) / n
    axes: dict = {}
    for i, title in enumerate(titles):
        top = 1 - i * (size + gap)
        suffix = "" if i == 0 else str(i + 1)
        axes[f"yaxis{suffix}"] = {"domain": [max(0.0, top - size), top], "anchor": f"x{suffix}",
                                  "title": {"text": title, "font": {"size": 11}}}
        axes[f"xaxis{suffix}"] = {"anchor": f"y{suffix}", "showticklabels": i == n - 1,
                                  **({"matches": "x"} if i else {})}
    return go.Figure(layout={**axes, "height": height, **layout})


def in_panel(trace, panel: int):
    """The trace drawn in panel ``panel`` (0-based) of ``stacked_panels``."""
    suffix = "" if panel == 0 else str(panel + 1)
    trace.update(xaxis=f"x{suffix}", yaxis=f"y{suffix}")
    return trace


def hold_flat_panel(fig: go.Figure, panel: int, values: pl.Series) -> None:
    """A panel whose values are one level (up to float noise) drawn around that level: left to itself, plotly
    stretches a span of 1e-15 over the panel and labels ticks 1.50000000000000533."""
    finite = values.cast(pl.Float64).filter(values.cast(pl.Float64).is_finite())
    if finite.is_empty():
        return
    low, high = finite.min(), finite.max()
    level = (low + high) / 2
    if high - low > 1e-9 * max(1.0, abs(level)):
        return
    pad = abs(level) * 0.1 if abs(level) > 1e-12 else 1.0  # a level of zero up to float noise: one unit
    fig.layout[f"yaxis{'' if panel == 0 else panel + 1}"].range = [level - pad, level + pad]


def shade_span(fig: go.Figure, start, end, color: str) -> None:
    """A time span shaded behind every panel (from the figure's bottom to its top)."""
    shade_spans(fig, [(start, end, color)])


def shade_spans(fig: go.Figure, spans) -> None:
    """``shade_span`` of each (start, end, color), in order, added at once (plotly checks every shape of the
    figure again each time one is added)."""
    shapes = tuple(go.layout.Shape(type="rect", xref="x", yref="paper", x0=start, x1=end, y0=0, y1=1,
                                   fillcolor=color, line={"width": 0}, layer="below") for start, end, color in spans)
    if shapes:
        fig.layout.shapes += shapes
