"""Overlapping windows (Sharir & Shashua 2018; Levine, Sharir, Cohen, Shashua 2019).

The network with a stride below its window is a multilinear function g of duplicated
inputs; g is the *unrolled* pooling tree (every input once per path that reads it) and
sep(f) <= sep(g) <= min cut of that tree. Checked here against hand-derived trees and cuts,
brute force on a graph built in this file from nested lists, the max-flow methods, the batch
engine, and exact ranks of the network itself evaluated on enough templates per input.
"""

from __future__ import annotations

import itertools
import json
import math
import random

import networkx as nx
import numpy as np
import pytest
from click.testing import CliRunner
from oracles import brute_force_cut, check_certificate

import widthdesign as wd
from widthdesign.batch import bounds_many
from widthdesign.cli import cli as main
from widthdesign.cuts import bounds, describe_cut, min_cut
from widthdesign.spec import (
    Architecture,
    Layer,
    cost,
    cost_coefficients,
    dumps,
    from_dict,
    iter_levels,
    loads,
    pooling_tree,
    to_dict,
    unrolled_leaf_count,
)
from widthdesign.verify import (
    check_size,
    copies_per_input,
    template_counts,
    template_rank,
    verify_rank,
)

HAND = Architecture(shape=(8,), channels=2, layers=[Layer(2, 3, 2)] * 3)
HAND_TREE = [[[0, 1, 2], [2, 3, 4], [4, 5, 6]], [[4, 5, 6], [6, 7]]]


def nested(tree) -> list:
    """A PoolingTree as nested lists of input indices (the top node's children)."""
    nodes: list = [int(i) for i in tree.leaves]
    for level in range(tree.depth):
        groups: list[list] = [[] for _ in range(tree.sizes[level + 1])]
        for j, p in enumerate(tree.parents[level].tolist()):
            groups[p].append(nodes[j])
        nodes = groups
    return nodes[0]


def all_masks(n: int) -> np.ndarray:
    rows = [bits for bits in itertools.product([False, True], repeat=n) if 0 < sum(bits) < n]
    return np.array(rows, dtype=bool)


# -- the unrolled tree, by hand ---------------------------------------------------------------


def test_hand_example_unrolled_tree():
    tree = pooling_tree(HAND)
    assert nested(tree) == HAND_TREE
    assert tree.sizes == (14, 5, 2, 1) and tree.network_sizes == (8, 4, 2, 1)
    assert [p.tolist() for p in tree.positions] == [
        [0, 1, 2, 2, 3, 4, 4, 5, 6, 4, 5, 6, 6, 7],
        [0, 1, 2, 2, 3],
        [0, 1],
        [0],
    ]
    assert unrolled_leaf_count(HAND) == 14
    assert copies_per_input(HAND) == (1, 1, 2, 1, 3, 2, 3, 1)


def test_2d_unrolled_tree_is_the_product_of_the_axes():
    arch = Architecture(shape=(4, 4), channels=2, layers=[Layer(2, (3, 3), (2, 2)), Layer(2)])
    tree = pooling_tree(arch)
    # windows at (0,0): rows 0-2 x cols 0-2; (0,1): rows 0-2 x cols 2-3; ...
    assert tree.sizes == (25, 4, 1)
    assert np.diff(tree.starts[0]).tolist() == [9, 6, 6, 4]
    assert tree.window(0, 1).size == 6
    first = tree.leaves[tree.window(0, 0)].tolist()
    assert first == [0, 1, 2, 4, 5, 6, 8, 9, 10]
    assert tree.leaves[tree.window(0, 3)].tolist() == [10, 11, 14, 15]
    assert unrolled_leaf_count(arch) == 25


def test_stride_1_network_with_global_top():
    """The papers' overlapping networks: stride 1, windows of 2, then global pooling."""
    arch = Architecture(shape=(4,), channels=2, layers=[Layer(3, 2, 1), Layer(3)])
    assert nested(pooling_tree(arch)) == [[0, 1], [1, 2], [2, 3], [3]]
    assert [lv["windows"] for lv in iter_levels(arch)] == [4, 1]


def test_order_maps_the_copies():
    arch = Architecture(
        shape=(4,), channels=2, layers=[Layer(2, 2, 1), Layer(2)], order=[3, 2, 1, 0]
    )
    assert nested(pooling_tree(arch)) == [[3, 2], [2, 1], [1, 0], [0]]
    assert copies_per_input(arch) == (2, 2, 2, 1)


@pytest.mark.parametrize(
    "layers",
    [
        [Layer(3, 2), Layer(5, 2), Layer(7)],
        [Layer(3, 2, 2), Layer(5, 2, 2), Layer(7)],
        [Layer(3, 2, 2), Layer(5, 2), Layer(7, 2, 2)],
    ],
)
def test_stride_equal_to_window_is_todays_network(layers):
    old = Architecture(shape=(8,), channels=2, layers=[Layer(3, 2), Layer(5, 2), Layer(7)])
    new = Architecture(shape=(8,), channels=2, layers=layers)
    assert not new.overlapping
    t0, t1 = pooling_tree(old), pooling_tree(new)
    assert t1.positions is None and t1.grids == t0.grids
    assert all(np.array_equal(a, b) for a, b in zip(t0.parents, t1.parents))
    masks = all_masks(8)
    r0, r1 = bounds_many(old, masks), bounds_many(new, masks)
    assert r0.to_records("exact") == r1.to_records("exact")
    for m in masks[::17]:
        assert bounds(old, m).to_dict() == bounds(new, m).to_dict()
    assert [cost(old, k) for k in wd.spec.COST_MODELS] == [
        cost(new, k) for k in wd.spec.COST_MODELS
    ]


def test_overlap_that_shares_no_position_keeps_the_lower_bound():
    """A window of 3 with stride 2 on a grid of 2 reads both positions once: no input is
    copied, the tree is today's, and Theorem 2's lower bound applies."""
    plain = Architecture(shape=(8,), channels=3, layers=[Layer(3, 2), Layer(5, 2), Layer(7)])
    wide = Architecture(shape=(8,), channels=3, layers=[Layer(3, 2), Layer(5, 2), Layer(7, 3, 2)])
    assert wide.overlapping and not wide.duplicated and HAND.duplicated
    assert nested(pooling_tree(wide)) == nested(pooling_tree(plain))
    masks = all_masks(8)
    assert bounds_many(wide, masks).to_records("exact") == bounds_many(plain, masks).to_records(
        "exact"
    )
    for m in masks[::23]:
        a, b = bounds(wide, m), bounds(plain, m)
        assert (a.upper_bound, a.lower_bound, a.exact) == (b.upper_bound, b.lower_bound, b.exact)


# -- min cuts: hand values, brute force on an independent graph --------------------------------


@pytest.mark.parametrize(
    "partition, value, formula",
    [("left-right", 4, "r0^2"), ("even-odd", 32, "M^5"), ("0-1", 2, "r0")],
)
def test_hand_min_cuts(partition, value, formula):
    b = bounds(HAND, partition)
    assert (b.upper_bound, b.lower_bound, b.lower_base, b.exact) == (value, None, None, False)
    assert b.log2_lower_bound is None
    assert b.cut.value == value == math.prod(c["dim"] for c in b.certificate)
    assert b.cut.formula(3) == formula
    check_certificate(HAND, b.partition.mask, b.cut)


def test_without_overlaps_left_right_is_2():
    arch = Architecture(shape=(8,), channels=2, layers=[Layer(2, 2)] * 3)
    assert bounds(arch, "left-right").upper_bound == 2
    assert bounds(HAND, "left-right").upper_bound == 4


def graph_of(tree: list, m: int, widths: tuple[int, ...]) -> nx.Graph:
    """The tensor network of a nested-list tree with repeated leaves, built here: every leaf
    copy has its own conv node, joined to the single terminal of its input."""
    g = nx.Graph()
    count = itertools.count()

    def visit(node, level):  # returns the conv node above ``node`` at ``level``
        conv = ("conv", next(count))
        g.add_node(conv, kind="conv")
        if isinstance(node, int):
            g.add_node(("input", node), kind="input")
            g.add_edge(("input", node), conv, dim=m)
            return conv
        delta = ("delta", next(count))
        g.add_node(delta, kind="delta")
        g.add_edge(delta, conv, dim=widths[level - 1])
        for child in node:
            g.add_edge(visit(child, level - 1), delta, dim=widths[level - 1])
        return conv

    top = visit(tree, len(widths))
    g.nodes[top]["kind"] = "output"
    return g


@pytest.mark.parametrize(
    "shape, layers, tree",
    [
        ((4,), [Layer(3, 3, 2), Layer(2)], [[0, 1, 2], [2, 3]]),
        ((4,), [Layer(2, 2, 1), Layer(3)], [[0, 1], [1, 2], [2, 3], [3]]),
        ((6,), [Layer(2, 3, 2), Layer(5)], [[0, 1, 2], [2, 3, 4], [4, 5]]),
        ((4,), [Layer(2, 3, 1), Layer(2)], [[0, 1, 2], [1, 2, 3], [2, 3], [3]]),
        ((4,), [Layer(2, 2, 1), Layer(3, 2, 2), Layer(2)], [[[0, 1], [1, 2]], [[2, 3], [3]]]),
    ],
)
def test_dp_equals_brute_force_on_hand_written_trees(shape, layers, tree):
    """The unrolled tree as written by hand, its network built here, every side of every
    conv node tried."""
    arch = Architecture(shape=shape, channels=2, layers=layers)
    assert nested(pooling_tree(arch)) == tree
    g = graph_of(tree, 2, arch.require_widths())
    for mask in all_masks(arch.num_inputs):
        a = {("input", int(i)) for i in np.flatnonzero(mask)}
        assert min_cut(arch, mask).value == brute_force_cut(g, a)


def random_overlapping(rng: random.Random, max_copies: int = 40) -> Architecture:
    """A small random overlapping spec (1-D or 2-D), some layers 'window' convolutions."""
    while True:
        dim = rng.choice([1, 1, 2])
        depth = rng.randint(1, 3)
        layers, grid = [], []
        strides = [[rng.choice([1, 2]) for _ in range(dim)] for _ in range(depth - 1)]
        size = [1] * dim
        for st in reversed(strides):
            size = [s * t for s, t in zip(size, st)]
        top = [rng.choice([1, 2]) for _ in range(dim)]
        shape = [s * t for s, t in zip(size, top)]
        grid = list(shape)
        for st in strides:
            pool = [s + rng.choice([0, 1]) for s in st]
            layers.append(Layer(rng.choice([1, 2, 3, 4]), pool, st, rng.choice(["1x1", "window"])))
            grid = [g // s for g, s in zip(grid, st)]
        layers.append(Layer(rng.choice([1, 2, 3, 4])))
        m = rng.choice([1, 2, 2, 3])
        arch = Architecture(shape=tuple(shape), channels=m, layers=layers)
        if arch.overlapping and arch.num_inputs >= 2 and unrolled_leaf_count(arch) <= max_copies:
            return arch


def test_random_specs_methods_batch_and_certificates_agree():
    rng = random.Random(17)
    for _ in range(40):
        arch = random_overlapping(rng)
        n = arch.num_inputs
        masks = (
            all_masks(n)
            if n <= 8
            else np.array([np.array([rng.random() < 0.5 for _ in range(n)]) for _ in range(30)])
        )
        masks = masks[(masks.sum(1) > 0) & (masks.sum(1) < n)]
        res = bounds_many(arch, masks)
        if arch.duplicated:  # else: no input is read twice, Theorem 2 applies
            assert not res.exact.any() and res.lower_bound(0) is None
        for i, mask in enumerate(masks[:12]):
            cut = min_cut(arch, mask)
            assert res.upper_bound(i) == cut.value
            check_certificate(arch, mask, cut)
            for method in ("ortools", "networkx"):
                assert min_cut(arch, mask, method=method).value == cut.value
            items = describe_cut(arch, cut)  # also without duplicates
            assert math.prod(x["dim"] for x in items) == cut.value
            paths = [(x["layer"], tuple(map(tuple, x["path"]))) for x in items]
            assert len(set(paths)) == len(paths)  # every cut copy is named once


# -- exact ranks on templates ------------------------------------------------------------------


def test_hand_ranks():
    assert verify_rank(HAND, "left-right") == 4
    assert verify_rank(HAND, "even-odd") == 24  # min cut 32: not tight with overlaps
    arch = Architecture(shape=(8,), channels=2, layers=[Layer(2, 2)] * 3)
    assert verify_rank(arch, "left-right") == 2
    assert template_counts(HAND) == (2, 2, 3, 2, 4, 3, 4, 2)


def test_m_templates_per_input_would_undercount():
    """With duplicates, M templates per input do not determine the polynomial: the rank
    on M templates falls below the rank on C(M + k_i - 1, k_i) templates."""
    ranks = [template_rank(HAND, [0, 2, 4, 6], seed=s) for s in range(2)]
    few = [template_rank(HAND, [0, 2, 4, 6], seed=s, counts=(2,) * 8) for s in range(2)]
    assert max(ranks) == 24 and max(few) < 24


@pytest.mark.parametrize("seed", range(3))
def test_templates_agree_with_the_grid_tensor_without_overlaps(seed):
    rng = np.random.default_rng(seed)
    arch = Architecture(shape=(4, 4), channels=2, layers=[Layer(3, (2, 2)), Layer(2, (2, 2))])
    for _ in range(4):
        side = sorted(rng.choice(16, size=int(rng.integers(1, 16)), replace=False).tolist())
        assert template_rank(arch, side) == verify_rank(arch, ",".join(map(str, side)), seeds=1)


#: rank <= min cut on random small overlapping networks; the cases where they differ are
#: counted (and printed with -s), and how many of them the polynomial bound explains.
ORACLE_CASES = 200


def test_rank_never_exceeds_the_min_cut_on_random_cases(capsys):
    """Also rank <= prod_{i in A} C(M + k_i - 1, k_i) (and the same over B): f is a
    polynomial of degree k_i in input i's M channels, so its matricization has at most that
    many rows. That bound is below the min cut in most cases where the min cut is not
    reached (duplicates carry the same vector)."""
    rng = random.Random(2019)
    compared = strict = explained = 0
    for _ in range(ORACLE_CASES):
        arch = random_overlapping(rng, max_copies=40)
        n = arch.num_inputs
        try:
            check_size(arch)
        except wd.VerifyError:
            continue
        side = sorted(rng.sample(range(n), rng.randint(1, n - 1)))
        upper = bounds(arch, side).upper_bound
        rank = verify_rank(arch, side, seeds=2)
        t = template_counts(arch)
        poly = min(
            math.prod(t[i] for i in side), math.prod(t[i] for i in range(n) if i not in side)
        )
        assert 1 <= rank <= min(upper, poly), (to_dict(arch), side, rank, upper, poly)
        compared += 1
        strict += rank < upper
        explained += rank < upper and rank == min(upper, poly)
    with capsys.disabled():
        print(
            f"\n[overlaps] rank vs min cut: {compared} cases, rank < min cut in {strict}, "
            f"of which rank = the polynomial bound in {explained}"
        )
    assert compared >= 150 and strict > 0


# -- spec, costs, inspect ----------------------------------------------------------------------


OVERLAP_TOML = """
name = "o"
[input]
shape = [8, 8]
channels = 2
[[layers]]
width = 4
pool = [3, 3]
stride = [2, 2]
[[layers]]
width = 4
pool = [3, 3]
stride = [2, 2]
conv = "window"
[[layers]]
width = 4
[output]
classes = 10
"""


def test_spec_round_trips_and_costs():
    arch = loads(OVERLAP_TOML)
    assert arch.strides == ((2, 2), (2, 2), (2, 2)) and arch.overlapping
    assert [layer.conv for layer in arch.layers] == ["1x1", "window", "1x1"]
    assert loads(dumps(arch)) == arch and from_dict(to_dict(arch)) == arch
    assert loads(dumps(arch, "json"), "json") == arch
    # params: 2*4 + 9*4*4 (an offset matrix per window offset) + 4*4 + 4*10
    assert cost_coefficients(arch, "params") == (1, 9, 1)
    assert cost(arch) == 8 + 144 + 16 + 40
    # unshared: 64 positions; window-member pairs along an axis of 4: 3 + 2, squared
    assert cost_coefficients(arch, "params-unshared") == (64, 25, 4)
    assert cost(arch, "macs") == 64 * 8 + 25 * 16 + 4 * 16 + 40


def test_window_conv_without_overlap_keeps_the_tree_and_changes_params():
    arch = Architecture(shape=(4,), channels=2, layers=[Layer(3, 2, None, "window"), Layer(5)])
    assert not arch.overlapping
    assert cost(arch) == 2 * 2 * 3 + 3 * 5 + 5
    assert cost(arch, "macs") == cost(
        Architecture(shape=(4,), channels=2, layers=[Layer(3, 2), Layer(5)]), "macs"
    )


def test_inspect_json_of_an_overlapping_spec(tmp_path):
    p = tmp_path / "o.toml"
    p.write_text(OVERLAP_TOML)
    out = CliRunner().invoke(main, ["inspect", str(p), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert [lv["copies"] for lv in data["layers"]] == [196, 25, 4]
    assert [lv["positions"] for lv in data["layers"]] == [64, 16, 4]
    assert data["layers"][1]["stride"] == [2, 2] and data["layers"][1]["conv"] == "window"
    assert data["costs"]["params"] == 208
    table = CliRunner().invoke(main, ["inspect", str(p)]).output
    assert "copies" in table and "window" in table


# -- bad input ---------------------------------------------------------------------------------


def _spec(layers, shape=(8,), tree=None) -> str:
    data = {"input": {"shape": list(shape), "channels": 2}, "layers": layers}
    if tree is not None:
        data["tree"] = tree
        del data["input"]["shape"]
    return json.dumps(data)


BAD = [
    (
        [{"width": 2, "pool": [3], "stride": [0]}, {"width": 2}],
        "layers[0].stride = [0]: expected a list of 1 positive integers (one per axis of the grid [8])",
    ),
    (
        [{"width": 2, "pool": [2], "stride": [4]}, {"width": 2}],
        "layers[0].stride = [4]: expected at most the window [2] along every axis "
        "(a larger stride skips inputs)",
    ),
    (
        [{"width": 2, "pool": [3], "stride": [3]}, {"width": 2}],
        "layers[0].stride = [3]: expected a stride that divides the grid [8]",
    ),
    (
        [{"width": 2, "pool": [3], "stride": [2]}, {"width": 2, "stride": [2]}],
        "layers[1].stride = [2]: expected no stride on a layer that pools globally (no pool); "
        "give a pool with it",
    ),
    (
        [{"width": 2, "pool": [3], "stride": [2, 1]}, {"width": 2}],
        "layers[0].stride = [2, 1]: expected a list of 1 positive integers "
        "(one per axis of the grid [8])",
    ),
    (
        [{"width": 2, "pool": [3], "stride": [2], "conv": "3x3"}, {"width": 2}],
        "layers[0].conv = '3x3': expected '1x1' or 'window'",
    ),
    (
        [{"width": 2, "pool": [3], "stride": [2]}, {"width": 2, "pool": [3], "stride": [2]}],
        "layers[1].pool = [3]: expected a window that reduces the grid [4] to a single "
        "position (the last layer pools globally)",
    ),
    (
        [{"width": 2, "pool": [3], "stride": "2"}, {"width": 2}],
        "layers[0].stride = '2': expected a list of positive integers",
    ),
]


@pytest.mark.parametrize("layers, message", BAD)
def test_bad_strides_are_one_error_line(tmp_path, layers, message):
    p = tmp_path / "bad.json"
    p.write_text(_spec(layers))
    out = CliRunner().invoke(main, ["inspect", str(p)])
    assert out.exit_code == 1
    assert out.output == f"Error: {message}\n"


@pytest.mark.parametrize(
    "layer, message",
    [
        (
            {"width": 2, "stride": [1]},
            "layers[0].stride = [1]: expected no stride when a tree is given "
            "(overlapping windows need a grid spec with pool)",
        ),
        (
            {"width": 2, "conv": "window"},
            "layers[0].conv = 'window': expected '1x1' when a tree is given "
            "(conv = 'window' needs a grid spec with pool)",
        ),
    ],
)
def test_overlaps_with_an_explicit_tree_are_refused(tmp_path, layer, message):
    p = tmp_path / "tree.json"
    p.write_text(_spec([layer, {"width": 2}], tree=[[0, 1], [2, 3]]))
    out = CliRunner().invoke(main, ["cut", str(p), "-p", "0,1"])
    assert (out.exit_code, out.output) == (1, f"Error: {message}\n")


def test_too_many_copies_is_refused():
    huge = Architecture(shape=(32,), channels=2, layers=[Layer(2, 2, 1)] * 31 + [Layer(2)])
    assert unrolled_leaf_count(huge) > wd.spec.MAX_UNROLLED_LEAVES
    with pytest.raises(
        wd.SpecError, match="an overlapping network of at most 16777216 input copies"
    ):
        pooling_tree(huge)


def test_verify_refuses_too_many_templates():
    arch = Architecture(shape=(16,), channels=3, layers=[Layer(2, 2, 1)] * 3 + [Layer(2)])
    with pytest.raises(wd.VerifyError, match="templates per input"):
        verify_rank(arch, "left-right")


# -- CLI ---------------------------------------------------------------------------------------


def test_cut_cli_json_has_null_lower_bounds_and_the_copies():
    out = CliRunner().invoke(
        main, ["cut", "examples/overlap_1d_n8.toml", "-p", "even-odd", "--json"]
    )
    assert out.exit_code == 0, out.output
    (rec,) = json.loads(out.output)
    assert (rec["upper_bound"], rec["lower_bound"], rec["exact"]) == (32, None, False)
    assert (rec["log2_lower_bound"], rec["lower_base"]) == (None, None)
    assert [c["input"] for c in rec["cut"]["copies"]] == [1, 3, 5, 5, 7]
    assert [c["path"] for c in rec["cut"]["copies"]][2:4] == [[[0], [2], [5]], [[1], [2], [5]]]


def test_cut_cli_table_names_the_copies():
    out = CliRunner().invoke(main, ["cut", "examples/overlap_1d_n8.toml", "-p", "even-odd"])
    assert out.exit_code == 0
    assert "  even-odd: M at inputs 1, 3, 5 x2, 7" in out.output
    assert "even-odd   32     -      no" in out.output


def test_verify_cli_on_the_hand_example():
    out = CliRunner().invoke(
        main,
        ["verify", "examples/overlap_1d_n8.toml", "-p", "left-right", "-p", "even-odd", "--json"],
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert [(r["upper_bound"], r["rank"]) for r in data] == [(4, 4), (32, 24)]


# -- recommend and report ----------------------------------------------------------------------


def test_recommend_runs_on_an_overlapping_spec():
    args = ["recommend", "examples/overlap_1d_n8.toml", "--budget", "200", "--favor", "global"]
    out = CliRunner().invoke(main, [*args, "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    (part,) = data["partitions"]
    assert (part["partition"], part["lower_bound"]) == ("left-right", None)
    # the objective's bound is the exact min cut of the unrolled tree at the chosen widths
    chosen = HAND.with_widths(data["widths"])
    assert part["upper_bound"] == bounds(chosen, "left-right").upper_bound
    assert data["cost"] == cost(chosen) <= 200
    assert CliRunner().invoke(main, args).exit_code == 0


def test_report_writes_figures_for_an_overlapping_spec(tmp_path):
    out = CliRunner().invoke(
        main, ["report", "examples/overlap_1d_n8.toml", "--out", str(tmp_path / "rep")]
    )
    assert out.exit_code == 0, out.output
    names = sorted(p.name for p in (tmp_path / "rep").iterdir())
    assert "network-01-left-right.png" in names and "interaction.png" in names
    summary = (tmp_path / "rep" / "summary.md").read_text()
    assert "| left-right | spec | 4 | - | no |" in summary


def test_report_of_a_large_overlapping_spec_has_no_cut_map(tmp_path):
    """Past 256 inputs the network figure is collapsed per level (counts of copies); the cut
    map (windows outlined on the grid) is not drawn for input copies: the partition is."""
    layers = [{"width": 4, "pool": [3, 3], "stride": [2, 2]}] * 5
    p = tmp_path / "o32.json"
    p.write_text(json.dumps({"input": {"shape": [32, 32], "channels": 2}, "layers": layers}))
    out = CliRunner().invoke(
        main, ["report", str(p), "-p", "left-right", "--out", str(tmp_path / "rep")]
    )
    assert out.exit_code == 0, out.output
    names = sorted(q.name for q in (tmp_path / "rep").iterdir())
    assert "network-01-left-right.png" in names and "partition-01-left-right.png" in names
    assert not any(n.startswith("cutmap") for n in names)


@pytest.mark.parametrize("model", ["params", "macs"])
def test_recommend_costs_window_convolutions_like_spec_cost(model):
    """The 2-D example has a conv = "window" layer: the optimizer's chain costs it with the
    same per-layer coefficients as spec.cost."""
    spec_path = "examples/overlap_2d_8x8.toml"
    args = ["recommend", spec_path, "--budget", "6000", "--cost", model, "--favor", "local"]
    out = CliRunner().invoke(main, [*args, "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    chosen = wd.load(spec_path).with_widths(data["widths"])
    assert data["cost"] == cost(chosen, model) <= 6000
    for part in data["partitions"]:
        assert part["upper_bound"] == bounds(chosen, part["partition"]).upper_bound


@pytest.mark.parametrize(
    "shape, layers",
    [
        # non-overlapping bottom levels (folded into lookup tables), overlapping above
        ((16,), [Layer(3, 2), Layer(5, 2), Layer(2, 3, 2), Layer(7)]),
        ((8, 8), [Layer(3, (2, 2)), Layer(5, (3, 3), (2, 2)), Layer(6)]),
        ((8, 8), [Layer(4, (2, 2)), Layer(4, (2, 2)), Layer(8, (3, 3), (1, 1)), Layer(4)]),
    ],
)
def test_batch_folds_plain_levels_below_overlapping_ones(shape, layers):
    arch = Architecture(shape=shape, channels=3, layers=layers)
    assert arch.duplicated
    rng = np.random.default_rng(5)
    n = arch.num_inputs
    masks = rng.random((40, n)) < 0.5
    masks[:, 0], masks[:, 1] = True, False
    res = bounds_many(arch, masks)
    for i, m in enumerate(masks):
        assert res.upper_bound(i) == min_cut(arch, m).value
        assert res.lower_bound(i) is None
