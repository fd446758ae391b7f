"""Charts for digests: matplotlib PNGs from named series, drawn off-screen.

The value axis says what it counts as people read it: money in the currency's format
(`domain.money.money`, whole units: "₹850,000"), everything else as whole numbers (no
2.5 alarms). `value_ticks` decides the ticks and their labels; drawing only uses them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date

from domain.config import BillingSettings
from domain.money import money as money_text

#: At most this many ticks on a value axis.
MAX_TICKS = 6


@dataclass(frozen=True)
class Panel:
    title: str
    #: label -> value per day, every series over the same days; counts, or amounts in the
    #: currency's minor unit when `money` is set
    series: dict[str, dict[date, int]] = field(default_factory=dict)
    bars: bool = False
    unit: str = ""
    #: The values are money in this currency (minor units).
    money: BillingSettings | None = None


def value_ticks(panel: Panel) -> list[tuple[int, str]]:
    """The value axis's ticks: (value as the series hold it, its label), from 0 up past
    the largest value, at whole steps (whole currency units for money)."""
    scale = 10**panel.money.minor_digits if panel.money is not None else 1
    top = max((v for s in panel.series.values() for v in s.values()), default=0)
    top_units = -(-max(top, 0) // scale)  # whole units, rounded up
    step = 1  # the smallest of 1, 2, 5, 10, 20, 50, ... that needs few enough ticks
    while -(-top_units // step) > MAX_TICKS - 1:
        step = step * 5 // 2 if str(step).startswith("2") else step * 2
    count = max(1, -(-top_units // step))
    out = []
    for i in range(count + 1):
        value = i * step * scale
        money = panel.money
        label = money_text(value, money, whole=True) if money is not None else f"{i * step:,}"
        out.append((value, label))
    return out


def render_png(title: str, panels: list[Panel]) -> bytes:
    """One PNG with a panel per chart, side by side."""
    import matplotlib  # imported when drawn: it is slow to load and most commands draw nothing

    matplotlib.use("Agg")  # no display: charts are files
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.4), squeeze=False)
    try:
        for ax, panel in zip(axes[0], panels, strict=True):
            days = sorted({d for s in panel.series.values() for d in s})
            labels = [f"{d:%d %b}" for d in days]
            width = 0.8 / max(1, len(panel.series))
            for i, (name, values) in enumerate(panel.series.items()):
                ys = [values.get(d, 0) for d in days]
                if panel.bars:
                    xs = [x + i * width for x in range(len(days))]
                    ax.bar(xs, ys, width=width, label=name)
                else:
                    ax.plot(range(len(days)), ys, marker="o", label=name)
            shift = width * (len(panel.series) - 1) / 2 if panel.bars else 0.0
            ax.set_xticks([x + shift for x in range(len(days))])
            ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=8)
            ticks = value_ticks(panel)
            ax.set_yticks([v for v, _ in ticks], labels=[t for _, t in ticks], fontsize=8)
            ax.set_ylim(0, ticks[-1][0] or 1)
            ax.set_title(panel.title, fontsize=10)
            if panel.unit:
                ax.set_ylabel(panel.unit, fontsize=8)
            ax.grid(axis="y", alpha=0.3)
            ax.legend(fontsize=8)
        fig.suptitle(title, fontsize=11)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100)
        return buf.getvalue()
    finally:
        plt.close(fig)
