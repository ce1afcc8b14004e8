"""Partition specs: families on 1-D, 2-D and N-D grids, mask files and errors."""

from __future__ import annotations

import numpy as np
import pytest

import widthdesign as wd
from widthdesign.partitions import read_masks


def grid(*shape):
    return wd.Architecture(shape=shape, channels=2, layers=[wd.Layer(2)])


@pytest.mark.parametrize(
    "shape, spec, side_a",
    [
        ((8,), "left-right", [0, 1, 2, 3]),
        ((8,), "even-odd", [0, 2, 4, 6]),
        ((8,), "blocks:3", [0, 1, 2, 6, 7]),
        ((8,), "checkerboard", [0, 2, 4, 6]),
        ((8,), "0-2,5", [0, 1, 2, 5]),
        ((8,), " 7, 1 ", [1, 7]),
        ((2, 4), "left-right", [0, 1, 4, 5]),
        ((2, 4), "top-bottom", [0, 1, 2, 3]),
        ((4, 4), "checkerboard", [0, 2, 5, 7, 8, 10, 13, 15]),
        ((4, 4), "checkerboard:2", [0, 1, 4, 5, 10, 11, 14, 15]),
        ((2, 2, 2), "checkerboard", [0, 3, 5, 6]),
        ((2, 2, 2), "top-bottom", [0, 1, 2, 3]),
        ((2, 2, 2), "left-right", [0, 2, 4, 6]),
    ],
)
def test_families(shape, spec, side_a):
    assert list(wd.parse_partition(spec, grid(*shape)).side_a) == side_a


def test_random_is_reproducible_and_sized():
    arch = grid(10, 10)
    a = wd.parse_partition("random:7", arch)
    assert a == wd.parse_partition("random:7", arch)
    assert len(a.side_a) == 50
    assert len(wd.parse_partition("random:7:0.25", arch).side_a) == 25
    assert a.side_a != wd.parse_partition("random:8", arch).side_a


@pytest.mark.parametrize(
    "spec, message",
    [
        ("0,8", "index 8 out of range; expected 0..7"),
        ("1,1", "index 1 listed twice"),
        ("0-7", "side B is empty"),
        ("left", "unknown; expected indices like 0,3,5"),
        ("top-bottom", "needs a grid of rank 2 or more"),
        ("blocks:0", "block size '0' is not a positive integer"),
        ("blocks:x", "block size 'x' is not a positive integer"),
        ("random:1:1.5", "fraction '1.5' not in (0, 1)"),
        ("5-3", "range '5-3' is decreasing"),
        ("left-right:2", "takes no argument"),
        ("", "expected indices, a family name or a mask file"),
        ("missing.npy", "not found"),
    ],
)
def test_partition_errors(spec, message):
    with pytest.raises(wd.PartitionError) as info:
        wd.parse_partition(spec, grid(8))
    assert message in str(info.value)


def test_even_odd_needs_1d():
    with pytest.raises(wd.PartitionError, match="needs a 1-D grid"):
        wd.parse_partition("even-odd", grid(2, 4))


def test_mask_files(tmp_path):
    arch = grid(2, 4)
    mask = np.array([[1, 1, 0, 0], [1, 0, 0, 0]], dtype=bool)
    np.save(tmp_path / "m.npy", mask)
    (tmp_path / "m.txt").write_text("1 1 0 0\n1 0 0 0\n")
    (tmp_path / "flat.txt").write_text("11001000\n")
    for name in ("m.npy", "m.txt", "flat.txt"):
        assert wd.parse_partition(str(tmp_path / name), arch).side_a == (0, 1, 4)
    np.save(tmp_path / "many.npy", np.stack([mask, ~mask]))
    assert read_masks(str(tmp_path / "many.npy"), (2, 4)).shape == (2, 8)
    with pytest.raises(wd.PartitionError, match="holds 2 masks"):
        wd.parse_partition(str(tmp_path / "many.npy"), arch)
    np.save(tmp_path / "wrong.npy", np.ones((3,), dtype=bool))
    with pytest.raises(wd.PartitionError, match=r"shape \[3\]; expected \[2, 4\]"):
        wd.parse_partition(str(tmp_path / "wrong.npy"), arch)
    (tmp_path / "bad.txt").write_text("1 2 0 0\n")
    with pytest.raises(wd.PartitionError, match="is not 0/1 values"):
        wd.parse_partition(str(tmp_path / "bad.txt"), arch)


def test_bounds_accept_indices_masks_and_partitions():
    arch = wd.Architecture(shape=(4,), channels=2, layers=[wd.Layer(3, 2), wd.Layer(5)])
    p = wd.parse_partition("0,2", arch)
    values = {
        wd.bounds(arch, x).upper_bound
        for x in ("0,2", [0, 2], np.array([True, False, True, False]), p)
    }
    assert values == {4}
    with pytest.raises(wd.PartitionError, match="has 8 inputs; expected 4"):
        wd.bounds(arch, wd.parse_partition("0", grid(8)))
