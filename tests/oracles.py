"""Independent oracles: brute-force cuts over every side assignment and certificate checks."""

from __future__ import annotations

import itertools
import math

import networkx as nx

from widthdesign.network import DIM, KIND, build_network


def brute_force_cut(g: nx.Graph, side_a_inputs: set, hyper: bool = True) -> int:
    """Minimal multiplicative cut by trying every side for every free node.

    ``hyper``: a delta node counts once when its neighbours are split (its own side does not
    matter); otherwise delta nodes are ordinary nodes and every crossing leg counts.
    """
    fixed = {n: (n in side_a_inputs) for n, d in g.nodes(data=True) if d[KIND] == "input"}
    free = [
        n
        for n, d in g.nodes(data=True)
        if d[KIND] != "input" and not (hyper and d[KIND] == "delta")
    ]
    deltas = [n for n, d in g.nodes(data=True) if d[KIND] == "delta"] if hyper else []
    plain = [
        (u, v, d[DIM])
        for u, v, d in g.edges(data=True)
        if not (hyper and (g.nodes[u][KIND] == "delta" or g.nodes[v][KIND] == "delta"))
    ]
    delta_legs = [(n, [nb for nb in g[n]], next(iter(g[n].values()))[DIM]) for n in deltas]
    best = None
    for bits in itertools.product((False, True), repeat=len(free)):
        side = dict(fixed)
        side.update(zip(free, bits))
        value = 1
        for u, v, d in plain:
            if side[u] != side[v]:
                value *= d
        for _, nbs, d in delta_legs:
            if len({side[x] for x in nbs}) > 1:
                value *= d
        if best is None or value < best:
            best = value
    return best


def check_certificate(arch, mask, cut) -> None:
    """The cut's items multiply to its value, separate A from B and match its side labels."""
    g = build_network(arch)
    a_inputs = {("input", i) for i in range(arch.num_inputs) if mask[i]}
    b_inputs = {("input", i) for i in range(arch.num_inputs) if not mask[i]}
    assert cut.value == math.prod(d for *_, d in cut.bonds) * math.prod(d for _, d in cut.deltas)
    for u, v, d in cut.bonds:
        assert g.edges[u, v][DIM] == d
    for node, d in cut.deltas:
        assert g.nodes[node][KIND] == "delta"
        assert all(data[DIM] == d for data in g[node].values())
    h = g.copy()
    h.remove_edges_from((u, v) for u, v, _ in cut.bonds)
    h.remove_nodes_from(n for n, _ in cut.deltas)
    for comp in nx.connected_components(h):
        assert not (comp & a_inputs and comp & b_inputs), "cut does not separate A from B"
    # side labels: A's inputs on A's side, and every crossing edge is accounted for
    assert a_inputs <= cut.side_a and not (b_inputs & cut.side_a)
    cut_bonds = {frozenset((u, v)) for u, v, _ in cut.bonds}
    cut_deltas = {n for n, _ in cut.deltas}
    for u, v in g.edges():
        if (u in cut.side_a) != (v in cut.side_a):
            assert frozenset((u, v)) in cut_bonds or u in cut_deltas or v in cut_deltas
