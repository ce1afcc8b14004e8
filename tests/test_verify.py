"""The verifier (exact ranks over a prime field) against the bounds and known ranks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from strategies import arch_and_mask, overlapping_and_mask

import widthdesign as wd
from widthdesign.verify import PRIME, check_size, grid_tensor, matricize, rank_mod_p


@settings(max_examples=150, deadline=None)
@given(am=arch_and_mask(max_entries=1 << 14))
def test_rank_within_bounds(am):
    arch, mask = am
    b = wd.bounds(arch, mask)
    rank = wd.verify(arch, mask)
    assert b.lower_bound <= rank <= b.upper_bound


@settings(max_examples=100, deadline=None)
@given(am=arch_and_mask(max_entries=1 << 14, powers_of=2))
def test_rank_meets_bound_for_powers_of_two(am):
    arch, mask = am
    assert wd.verify(arch, mask) == wd.bounds(arch, mask).upper_bound


@settings(max_examples=60, deadline=None)
@given(am=arch_and_mask(max_entries=1 << 14, powers_of=3))
def test_rank_meets_bound_for_powers_of_three(am):
    arch, mask = am
    assert wd.verify(arch, mask) == wd.bounds(arch, mask).upper_bound


def test_weight_sharing_example():
    """THEORY.md: N=8, windows 2, M=2, widths (4,4,4), shared, A={0,1}: rank 3, cut 4."""
    layers = [wd.Layer(4, 2), wd.Layer(4, 2), wd.Layer(4)]
    arch = wd.Architecture(shape=(8,), channels=2, layers=layers)
    assert wd.bounds(arch, "0,1").upper_bound == 4
    assert wd.verify(arch, "0,1", shared=True) == 3
    assert wd.verify(arch, "0,1", shared=False) == 4


def test_gap_example_rank():
    """THEORY.md: N=16, windows 4 then 4, M=2, widths (3,2): generic rank 21 < min cut 24."""
    layers = [wd.Layer(3, 4), wd.Layer(2)]
    arch = wd.Architecture(shape=(16,), channels=2, layers=layers)
    part = "3,4,5,6,7,8,14,15"
    assert wd.verify(arch, part) == 21
    b = wd.bounds(arch, part)
    assert b.lower_bound <= 21 < b.upper_bound == 24
    # the rounded network behind the lower bound has rank exactly its min cut
    assert wd.verify(arch.with_widths((2, 2)), part) == 8 == b.lower_bound


def test_grid_tensor_of_a_shallow_net_is_a_sum_of_r0_products():
    """One hidden layer, global pooling: A = sum_c w_c * outer_i W_i[c]; check by hand."""
    arch = wd.Architecture(shape=(3,), channels=2, layers=[wd.Layer(2)])
    t = grid_tensor(arch, seed=5)
    rng = np.random.default_rng(5)
    w = rng.integers(0, PRIME, size=(3, 2, 2), dtype=np.int64)
    out = rng.integers(0, PRIME, size=(1, 2), dtype=np.int64)[0]
    expect = np.zeros((2, 2, 2), dtype=object)
    for c in range(2):
        expect += int(out[c]) * np.einsum("i,j,k->ijk", *(w[s, c].astype(object) for s in range(3)))
    assert (t.astype(object) == expect % PRIME).all()


def test_permuted_order_moves_modes():
    """Slot s holds input order[s]: the grid tensor's modes follow the inputs, not the slots."""
    base = wd.Architecture(shape=(4,), channels=2, layers=[wd.Layer(2, 2), wd.Layer(2)])
    mirror = wd.Architecture(
        shape=(4,), channels=2, layers=[wd.Layer(2, 2), wd.Layer(2)], order=(0, 3, 1, 2)
    )
    # same random weights in slot order: the mirror tensor is the base one with modes permuted
    t0, t1 = grid_tensor(base, seed=1), grid_tensor(mirror, seed=1)
    assert (np.transpose(t0, (0, 2, 3, 1)) == t1).all()
    # a window's pair is short-range for its own geometry, long-range for the other
    assert wd.verify(base, "0,1") == 2 == wd.verify(mirror, "0,3")
    assert wd.verify(base, "0,2") == 4 == wd.verify(mirror, "0,1")


@pytest.mark.parametrize(
    "mat, rank",
    [
        ([[1, 2], [2, 4]], 1),
        ([[1, 0], [0, 1]], 2),
        ([[PRIME, 0], [0, 0]], 0),
        ([[1, 1, 1], [1, 2, 3], [1, 4, 9], [2, 3, 4]], 3),
    ],
)
def test_rank_mod_p(mat, rank):
    assert rank_mod_p(np.array(mat)) == rank


def test_matricize_rows_are_side_a():
    t = np.arange(8).reshape(2, 2, 2)
    assert matricize(t, [1]).tolist() == [[0, 1, 4, 5], [2, 3, 6, 7]]


def test_refuses_huge_grid_tensors():
    arch = wd.Architecture(shape=(64,), channels=2, layers=[wd.Layer(2, 8), wd.Layer(2)])
    with pytest.raises(wd.VerifyError, match=r"M\^N = 2\^64"):
        wd.verify(arch, "left-right")


@settings(max_examples=30, deadline=None)
@given(am=overlapping_and_mask(max_copies=24))
def test_overlapping_rank_is_at_most_the_min_cut(am):
    """Exact ranks on C(M + k_i - 1, k_i) templates per input never exceed the min cut of
    the unrolled tree; shared weights can only lower them."""
    arch, mask = am
    try:
        check_size(arch)
    except wd.VerifyError:
        return
    upper = wd.bounds(arch, mask).upper_bound
    rank = wd.verify(arch, mask, seeds=1)
    shared = wd.verify(arch, mask, seeds=1, shared=True)
    assert 1 <= shared <= upper and 1 <= rank <= upper
