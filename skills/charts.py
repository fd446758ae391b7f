"""Charts for digests: matplotlib PNGs from named series, drawn off-screen."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Panel:
    title: str
    #: label -> value per day, every series over the same days
    series: dict[str, dict[date, int]] = field(default_factory=dict)
    bars: bool = False
    unit: str = ""


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
