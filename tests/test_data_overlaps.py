"""profile and arrange on overlapping windows: receptive fields, masses against brute force."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import EXAMPLES
from test_data import brute_mass

import widthdesign as wd
from widthdesign import train
from widthdesign.cli import cli
from widthdesign.data import receptive_fields
from widthdesign.errors import SpecError

OVERLAP = str(EXAMPLES / "overlap_1d_n8.toml")  # window 3 / stride 2, three layers
# by hand: window x of layer 0 reads inputs 2x .. 2x+2 inside the grid; position 0 of
# layer 1 reads layer-0 positions 0..2, position 1 reads 2..3
FIELDS = [[{0, 1, 2}, {2, 3, 4}, {4, 5, 6}, {6, 7}], [set(range(7)), {4, 5, 6, 7}]]


def test_receptive_fields_of_the_hand_example():
    got = [[set(f) for f in layer] for layer in receptive_fields(wd.load(OVERLAP))]
    assert got == [*FIELDS, [set(range(8))]]


def test_profile_of_overlapping_windows_is_the_mass_of_each_field():
    arch = wd.load(OVERLAP)
    x = np.random.default_rng(3).normal(size=(60, 8)) @ np.random.default_rng(4).normal(size=(8, 8))
    prof = wd.profile(arch, x)
    assert [lv.nodes for lv in prof.levels] == [4, 2]
    for lv, fields in zip(prof.levels, FIELDS):
        want = [brute_mass(x, sorted(f)) for f in fields]
        np.testing.assert_allclose(lv.mass_per_node, want, rtol=1e-5)
        assert lv.capacity == wd.bounds(arch, sorted(fields[0])).upper_bound
    assert [lv.capacity for lv in prof.levels] == [4, 2]  # r0^2 = 4; input 7 alone: M = 2


def test_arrange_refuses_overlapping_windows(tmp_path):
    data = tmp_path / "x.npy"
    np.save(data, np.random.default_rng(0).normal(size=(20, 8)))
    res = CliRunner().invoke(cli, ["arrange", OVERLAP, str(data)])
    assert res.exit_code == 1
    assert res.output == (
        "Error: spec = 'overlapping windows': expected a spec whose windows do not overlap "
        "(arrange the same grid without stride)\n"
    )


def test_training_models_refuse_overlapping_windows():
    with pytest.raises(SpecError, match="non-overlapping windows"):
        train.param_count(wd.load(OVERLAP), (2, 2, 2))
