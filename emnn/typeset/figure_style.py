"""The house style every figure shares: matplotlib settings, colours, and the helpers that
keep axes readable (labelled log and count ticks, accuracy axes zoomed to the data) and text
safe (names drawn literally, escaped in captions).

Every figure module imports this one and this one imports none of them, so the figure
families and the driver (emnn.paper.figures) depend on it without a cycle.
"""

from __future__ import annotations

import numpy as np
from matplotlib import ticker

STYLE = {
    "svg.hashsalt": "emnn",  # fixed ids in SVG output
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "figure.dpi": 100,
    "savefig.dpi": 150,
}
COLORS = ["#1b6ca8", "#d1495b", "#edae49", "#66a182", "#8d6a9f", "#00798c", "#2e4057"]


def drawn(text: str) -> str:
    """Text matplotlib draws literally: a name holding two "$" would turn into math, and a
    legend leaves out a label that starts with "_" (a zero-width space before it keeps it)."""
    text = text.replace("$", r"\$")
    return "\u200b" + text if text.startswith("_") else text


def method_label(study, method):
    return study.get("labels", {}).get(method, method)


def method_colors(study):
    methods = list(dict.fromkeys(study["main"]["methods"] + _part_methods(study)))
    return {m: COLORS[i % len(COLORS)] for i, m in enumerate(methods)}


def _part_methods(study):
    return study.get("sweep", {}).get("methods", [])


def _plain(value: float) -> str:
    return f"{value:g}"


def _scientific(value: float) -> str:
    """A tick label in mathtext: 10^-5 or 2 x 10^-5."""
    if value <= 0:
        return "0"
    exponent = int(np.floor(np.log10(value) + 1e-9))
    mantissa = round(value / 10.0**exponent, 6)
    power = f"10^{{{exponent}}}"
    return f"${power}$" if mantissa == 1 else f"${mantissa:g}\\times{power}$"


# Candidate tick positions on a log axis, sparsest first: the first that puts enough labelled
# ticks inside the axis is used, so a short range gets round numbers and a long one decades.
def _log_candidates():
    yield ticker.LogLocator(base=10, numticks=6)
    for subs in ((1.0, 2.0, 5.0), (1.0, 2.0, 3.0, 5.0), (1.0, 1.5, 2.0, 3.0, 5.0, 7.0)):
        yield ticker.LogLocator(base=10, subs=subs, numticks=60)
    # Well within a decade, evenly spaced round numbers read best.
    yield ticker.MaxNLocator(nbins=8, steps=[1, 2, 2.5, 5, 10])


MIN_LABELS = 4


def _inside(values, low: float, high: float) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    span = high - low
    return values[(values >= low - 1e-9 * span) & (values <= high + 1e-9 * span)]


def log_ticks(axis) -> None:
    """Label a log-scaled axis with at least MIN_LABELS ticks inside its limits (the most
    any candidate gives, if none gives that many), as plain numbers (0.2, 5, 100) where
    they are short and as powers of ten otherwise."""
    low, high = sorted(axis.get_view_interval())
    best = None
    for locator in _log_candidates():
        ticks = _inside(locator.tick_values(low, high), low, high)
        if best is None or len(ticks) > len(best[1]):
            best = (locator, ticks)
        if len(ticks) >= MIN_LABELS:
            break
    locator, ticks = best
    axis.set_major_locator(locator)
    plain = ticks.size and ticks.min() >= 1e-3 and ticks.max() < 1e5
    label = _plain if plain else _scientific
    axis.set_major_formatter(ticker.FuncFormatter(lambda value, _: label(value)))
    decades = np.log10(high / low)
    minor = ticker.LogLocator(base=10, subs=np.arange(2, 10), numticks=60)
    linear = isinstance(locator, ticker.MaxNLocator)
    axis.set_minor_locator(minor if decades <= 6 and not linear else ticker.NullLocator())
    axis.set_minor_formatter(ticker.NullFormatter())


def count_ticks(axis) -> None:
    """Ticks of a count axis scaled "symlog" (0, then logarithmic): 0 and, past it, decades or,
    over a short range, 1-2-5 steps, so at least MIN_LABELS labels and none crowded."""
    high = max(axis.get_view_interval())
    if high <= 1.5:
        axis.set_major_locator(ticker.MaxNLocator(nbins=4, integer=True))
    else:
        decades = ticker.LogLocator(base=10, numticks=8).tick_values(1, high)
        ticks = [0.0, *_inside(decades, 1, high)]
        if len(ticks) < MIN_LABELS:
            steps = ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0), numticks=60)
            ticks = [0.0, *_inside(steps.tick_values(1, high), 1, high)]
        axis.set_major_locator(ticker.FixedLocator(ticks))
        minor = [v for v in ticker.LogLocator(base=10, subs=np.arange(2, 10), numticks=60)
                 .tick_values(1, high) if v not in ticks]  # fmt: skip
        axis.set_minor_locator(ticker.FixedLocator(_inside(minor, 1, high)))
    axis.set_major_formatter(ticker.FuncFormatter(lambda v, _: _plain(v)))
    axis.set_minor_formatter(ticker.NullFormatter())


class Bounded(ticker.MaxNLocator):
    """Round-number ticks that never go past the possible range of the quantity."""

    def __init__(self, low: float, high: float, **kwargs):
        super().__init__(**kwargs)
        self.bounds = (low, high)

    def tick_values(self, vmin, vmax):
        values = super().tick_values(vmin, vmax)
        low, high = self.bounds
        return values[(values >= low - 1e-9) & (values <= high + 1e-9)]


def zoom(axis, values, low: float = 0.0, high: float = 100.0, margin: float = 0.06) -> None:
    """Limits of an accuracy axis from its data: their range clipped to what accuracy can
    be (0 to 100 %), widened by a margin, ticks only inside the possible range."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if not values.size:
        return
    bottom, top = max(values.min(), low), min(values.max(), high)
    pad = margin * (top - bottom) if top > bottom else 0.01 * (high - low)
    axis.set_ylim(bottom - pad, top + pad)
    axis.yaxis.set_major_locator(Bounded(low, high, nbins=6, steps=[1, 2, 2.5, 5, 10]))


def panel_grid(count: int) -> tuple[int, int]:
    """Rows and columns of a grid of panels: one row up to 3, two columns for 4."""
    columns = count if count <= 3 else (2 if count == 4 else 3)
    return -(-count // columns), columns
