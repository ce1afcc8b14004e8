"""Specs: parsing, validation messages, the pooling tree and costs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import EXAMPLES

import widthdesign as wd
from widthdesign.spec import from_dict, iter_levels, to_dict

GRID_TOML = """
[input]
shape = [4, 4]
channels = 2
[[layers]]
width = 2
pool = [2, 2]
[[layers]]
width = 4
pool = [2, 2]
[output]
classes = 10
"""


def test_toml_and_json_are_one_schema():
    a = wd.loads(GRID_TOML)
    b = wd.loads(json.dumps(to_dict(a)), format="json")
    assert a == b
    assert a.shape == (4, 4) and a.channels == 2 and a.widths == (2, 4) and a.classes == 10
    assert wd.loads(wd.dumps(a)) == a


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")) + sorted(EXAMPLES.glob("*.json")))
def test_bundled_examples_load_and_round_trip(path):
    arch = wd.load(path)
    assert arch.has_widths
    assert wd.loads(wd.dumps(arch)) == arch


def test_levine_example_costs_match_the_paper():
    arch = wd.load(EXAMPLES / "levine_64x64.toml")
    r = 16
    assert wd.cost(arch, "params") == 31 * r * r + 50 * r == 8736


def test_costs_by_hand():
    arch = wd.Architecture(
        shape=(8,), channels=3, layers=[wd.Layer(4, 2), wd.Layer(5, 4)], classes=2
    )
    assert wd.cost(arch, "params") == 3 * 4 + 4 * 5 + 5 * 2
    assert wd.cost(arch, "params-unshared") == 8 * 3 * 4 + 4 * 4 * 5 + 5 * 2
    assert wd.cost(arch, "macs") == wd.cost(arch, "params-unshared")


def test_pooling_tree_grid():
    arch = wd.loads(GRID_TOML)
    tree = wd.pooling_tree(arch)
    assert tree.sizes == (16, 4, 1)
    assert tree.grids == ((4, 4), (2, 2), (1, 1))
    assert tree.parents[0].tolist() == [0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3]
    assert tree.window(0, 3).tolist() == [10, 11, 14, 15]


def test_pooling_tree_explicit_tree_and_order():
    tree_arch = wd.Architecture(
        shape=(8,), channels=2, layers=[4, 4, 4], tree=[[[0, 7], [1, 6]], [[2, 5], [3, 4]]]
    )
    order = (0, 7, 1, 6, 2, 5, 3, 4)
    grid_arch = wd.Architecture(
        shape=(8,), channels=2, layers=[wd.Layer(4, 2), wd.Layer(4, 2), wd.Layer(4)], order=order
    )
    a, b = wd.pooling_tree(tree_arch), wd.pooling_tree(grid_arch)
    assert a.leaves.tolist() == b.leaves.tolist() == list(order)
    assert all((x == y).all() for x, y in zip(a.parents, b.parents))
    for part in ("0-3", "even-odd", "0,7"):
        assert wd.bounds(tree_arch, part).upper_bound == wd.bounds(grid_arch, part).upper_bound


def test_tree_with_uneven_windows():
    arch = wd.Architecture(shape=(5,), channels=2, layers=[3, 3], tree=[[0, 1, 2], [3, 4]])
    tree = wd.pooling_tree(arch)
    assert tree.uniform == (None, 2)
    assert tree.sizes == (5, 2, 1)


def test_n_dimensional_grid():
    arch = wd.Architecture(
        shape=(2, 2, 2), channels=2, layers=[wd.Layer(3, (2, 1, 2)), wd.Layer(3)]
    )
    assert wd.pooling_tree(arch).grids == ((2, 2, 2), (1, 2, 1), (1, 1, 1))
    assert [lv["pool"] for lv in iter_levels(arch)] == [[2, 1, 2], [1, 2, 1]]


ERRORS = [
    (
        {
            "input": {"shape": [4], "channels": 2},
            "layers": [{"width": 2, "pool": [3]}, {"width": 2}],
        },
        "layers[0].pool = [3]: expected a window that divides the grid [4]",
    ),
    (
        {
            "input": {"shape": [4], "channels": 2},
            "layers": [{"width": 2, "pool": [2]}, {"width": 2, "pool": [1]}],
        },
        "layers[1].pool = [1]: expected a window that reduces the grid [2] to a single position",
    ),
    (
        {
            "input": {"shape": [4, 4], "channels": 2},
            "layers": [{"width": 2, "pool": [2]}, {"width": 2}],
        },
        "layers[0].pool = [2]: expected a list of 2 positive integers (one per axis of the grid [4, 4])",
    ),
    (
        {"input": {"shape": [4], "channels": 0}, "layers": [{"width": 2}]},
        "input.channels = 0: expected a positive integer (M)",
    ),
    (
        {"input": {"shape": [4], "channels": 2}, "layers": [{"width": -1}]},
        "layers[0].width = -1: expected a positive integer",
    ),
    (
        {"input": {"shape": [4], "channels": 2, "order": [0, 1, 1, 2]}, "layers": [{"width": 2}]},
        "input.order = [0, 1, 1, 2]: expected a permutation of 0..3",
    ),
    (
        {"input": {"shape": [4], "channels": 2}, "tree": [[0, 1], [2, [3]]], "layers": [2, 2]},
        "expected all leaves at the same depth",
    ),
    (
        {"input": {"shape": [4], "channels": 2}, "tree": [[0, 1], [2, 3]], "layers": [2]},
        "layers = 1: expected 2 layers, one per tree level",
    ),
    (
        {"input": {"shape": [4], "channels": 2}, "tree": [[0, 1], [2, 2]], "layers": [2, 2]},
        "expected leaves forming a permutation of 0..3",
    ),
    (
        {"input": {"shape": [4], "channels": 2}, "layer": []},
        "spec = 'layer': expected top-level keys",
    ),
    ({"input": {"shape": [4]}, "layers": [{"width": 2}]}, "input.channels = None"),
    ({"input": {"shape": [4], "channels": 2}}, "layers = None: expected a list of layers"),
    (
        {"input": {"shape": [4], "channels": 2}, "layers": [{"width": 2, "padding": 1}]},
        "layers[0] = 'padding': expected keys 'width', 'pool', 'stride', 'conv' only",
    ),
    (
        {"input": {"shape": "4", "channels": 2}, "layers": [{"width": 2}]},
        "input.shape = '4': expected a non-empty list of positive integers",
    ),
]


@pytest.mark.parametrize("data, message", ERRORS)
def test_spec_errors_name_field_value_and_expectation(data, message):
    with pytest.raises(wd.SpecError) as info:
        from_dict(data)
    assert message in str(info.value)


def test_bad_toml_is_a_spec_error(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("[input\nshape = 3")
    with pytest.raises(wd.SpecError, match="expected valid TOML"):
        wd.load(p)
    with pytest.raises(wd.SpecError, match="readable TOML or JSON file"):
        wd.load(tmp_path / "missing.toml")


def test_missing_width_is_reported_when_needed():
    arch = wd.Architecture(shape=(4,), channels=2, layers=[wd.Layer(None, 2), wd.Layer(3)])
    with pytest.raises(wd.SpecError, match=r"layers\[0\].width = None"):
        wd.bounds(arch, "left-right")


def test_dump_is_atomic_and_refuses_to_overwrite(tmp_path):
    arch = wd.loads(GRID_TOML)
    out = tmp_path / "out.toml"
    wd.dump(arch, out)
    assert wd.load(out).widths == arch.widths
    with pytest.raises(wd.SpecError, match="does not exist yet"):
        wd.dump(arch.with_widths((8, 8)), out)
    assert wd.load(out).widths == (2, 4)
    wd.dump(arch.with_widths((8, 8)), out, force=True)
    assert wd.load(out).widths == (8, 8)
    assert [p.name for p in tmp_path.iterdir()] == ["out.toml"]


def test_with_widths_keeps_geometry():
    arch = wd.loads(GRID_TOML)
    wider = arch.with_widths([7, 9])
    assert wider.widths == (7, 9) and wider.pools == arch.pools
    assert np.array_equal(wd.pooling_tree(wider).parents[0], wd.pooling_tree(arch).parents[0])


def test_written_files_get_the_usual_mode(tmp_path):
    import os

    out = tmp_path / "mode.toml"
    wd.dump(wd.loads(GRID_TOML), out)
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize(
    "layers",
    [
        [
            {"width": 2, "pool": [3], "stride": [2]},
            {"width": 3, "pool": 3, "stride": 2},
            {"width": 4},
        ],
        [{"width": 2, "pool": [2], "stride": [1], "conv": "window"}, {"width": 3}],
        [{"width": 2, "pool": [2], "stride": [2]}, {"width": 3, "conv": "window"}],
    ],
)
def test_stride_and_conv_round_trip(layers):
    data = {"input": {"shape": [8], "channels": 2}, "layers": layers, "output": {"classes": 1}}
    arch = from_dict(data)
    assert from_dict(to_dict(arch)) == arch
    assert wd.loads(wd.dumps(arch)) == arch
    assert [lv["stride"] for lv in iter_levels(arch)] == [list(s) for s in arch.strides]
