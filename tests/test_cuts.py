"""The min-cut engine against closed forms, brute force, max-flow and its own certificates."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import brute_force_cut, check_certificate
from strategies import arch_and_mask, overlapping_and_mask

import widthdesign as wd
from widthdesign.cuts import lower_bound, lower_bound_bases
from widthdesign.network import build_network


def chain(n: int, m: int, widths, window: int = 2) -> wd.Architecture:
    """1-D network of ``n`` inputs, windows of ``window``, the last layer global."""
    layers = [wd.Layer(w, window) for w in widths[:-1]] + [wd.Layer(widths[-1])]
    return wd.Architecture(shape=(n,), channels=m, layers=layers)


def left_right_closed_form(m: int, widths) -> int:
    """THEORY.md 4: min(r_{L-1}, r_{L-2}, r_{L-3}^2, ..., r_0^(N/4), M^(N/2)), N = 2^L."""
    depth = len(widths)
    n = 2**depth
    terms = [widths[-1]] + [widths[i] ** (2 ** (depth - 2 - i)) for i in range(depth - 1)]
    return min(terms + [m ** (n // 2)])


# -- closed forms ---------------------------------------------------------------------------

widths_lists = st.integers(1, 10).flatmap(
    lambda depth: st.lists(st.integers(1, 40), min_size=depth, max_size=depth)
)


@settings(max_examples=60, deadline=None)
@given(widths=widths_lists, m=st.integers(1, 6))
def test_left_right_closed_form(widths, m):
    arch = chain(2 ** len(widths), m, widths)
    assert wd.bounds(arch, "left-right").upper_bound == left_right_closed_form(m, widths)


@settings(max_examples=60, deadline=None)
@given(widths=widths_lists, m=st.integers(1, 6))
def test_even_odd_closed_form(widths, m):
    n = 2 ** len(widths)
    arch = chain(n, m, widths)
    assert wd.bounds(arch, "even-odd").upper_bound == min(m, widths[0]) ** (n // 2)


@settings(max_examples=40, deadline=None)
@given(levels=st.integers(1, 5), m=st.integers(1, 5), data=st.data())
def test_checkerboard_2d_closed_form(levels, m, data):
    widths = data.draw(st.lists(st.integers(1, 30), min_size=levels, max_size=levels))
    side = 2**levels
    layers = [wd.Layer(w, (2, 2)) for w in widths]
    arch = wd.Architecture(shape=(side, side), channels=m, layers=layers)
    n = side * side
    assert wd.bounds(arch, "checkerboard").upper_bound == min(widths[0], m**2) ** (n // 4)


@pytest.mark.parametrize("n", [2, 3, 5, 8, 12])
@pytest.mark.parametrize("r0", [1, 2, 3, 7, 100])
@pytest.mark.parametrize("m", [2, 3])
def test_shallow_closed_form(n, r0, m):
    arch = wd.Architecture(shape=(n,), channels=m, layers=[wd.Layer(r0)])
    for size_a in range(1, n):
        b = wd.bounds(arch, ",".join(map(str, range(size_a))))
        assert b.upper_bound == min(r0, m ** min(size_a, n - size_a))


@settings(max_examples=40, deadline=None)
@given(depth=st.integers(3, 9), k_log=st.integers(0, 3), data=st.data())
def test_blocks_depend_only_on_early_widths(depth, k_log, data):
    k = 2**k_log
    if 2 * k > 2**depth:
        k = 2 ** (depth - 1)
    widths = data.draw(st.lists(st.integers(1, 20), min_size=depth, max_size=depth))
    other = data.draw(st.lists(st.integers(1, 20), min_size=depth, max_size=depth))
    keep = math.ceil(math.log2(k)) + 1  # r_0 .. r_ceil(log2 k)
    mixed = widths[:keep] + other[keep:]
    n = 2**depth
    a = wd.bounds(chain(n, 3, widths), f"blocks:{k}").upper_bound
    b = wd.bounds(chain(n, 3, mixed), f"blocks:{k}").upper_bound
    if 2 * k < n:  # with two blocks the partition is left-right and the top matters
        assert a == b


# -- published and THEORY.md examples -------------------------------------------------------


def test_gap_example_bounds():
    """THEORY.md: N=16, windows 4 then 4, M=2, widths (3, 2): min cut 24, generic rank 21."""
    arch = chain(16, 2, (3, 2), window=4)
    b = wd.bounds(arch, "3-8,14,15")
    assert b.upper_bound == 24
    # Theorem 2 with p = 2 rounds (2, 3, 2) to (2, 2, 2), whose min cut is 8 (deltas of
    # windows 0, 2 and 3, everything else on A's side): the lower bound is 8, not the 16
    # THEORY.md states; the verifier confirms the rounded network has rank 8.
    assert b.lower_bound == 8 and b.lower_base == 2
    assert not b.exact


def test_window_four_hyperedge_beats_plain_graph_cut():
    """A 2|2 split of a window of 4 costs r once, not r^2 as a plain graph cut would."""
    arch = wd.Architecture(shape=(4,), channels=4, layers=[wd.Layer(2)])
    g = build_network(arch)
    a = {("input", 0), ("input", 1)}
    assert wd.bounds(arch, "0,1").upper_bound == 2 == brute_force_cut(g, a, hyper=True)
    assert brute_force_cut(g, a, hyper=False) == 4


def test_huge_bounds_are_exact_ints():
    arch = wd.Architecture(
        shape=(64, 64), channels=10, layers=[wd.Layer(w, (2, 2)) for w in (64, 64, 32, 32, 16, 16)]
    )
    b = wd.bounds(arch, "checkerboard")
    assert isinstance(b.upper_bound, int)
    assert b.upper_bound == 64**1024  # min(r_0, M^2)^(N/4)
    assert b.exact and len(str(b.upper_bound)) > 1800
    assert b.log2_upper_bound == 6144.0


# -- strategies agree, certificates hold ----------------------------------------------------


@pytest.mark.parametrize("method", sorted(wd.CUT_METHODS))
@settings(max_examples=100, deadline=None)
@given(am=arch_and_mask(max_inputs=48))
def test_methods_agree_with_dp_and_certify(method, am):
    arch, mask = am
    dp = wd.min_cut(arch, mask, method="dp")
    other = wd.min_cut(arch, mask, method=method)
    assert other.value == dp.value
    check_certificate(arch, mask, other)


@settings(max_examples=100, deadline=None)
@given(am=arch_and_mask(max_inputs=12))
def test_dp_equals_brute_force(am):
    arch, mask = am
    g = build_network(arch)
    free = sum(1 for _, d in g.nodes(data="kind") if d in ("conv", "output"))
    if free > 14:
        return
    a = {("input", int(i)) for i in np.flatnonzero(mask)}
    assert wd.min_cut(arch, mask).value == brute_force_cut(g, a)


@settings(max_examples=80, deadline=None)
@given(am=arch_and_mask(max_inputs=12))
def test_lower_bound_is_max_over_every_base(am):
    """The candidate bases lose nothing: compare with every p from 2 to the largest dim."""
    arch, mask = am
    dims = arch.bond_dims()
    best = 1
    for p in range(2, max(dims) + 1):
        rounded = [p ** ilog(d, p) for d in dims]
        best = max(best, wd.min_cut(arch, mask, rounded).value)
    assert lower_bound(arch, mask)[0] == best
    assert set(lower_bound_bases([12])) == {12, 3, 2}


def ilog(d, p):
    k = 0
    while p ** (k + 1) <= d:
        k += 1
    return k


@settings(max_examples=100, deadline=None)
@given(am=arch_and_mask(max_inputs=48), layer=st.integers(0, 5), extra=st.integers(1, 5))
def test_bounds_monotone_in_widths(am, layer, extra):
    arch, mask = am
    layer %= arch.depth
    widths = list(arch.widths)
    widths[layer] += extra
    wider = arch.with_widths(widths)
    b, c = wd.bounds(arch, mask), wd.bounds(wider, mask)
    assert c.upper_bound >= b.upper_bound
    assert b.lower_bound <= b.upper_bound and c.lower_bound <= c.upper_bound


@settings(max_examples=100, deadline=None)
@given(am=arch_and_mask(max_inputs=48, powers_of=2))
def test_powers_of_one_integer_are_exact(am):
    arch, mask = am
    assert wd.bounds(arch, mask).exact


def test_unknown_method_is_a_typed_error():
    arch = chain(4, 2, (2, 2))
    with pytest.raises(wd.WidthDesignError, match="cut method 'nope' unknown"):
        wd.min_cut(arch, [True, False, False, False], method="nope")


# -- overlapping windows: the unrolled tree ---------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(am=overlapping_and_mask())
def test_overlapping_methods_agree_certify_and_have_no_lower_bound(am):
    arch, mask = am
    b = wd.bounds(arch, mask)
    check_certificate(arch, mask, b.cut)
    if arch.duplicated:
        assert b.lower_bound is None and b.lower_base is None and not b.exact
        assert lower_bound(arch, mask) == (None, None)
        assert math.prod(item["dim"] for item in b.certificate) == b.upper_bound
    else:  # overlapping windows that share no position: today's tree and bounds
        assert b.certificate is None and b.lower_bound <= b.upper_bound
    for method in ("ortools", "networkx"):
        other = wd.min_cut(arch, mask, method=method)
        assert other.value == b.upper_bound
        check_certificate(arch, mask, other)
    assert wd.bounds_many(arch, mask[None]).upper_bound(0) == b.upper_bound
