"""The builder: node and edge attributes, counts and exports."""

from __future__ import annotations

import json

import networkx as nx

import widthdesign as wd
from widthdesign.network import DIM, KIND, LAYER, LEVEL, to_json, write_graphml, write_json


def test_grid_network_structure():
    arch = wd.Architecture(
        shape=(4, 4), channels=3, layers=[wd.Layer(2, (2, 2)), wd.Layer(5, (2, 2))]
    )
    g = wd.build_network(arch)
    kinds = nx.get_node_attributes(g, KIND)
    count = {
        k: sum(1 for v in kinds.values() if v == k) for k in ("input", "conv", "delta", "output")
    }
    assert count == {"input": 16, "conv": 16 + 4, "delta": 4 + 1, "output": 1}
    assert nx.is_tree(g)
    assert g.degree[("delta", 0, 0)] == 5  # four members and the next conv
    assert g.edges[("input", 5), ("conv", 0, 5)][DIM] == 3
    assert g.edges[("conv", 0, 5), ("delta", 0, 0)][DIM] == 2
    assert g.edges[("delta", 0, 0), ("conv", 1, 0)][DIM] == 2
    assert g.edges[("conv", 1, 0), ("delta", 1, 0)][DIM] == 5
    assert g.edges[("delta", 1, 0), ("output",)][LEVEL] == 2
    assert g.nodes[("conv", 1, 3)]["coord"] == (1, 1)
    assert g.nodes[("output",)][LAYER] == 2


def test_permuted_inputs_attach_to_their_slots():
    arch = wd.Architecture(
        shape=(4,), channels=2, layers=[wd.Layer(2, 2), wd.Layer(2)], order=(0, 3, 1, 2)
    )
    g = wd.build_network(arch)
    assert set(g[("input", 3)]) == {("conv", 0, 1)}


def test_exports(tmp_path):
    arch = wd.Architecture(shape=(2, 2), channels=2, layers=[wd.Layer(3)])
    g = wd.build_network(arch)
    write_graphml(g, tmp_path / "n.graphml")
    h = nx.read_graphml(tmp_path / "n.graphml")
    assert h.number_of_nodes() == g.number_of_nodes() and h.number_of_edges() == g.number_of_edges()
    assert h.edges["input:0", "conv:0:0"]["dim"] == 2
    write_json(g, tmp_path / "n.json")
    data = json.loads((tmp_path / "n.json").read_text())
    assert data == to_json(g)
    assert {"source": "delta:0:0", "target": "output", "dim": 3, "level": 1} in data["edges"]
