"""The builder: an :class:`~widthdesign.spec.Architecture` as a tensor-network graph.

The tensor network is a plain undirected :class:`networkx.Graph`. Node ids are tuples:

============================  =========================================================
node id                       what it is
============================  =========================================================
``("input", i)``              terminal of input ``i`` (flat row-major index), degree 1
``("conv", l, j)``            1x1 conv matrix of layer ``l`` at position ``j`` of the
                              grid entering layer ``l`` (unshared weights)
``("delta", l, w)``           copy tensor of pooling window ``w`` of layer ``l``
``("output",)``               the output matrix (Y x r_{L-1}); its free leg is not drawn
============================  =========================================================

Node attribute keys: :data:`KIND` (``"input"``, ``"conv"``, ``"delta"``, ``"output"``),
:data:`LAYER` (``-1`` for inputs, ``l`` for conv and delta nodes, ``L`` for the output),
:data:`POSITION` (input index, grid position or window index; ``0`` for the output) and, on
grid architectures, :data:`COORD` (the grid coordinate at that level, a tuple).

Edge attribute keys: :data:`DIM`, the bond dimension (``M`` on input bonds, ``r_l`` on the
legs of a layer-``l`` delta) and :data:`LEVEL`, which entry of ``(M, r_0, ..., r_{L-1})``
the dimension is (``0`` for input bonds, ``l + 1`` for layer-``l`` legs).

Overlapping specs (a stride below the window): the graph is the *unrolled* tree of
:func:`~widthdesign.spec.pooling_tree`, whose positions ``j`` are copies (one per path that
reads a network position; ``COORD`` is the network position's coordinate), and the input
node ``("input", i)`` is joined to every copy of input ``i`` (one bond of dimension M each).

A delta node is a hyperedge for cuts: all of its crossing legs count once
(see :mod:`widthdesign.cuts`).

>>> from widthdesign.spec import Architecture, Layer
>>> g = build_network(Architecture(shape=(4,), channels=2, layers=[Layer(3, 2), Layer(5)]))
>>> g.number_of_nodes(), g.edges[("conv", 1, 0), ("delta", 1, 0)][DIM]
(14, 5)
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import networkx as nx

from .errors import WidthDesignError
from .spec import Architecture, atomic_write_text, pooling_tree, unrolled_leaf_count

__all__ = [
    "build_network",
    "to_json",
    "write_graphml",
    "write_json",
    "KIND",
    "LAYER",
    "POSITION",
    "COORD",
    "DIM",
    "LEVEL",
    "MAX_NETWORK_INPUTS",
    "check_network_size",
]

KIND = "kind"
LAYER = "layer"
POSITION = "position"
COORD = "coord"
DIM = "dim"
LEVEL = "level"


#: Largest network built as a networkx graph (``network -o``, the max-flow cut methods): a
#: graph costs ~10 KB per input in memory (~20 KB while writing GraphML), so 2^16 inputs
#: take about 1.3 GB; the dp cut method and the batch engine have no such limit.
MAX_NETWORK_INPUTS = 1 << 16


def check_network_size(arch: Architecture, what: str = "the tensor network graph") -> None:
    """Refuse, from the sizes alone, a network too large to build as a graph (overlapping
    specs: counted in input copies, the leaves of the unrolled tree)."""
    n = unrolled_leaf_count(arch)
    if n > MAX_NETWORK_INPUTS:
        label = "input copies" if arch.overlapping else "inputs"
        raise WidthDesignError(
            f"{what}: {n} {label}; expected at most {MAX_NETWORK_INPUTS} "
            "(a networkx graph takes ~10-20 KB per input; the dp method and --parts-file "
            "handle any size)"
        )


def build_network(arch: Architecture) -> nx.Graph:
    """The tensor network of ``arch`` (widths required) as a :class:`networkx.Graph`
    (at most :data:`MAX_NETWORK_INPUTS` inputs)."""
    check_network_size(arch)
    dims = arch.bond_dims()
    tree = pooling_tree(arch)
    g = nx.Graph(name=arch.name or "convac")
    for slot, i in enumerate(tree.leaves.tolist()):
        g.add_node(("input", i), **{KIND: "input", LAYER: -1, POSITION: i})
        _add_conv(g, arch, tree, 0, slot)
        g.add_edge(("input", i), ("conv", 0, slot), **{DIM: dims[0], LEVEL: 0})
    top = arch.depth
    for level in range(top):
        for j, w in enumerate(tree.parents[level].tolist()):
            delta = ("delta", level, w)
            if delta not in g:
                g.add_node(delta, **{KIND: "delta", LAYER: level, POSITION: w})
                if tree.network_grids:
                    g.nodes[delta][COORD] = _tree_coord(tree, level + 1, w)
            g.add_edge(("conv", level, j), delta, **{DIM: dims[level + 1], LEVEL: level + 1})
        for w in range(tree.sizes[level + 1]):
            upper = ("conv", level + 1, w) if level + 1 < top else ("output",)
            if level + 1 < top:
                _add_conv(g, arch, tree, level + 1, w)
            else:
                g.add_node(upper, **{KIND: "output", LAYER: top, POSITION: 0})
            g.add_edge(("delta", level, w), upper, **{DIM: dims[level + 1], LEVEL: level + 1})
    return g


def _add_conv(g, arch, tree, level, j):
    attrs = {KIND: "conv", LAYER: level, POSITION: j}
    if tree.network_grids:
        attrs[COORD] = _tree_coord(tree, level, j)
    g.add_node(("conv", level, j), **attrs)


def _tree_coord(tree, level, j):
    """Grid coordinate of tree position ``j`` of ``level`` in the network's grid (an
    unrolled tree's copies of one position share its coordinate)."""
    flat = j if tree.positions is None else int(tree.positions[level][j])
    return _coord(tree.network_grids[level], flat)


def _coord(grid, flat):
    coord, rest = [], flat
    for size in reversed(grid):
        coord.append(rest % size)
        rest //= size
    return tuple(reversed(coord))


def node_name(node: tuple) -> str:
    """A flat string id for a node: ``input:3``, ``conv:1:5``, ``delta:0:2``, ``output``."""
    return ":".join(str(x) for x in node)


def to_json(g: nx.Graph) -> dict:
    """Node-link JSON of the tensor network with string node ids (``kind:layer:position``)."""
    nodes = []
    for node, data in g.nodes(data=True):
        entry = {"id": node_name(node), **{k: v for k, v in data.items() if k != COORD}}
        if COORD in data:
            entry[COORD] = list(data[COORD])
        nodes.append(entry)
    edges = [
        {"source": node_name(u), "target": node_name(v), DIM: d[DIM], LEVEL: d[LEVEL]}
        for u, v, d in g.edges(data=True)
    ]
    return {"name": g.graph.get("name", ""), "nodes": nodes, "edges": edges}


def write_json(g: nx.Graph, path: str | os.PathLike) -> None:
    """Write :func:`to_json` atomically."""
    atomic_write_text(Path(path), json.dumps(to_json(g), indent=1) + "\n")


def write_graphml(g: nx.Graph, path: str | os.PathLike) -> None:
    """Write GraphML (string node ids; coordinates as ``"i,j"`` strings) atomically."""
    h = nx.Graph(name=g.graph.get("name", ""))
    for node, data in g.nodes(data=True):
        attrs = dict(data)
        if COORD in attrs:
            attrs[COORD] = ",".join(map(str, attrs[COORD]))
        h.add_node(node_name(node), **attrs)
    for u, v, data in g.edges(data=True):
        h.add_edge(node_name(u), node_name(v), **data)
    text = "\n".join(nx.generate_graphml(h)) + "\n"
    atomic_write_text(Path(path), text)
