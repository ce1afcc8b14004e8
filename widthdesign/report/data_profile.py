"""Data profile figure: the dependence a data set carries across each layer's canonical
partitions, beside the network's capacity for them (``widthdesign profile --plot``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._common import INK, _new_axes, _rc

if TYPE_CHECKING:  # pragma: no cover - typing only, keeps matplotlib out of imports
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..data import DataProfile

__all__ = ["plot_profile"]


def plot_profile(prof: DataProfile, ax: Axes | None = None, title: str | None = None) -> Figure:
    """Per layer: the crossing |corr| mass of its canonical partitions for the data's order,
    as a fraction of a random order's (bars; 1 = random, the dashed line; the mass per node
    in the bar's label), and on a second axis the network's capacity for the same partition
    (log2 of the min-cut bound; when the spec has widths). Bars near or above 1 where the
    capacity is low: the network pools apart what the data ties together.

    >>> import numpy as np
    >>> from widthdesign.data import mirror_pairs, profile
    >>> from widthdesign.spec import load
    >>> fig = plot_profile(profile(load("examples/paper_1d_n16.toml"), mirror_pairs()))
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()][:2]
    ['0\\n(2)', '1\\n(4)']
    """
    with _rc():
        fig, ax = _new_axes(ax, (6.4, 3.8))
        layers = np.arange(len(prof.levels))
        ratio = [lv.ratio for lv in prof.levels]
        label = "data (this order) / random; on the bars: mass per node"
        bars = ax.bar(layers, ratio, 0.6, color="#4C72B0", label=label)
        for bar, lv in zip(bars, prof.levels):
            ax.annotate(
                f"{lv.mass / lv.nodes:.3g}",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=7,
            )
        ax.axhline(1.0, color=INK, linestyle="--", linewidth=1, label="random order")
        ax.set_ylim(0, max(1.2, max(ratio, default=1)) * 1.3)  # room for the legend on top
        ax.set_xticks(
            layers,
            [f"{lv.layer}\n({'-' if lv.block is None else lv.block})" for lv in prof.levels],
        )
        ax.set_xlabel("layer (inputs per block)")
        ax.set_ylabel("crossing |corr| mass / random")
        handles, labels = ax.get_legend_handles_labels()
        caps = [lv.capacity_log2 for lv in prof.levels]
        if all(c is not None for c in caps):
            cap_ax = ax.twinx()
            (line,) = cap_ax.plot(layers, caps, "o-", color="#C44E52", label="capacity (log2)")
            cap_ax.set_ylabel("network capacity: log2 min cut")
            # the line in the lower part of the axes: clear of the bar labels and the legend
            cap_ax.set_ylim(0, max(caps, default=1) * 2.6 or 1)
            handles.append(line)
            labels.append(line.get_label())
        ax.legend(handles, labels, fontsize=7, loc="upper center", ncol=2)
        ax.set_title(
            title or f"data profile: {prof.samples} samples x {prof.inputs} inputs", fontsize=10
        )
    return fig
