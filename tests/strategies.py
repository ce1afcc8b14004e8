"""Hypothesis strategies for small random architectures (shared by the test modules)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from widthdesign import Architecture, Layer


@st.composite
def architectures(
    draw, max_entries: int = 1 << 12, max_width: int = 9, powers_of=None, max_inputs=None
):
    """1-D/2-D grids with windows 2-4, optional permuted order, or explicit trees.

    ``max_entries`` bounds M^N so the verifier stays fast (``max_inputs`` bounds N instead); ``powers_of`` draws every bond
    dimension (M and widths) as a power of that integer.
    """
    kind = draw(st.sampled_from(["1d", "2d", "tree"]))
    m = draw(st.integers(2, 4)) if powers_of is None else powers_of ** draw(st.integers(1, 2))
    max_n = max_inputs or max(2, int(math.log(max_entries) / math.log(m) + 1e-9))
    depth = draw(st.sampled_from([1, 2, 2, 3, 3, 3, 4]))
    if kind == "2d":
        window = st.sampled_from([(2, 2), (2, 1), (1, 2), (3, 1), (1, 3), (2, 3), (3, 2)])
        pools = draw(st.lists(window, min_size=depth, max_size=depth))
        while math.prod(map(math.prod, pools)) > max_n and len(pools) > 1:
            pools.pop()
        if math.prod(map(math.prod, pools)) > max_n:
            pools = [(2, 1)]
        shape = tuple(math.prod(p[a] for p in pools) for a in (0, 1))
        layers_pool = pools[:-1] + [None]
    else:
        windows = draw(st.lists(st.sampled_from([2, 2, 3, 4]), min_size=depth, max_size=depth))
        while math.prod(windows) > max_n and len(windows) > 1:
            windows.pop()
        if math.prod(windows) > max_n:
            windows = [2]
        shape = (math.prod(windows),)
        layers_pool = [(w,) for w in windows[:-1]] + [None]
    n = math.prod(shape)
    depth = len(layers_pool)
    if powers_of is None:
        widths = draw(st.lists(st.integers(1, max_width), min_size=depth, max_size=depth))
    else:
        exps = draw(st.lists(st.integers(0, 2), min_size=depth, max_size=depth))
        widths = [powers_of**e for e in exps]
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    if kind == "tree":
        perm = rng.permutation(n).tolist()
        tree = _nest(perm, [w for w in windows])
        return Architecture(shape=(n,), channels=m, layers=widths, tree=tree)
    order = None
    if draw(st.booleans()):
        order = tuple(rng.permutation(n).tolist())
    layers = [Layer(w, p) for w, p in zip(widths, layers_pool)]
    return Architecture(shape=shape, channels=m, layers=layers, order=order)


def _nest(items, windows):
    """Group ``items`` bottom-up by the window sizes (all leaves at the same depth)."""
    level = items
    for w in windows:
        level = [level[i : i + w] for i in range(0, len(level), w)]
    (root,) = level
    return root


@st.composite
def arch_and_mask(draw, **kw):
    arch = draw(architectures(**kw))
    n = arch.num_inputs
    size = draw(st.integers(1, n - 1))
    seed = draw(st.integers(0, 2**31))
    mask = np.zeros(n, dtype=bool)
    mask[np.random.default_rng(seed).permutation(n)[:size]] = True
    return arch, mask


# -- hostile inputs ---------------------------------------------------------------------------

#: Integers a hostile user types: around 2^31, 2^53, 2^63, 2^64 and far past any float.
huge_ints = st.one_of(
    st.sampled_from([2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**63 + 1, 2**64, 2**61 - 1]),
    st.integers(2, 64).map(lambda k: 2**k + 1),
    st.integers(20, 450).map(lambda k: 10**k),
    st.integers(2, 1200).map(lambda k: 3**k),
)


@st.composite
def huge_dims_arch(draw):
    """A small tree network whose bond dimensions include huge integers (exact answers are
    checked by brute force, so the network stays tiny)."""
    windows = draw(st.sampled_from([[2, 2], [2], [3], [2, 3]]))
    n = math.prod(windows)
    dims = [draw(st.one_of(huge_ints, st.integers(1, 12))) for _ in range(len(windows) + 1)]
    layers = [Layer(w, (p,)) for w, p in zip(dims[1:-1], windows[:-1])] + [Layer(dims[-1])]
    arch = Architecture(shape=(n,), channels=max(dims[0], 1), layers=layers)
    size = draw(st.integers(1, n - 1))
    side_a = draw(st.permutations(range(n)))[:size]
    mask = np.zeros(n, dtype=bool)
    mask[list(side_a)] = True
    return arch, mask


#: Partition strings a hostile user types: glued or huge numbers, odd separators, junk.
hostile_partitions = st.one_of(
    st.sampled_from(
        [
            "1 0",
            "1\t0",
            "0 1 2",
            "0-99999999999",
            "0-9999999999999999999999",
            "99999999999999999999",
            "checkerboard:99999999999999999999",
            "blocks:99999999999999999999",
            "checkerboard:0",
            "checkerboard:-1",
            "random:1:nan",
            "random:1:1e-300",
            "random:99999999999999999999999",
            "0,,1",
            "-",
            "0-",
            "3-1",
            "0,0",
            "left-right:3",
            "nan",
            "\x00",
            "/dev/zero",
        ]
    ),
    st.text(st.sampled_from("0123456789 ,-:\t"), min_size=1, max_size=12),
)


@st.composite
def overlapping_architectures(draw, max_copies: int = 48):
    """1-D/2-D grid specs where some layer's stride is below its window (windows cut at the
    far edge, some layers 'window' convolutions, optional order); at most ``max_copies``
    leaves in the unrolled tree."""
    from widthdesign.spec import unrolled_leaf_count

    rank = draw(st.sampled_from([1, 1, 2]))
    depth = draw(st.integers(2, 3))
    strides = [tuple(draw(st.sampled_from([1, 2])) for _ in range(rank)) for _ in range(depth - 1)]
    top = tuple(draw(st.sampled_from([1, 2])) for _ in range(rank))
    if all(x == 1 for st_ in strides for x in st_):
        top = (2,) + top[1:]  # at least 2 inputs
    shape = top
    for st_ in reversed(strides):
        shape = tuple(s * t for s, t in zip(shape, st_))
    layers = []
    for i, st_ in enumerate(strides):
        # the first layer overlaps along axis 0; the others may or may not
        pool = tuple(s + draw(st.integers(1 if i == a == 0 else 0, 2)) for a, s in enumerate(st_))
        conv = draw(st.sampled_from(["1x1", "window"]))
        layers.append(Layer(draw(st.integers(1, 5)), pool, st_, conv))
    layers.append(Layer(draw(st.integers(1, 5))))
    m = draw(st.integers(1, 3))
    n = math.prod(shape)
    order = None
    if draw(st.booleans()):
        order = tuple(draw(st.permutations(list(range(n)))))
    arch = Architecture(shape=shape, channels=m, layers=layers, order=order)
    if not arch.overlapping or n < 2:
        arch = Architecture(
            shape=(4,), channels=m, layers=[Layer(2, 3, 2), Layer(draw(st.integers(1, 5)))]
        )
    if unrolled_leaf_count(arch) > max_copies:
        arch = Architecture(shape=(4,), channels=m, layers=[Layer(2, 2, 1), Layer(3)])
    return arch


@st.composite
def overlapping_and_mask(draw, **kw):
    arch = draw(overlapping_architectures(**kw))
    n = arch.num_inputs
    bits = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    i, j = draw(st.sampled_from([(a, b) for a in range(n) for b in range(n) if a != b]))
    bits[i], bits[j] = True, False
    return arch, np.array(bits)
