"""The Lagrangian bound of the search (issue 16): valid for every completion, and its
pairwise terms (minima over the cuts through two consecutive layers) only tighten it."""

from __future__ import annotations

import itertools
import math
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import widthdesign as wd
from widthdesign.optimize import search
from widthdesign.optimize.chain import _Chain, _ratio
from widthdesign.spec import Architecture, Layer

LINE = Architecture(shape=(16,), channels=3, layers=[Layer(4, 2)] * 3 + [Layer(4)], classes=2)
LABELS = ["blocks:1", "blocks:2", "blocks:4", "blocks:8", "even-odd", "0-5", "left-right"]


def problem(cands, budget, labels, reverse=False):
    chain = _Chain(LINE, "params", cands, budget, _ratio(2))
    designs = [w for w in itertools.product(*cands) if chain.feasible(w)]  # network order
    masks = [wd.parse_partition(label, LINE).mask for label in labels]
    prob = search._Problem(LINE, chain, masks, None)
    if reverse:
        chain = chain.reversed()
    prob.seed(designs, range(len(masks)))  # every cut of the domain: the key is exact
    return chain, prob, designs


def key_of(prob, parts):
    n = len(parts)
    return search._Value("sum", tuple(parts), (1.0,) * n, (Decimal(1),) * n)


def lagrange(chain, prob, key, designs, cons=()):
    srch = search._Search(prob, chain)
    x = np.log2(np.asarray(designs[len(designs) // 2], dtype=float))
    return srch, search._Lagrange(srch, key, cons, x, -math.inf)


def chain_rows(chain, designs):
    rows = []
    for w in designs:
        w = w[::-1] if chain.reverse else w
        rows.append([int(np.flatnonzero(chain.cands[k] == v)[0]) for k, v in enumerate(w)])
    return np.asarray(rows, dtype=np.int64)


@settings(max_examples=20, deadline=None)
@given(
    cands=st.lists(st.integers(1, 9), min_size=2, max_size=4, unique=True).map(sorted),
    frac=st.floats(0.2, 1.0),
    parts=st.lists(st.integers(0, len(LABELS) - 1), min_size=1, max_size=4, unique=True),
    reverse=st.booleans(),
)
def test_bound_holds_for_every_completion(cands, frac, parts, reverse):
    cands = [cands] * LINE.depth
    lo = _Chain(LINE, "params", cands, None, _ratio(2)).cheapest
    hi = wd.cost(LINE, "params", [cands[0][-1]] * LINE.depth)
    budget = lo + int(frac * (hi - lo))
    chain, prob, designs = problem(cands, budget, [LABELS[p] for p in parts], reverse)
    if not designs:
        return
    key = key_of(prob, range(len(parts)))
    _, lag = lagrange(chain, prob, key, designs)
    rows = chain_rows(chain, designs)
    values = np.array([float(key.exact(prob, w)) for w in designs])
    _, spent = search._Search(prob, chain)._feasible(rows)
    for level in range(chain.depth):
        # the bound of a prefix is above the value of every design through it
        prefix_spent = chain.first[rows[:, 0]].copy()
        for k in range(1, level + 1):
            prefix_spent += chain.step[k][rows[:, k - 1], rows[:, k]]
        bound = lag.bound(rows, prefix_spent, level)
        assert np.all(bound >= values - 1e-9), level
    assert np.all(spent <= budget)


def test_pair_terms_are_built_and_tighten_the_root_bound(monkeypatch):
    """On the profile of a 1-D net every cut goes through one layer: the pair terms carry
    the whole key, and the root bound is no looser than with convex combinations only."""
    cands = [[2, 3, 4, 6]] * LINE.depth
    budget = wd.cost(LINE, "params", [4] * LINE.depth)
    chain, prob, designs = problem(cands, budget, LABELS[:4])
    key = key_of(prob, range(4))
    _, paired = lagrange(chain, prob, key, designs)
    assert any(paired.pairs), "no pairwise term was built"
    assert any(phi is not None for phi in paired.phi)
    monkeypatch.setattr(search, "PAIR_CELLS", 0)
    _, linear = lagrange(chain, prob, key, designs)
    assert not any(linear.pairs)
    best = max(float(key.exact(prob, w)) for w in designs)
    assert best - 1e-9 <= paired.root <= linear.root + 1e-9
    # here the pairwise bound is strictly tighter: a test that can fail
    assert paired.root < linear.root - 1e-6


@pytest.mark.parametrize("reverse", [False, True])
def test_budget_tables_bound_every_completion(reverse):
    cands = [[1, 2, 3, 5, 8]] * LINE.depth
    budget = wd.cost(LINE, "params", [5] * LINE.depth)
    chain, prob, designs = problem(cands, budget, LABELS[1:5], reverse)
    key = key_of(prob, range(4))
    _, lag = lagrange(chain, prob, key, designs)
    lag.prepare(-math.inf)
    assert lag.vdp is not None
    rows = chain_rows(chain, designs)
    values = np.array([float(key.exact(prob, w)) for w in designs])
    for level in range(chain.depth):
        spent = chain.first[rows[:, 0]].copy()
        for k in range(1, level + 1):
            spent += chain.step[k][rows[:, k - 1], rows[:, k]]
        assert np.all(lag.budget_bound(rows, spent, level) >= values - 1e-9), level


@settings(max_examples=15, deadline=None)
@given(
    cands=st.lists(st.integers(1, 12), min_size=2, max_size=6, unique=True).map(sorted),
    frac=st.floats(0.2, 1.0),
    quantile=st.floats(0.0, 1.0),
    reverse=st.booleans(),
)
def test_sorted_expansion_keeps_every_child_the_bound_keeps(cands, frac, quantile, reverse):
    """``_Lagrange.expand`` generates only children whose bound reaches the bar, and every
    one of them: the same set as generating all children and filtering by the bound."""
    cands = [cands] * LINE.depth
    lo = _Chain(LINE, "params", cands, None, _ratio(2)).cheapest
    hi = wd.cost(LINE, "params", [cands[0][-1]] * LINE.depth)
    chain, prob, designs = problem(cands, lo + int(frac * (hi - lo)), LABELS[1:4], reverse)
    if not designs:
        return
    srch, lag = lagrange(chain, prob, key_of(prob, range(3)), designs)
    assert lag.children is not None
    idx = np.flatnonzero(chain.keep[0])[:, None]
    spent = chain.first[idx[:, 0]]
    for level in range(chain.depth - 1):
        every, every_spent = srch._expand(idx, spent, level + 1)
        if not len(every):
            return
        bounds = lag.bound(every, every_spent, level + 1)
        need = float(np.quantile(bounds, quantile))
        got, got_spent = lag.expand(idx, spent, level, need)
        want = {tuple(r) for r in every[bounds >= need].tolist()}
        have = {tuple(r) for r in got.tolist()}
        assert want <= have <= {tuple(r) for r in every.tolist()}, level
        assert len(lag.counts(idx, spent, level, need)) == len(idx)
        idx, spent = every, every_spent


@settings(max_examples=25, deadline=None)
@given(
    cands=st.lists(st.integers(1, 40), min_size=1, max_size=9, unique=True).map(sorted),
    frac=st.floats(0.0, 1.0),
)
def test_widest_is_the_last_affordable_candidate(cands, frac):
    """The binary search of ``_Chain.widest`` against a direct count."""
    cands = [cands] * LINE.depth
    lo = _Chain(LINE, "params", cands, None, _ratio(2)).cheapest
    hi = wd.cost(LINE, "params", [cands[0][-1]] * LINE.depth)
    chain = _Chain(LINE, "params", cands, lo + int(frac * (hi - lo)), _ratio(2))
    rng = np.random.default_rng(len(cands[0]))
    for level in range(chain.depth - 1):
        table = chain.next_reach[level]
        last = rng.integers(0, table.shape[0], 50)
        left = rng.integers(0, int(chain.budget) + 1, 50)
        count = (table[last] <= left[:, None]).sum(axis=1)
        want = np.maximum(count - 1, 0)
        assert np.array_equal(chain.widest(level, last, left, level + 1), want)
