"""Figures and report folders: where the min cut runs, what it separates, how widths pay off.

Every ``plot_*`` function takes a result object, draws into ``ax`` (or a new figure when
``ax`` is ``None``) and returns the :class:`matplotlib.figure.Figure`. matplotlib is imported
inside the functions only, so ``import widthdesign`` (and even ``import widthdesign.report``)
stays free of it. New figures are plain :class:`~matplotlib.figure.Figure` objects, not
pyplot figures: nothing is registered globally, nothing needs closing, and saving uses the Agg
renderer whatever backend the session has. To show one interactively, pass ``ax`` from
``plt.subplots()``.

What each figure shows:

- :func:`plot_network`: the tensor network and its min cut (collapsed per level for large
  networks);
- :func:`plot_partition`: the partition on the input grid, bounds in the title;
- :func:`plot_cut_map`: where the min cut runs on the input grid (windows it takes per level);
- :func:`plot_widths`: widths per layer of the recommended design and its baselines (spec,
  uniform, wide-base, wide-tip), with their cost, objective F and breadth;
- :func:`plot_interaction_profile`: per design, the score (% of the best log2 bound within the
  budget) per interaction scale for a recommendation, else the log2 upper bound;
- :func:`plot_data_profile`: a data set's crossing |corr| mass per layer beside the
  network's capacity (``widthdesign profile --plot``, ``report --data``);
- :func:`plot_budget_sweep`: log2 bounds of the favored partitions against budget,
  recommended vs uniform (not F, which is normalized per budget);
- :func:`write_report`: all of them, plus ``index.html`` and ``summary.md``, into a folder.

>>> from widthdesign.spec import Architecture, Layer
>>> arch = Architecture(shape=(8,), channels=2, layers=[Layer(4, 2), Layer(4, 2), Layer(4)])
>>> pos = network_layout(arch)    # layered: inputs at y = 0, the output on top
>>> pos[("input", 0)], pos[("delta", 0, 0)], pos[("output",)]
((0.0, 0.0), (0.5, 2.0), (4.25, 7.0))
"""

# the module-level names of the former single-module report, public or used by tests
from ._common import (  # noqa: F401
    CUT,
    DESIGN_COLORS,
    DPI,
    EDGE,
    FIGSIZE,
    FORMATS,
    INK,
    MAX_DRAWN_INPUTS,
    SIDE_A,
    SIDE_B,
    ReportError,
)
from .cutmap import plot_cut_map, window_index
from .data_profile import plot_profile as plot_data_profile
from .network import network_layout, plot_network
from .page import MANIFEST, check_report_folder, default_partitions, write_report
from .partition import _partition_image, plot_partition  # noqa: F401
from .profile import interaction_profile, interaction_scales, plot_interaction_profile
from .sweep import plot_budget_sweep
from .widths import plot_widths

__all__ = [
    "ReportError",
    "plot_network",
    "plot_partition",
    "plot_cut_map",
    "window_index",
    "plot_widths",
    "plot_interaction_profile",
    "plot_budget_sweep",
    "plot_data_profile",
    "write_report",
    "network_layout",
    "interaction_scales",
    "interaction_profile",
    "default_partitions",
    "check_report_folder",
    "MANIFEST",
    "FORMATS",
    "SIDE_A",
    "SIDE_B",
    "CUT",
]
