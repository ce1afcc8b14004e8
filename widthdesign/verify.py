"""The numeric verifier: exact ranks of random networks over a prime field.

Independent of the graph and of the cut engine: it builds the ConvAC itself with random
weights mod a prime ``P``, forms its grid tensor (order N, each mode of size M) level by level
with product pooling, matricizes it for the partition and computes the rank by Gaussian
elimination mod ``P``. For almost all weights the rank is the generic (maximal) one, and a
random draw over a field of ~6.7e7 elements hits it with high probability; the maximum over a
few seeds is reported.

>>> from widthdesign.spec import Architecture, Layer
>>> arch = Architecture(shape=(8,), channels=2, layers=[Layer(4, 2), Layer(4, 2), Layer(4)])
>>> verify_rank(arch, "0,1", shared=True)   # symmetric 2x2 matrices: rank 3, below the cut 4
3
>>> verify_rank(arch, "0,1")
4

Overlapping specs (a stride below the window) are not multilinear in each input's
representation: input i enters through k_i copies (:func:`copies_per_input`), so the network
is a homogeneous polynomial of degree k_i in its representation vector. The verifier then
evaluates the network itself (:func:`template_tensor`) on T_i = C(M + k_i - 1, k_i) random
*templates* per input (the dimension of degree-k_i polynomials in M variables) and takes the
rank of the matrix with rows = template tuples of A, columns = template tuples of B
(:func:`template_rank`). That matrix is E_A C E_B^T, with C the coefficient matricization of
the polynomial (rows: monomials of A's variables, columns: B's) and E_A, E_B Kronecker
products of per-input evaluation matrices, square and invertible for generic templates: its
rank is the rank of C, the separation rank of the network for (A, B). Over a prime field with
random weights and templates it can only be lower (a lower bound on the generic rank), and is
equal with high probability; the maximum over seeds is reported.

>>> over = Architecture(shape=(8,), channels=2, layers=[Layer(2, 3, 2)] * 3)
>>> copies_per_input(over)
(1, 1, 2, 1, 3, 2, 3, 1)
>>> verify_rank(over, "left-right"), verify_rank(over, "even-odd")   # min cuts 4 and 32
(4, 24)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import VerifyError
from .spec import Architecture, pooling_tree

__all__ = [
    "verify_rank",
    "grid_tensor",
    "matricize",
    "rank_mod_p",
    "check_size",
    "copies_per_input",
    "template_counts",
    "template_tensor",
    "template_rank",
    "PRIME",
    "MAX_ENTRIES",
    "MAX_SEEDS",
]

#: The field: the largest prime below 2^26, so that int64 dot products of up to 2^11 terms
#: cannot overflow (2^11 * P^2 < 2^63).
PRIME = 67108859
#: Largest grid tensor (M^N entries) the verifier will form.
MAX_ENTRIES = 1 << 22
#: Most random draws one verification takes (each is a full rank computation).
MAX_SEEDS = 1000
_MAX_WIDTH = 1 << 11


@dataclass
class _Node:
    values: np.ndarray  # (channels, M^k) mod PRIME
    slots: list[int]  # leaf slots, in mode order


def check_size(arch: Architecture) -> None:
    """Refuse (:class:`VerifyError`), from the sizes alone, a network too large to verify."""
    if arch.overlapping:
        _check_template_size(arch)
        return
    m, n = arch.channels, arch.num_inputs
    # the log test first: m**n of a 4096x4096 grid would itself be a 16M-bit number
    too_big = m > 1 and n * math.log2(m) > math.log2(MAX_ENTRIES) + 1e-9
    if too_big or m**n > MAX_ENTRIES:
        raise VerifyError(
            f"verify needs M^N <= {MAX_ENTRIES} grid-tensor entries; this network has "
            f"M^N = {m}^{n}; use a smaller network"
        )
    widest = max(arch.require_widths())
    if widest > _MAX_WIDTH:
        raise VerifyError(f"verify handles widths up to {_MAX_WIDTH}; this network has {widest}")


def grid_tensor(arch: Architecture, seed: int = 0, shared: bool = False) -> np.ndarray:
    """Coefficient tensor A^y (shape ``arch.shape`` of modes, each of size M) mod ``PRIME``,
    for one output of a random network. Modes are indexed by input (row-major flat index)."""
    check_size(arch)
    rng = np.random.default_rng(seed)
    tree = pooling_tree(arch)
    widths = arch.require_widths()
    m = arch.channels

    def kernel(rows, cols, count):
        if shared:
            w = rng.integers(0, PRIME, size=(rows, cols), dtype=np.int64)
            return [w] * count
        return list(rng.integers(0, PRIME, size=(count, rows, cols), dtype=np.int64))

    # level 0: the 1x1 conv of each position maps its M representation channels to r_0
    w0 = kernel(widths[0], m, tree.sizes[0])
    nodes = [_Node(w0[s], [s]) for s in range(tree.sizes[0])]
    for level in range(tree.depth):
        top = level == tree.depth - 1
        out = rng.integers(0, PRIME, size=(1, widths[level]), dtype=np.int64) if top else None
        nxt = None if top else kernel(widths[level + 1], widths[level], tree.sizes[level + 1])
        pooled = []
        for w in range(tree.sizes[level + 1]):
            members = [nodes[j] for j in tree.window(level, w).tolist()]
            slots = [s for node in members for s in node.slots]
            if top:
                return _to_input_modes(_output(members, out[0]), slots, tree, arch)
            values = _mod_matmul(nxt[w], _pool(members))
            pooled.append(_Node(values, slots))
        nodes = pooled
    raise AssertionError("unreachable: the last layer pools globally")


def _pool(members: list[_Node]) -> np.ndarray:
    """Product pooling, channel by channel: row-wise Kronecker product of the members."""
    acc = members[0].values
    for node in members[1:]:
        acc = (acc[:, :, None] * node.values[:, None, :] % PRIME).reshape(acc.shape[0], -1)
    return acc


def _output(members: list[_Node], weights: np.ndarray) -> np.ndarray:
    """Top window: sum_c w_c * prod_j T_j[c], one channel at a time to bound memory."""
    total = None
    for c, wc in enumerate(weights.tolist()):
        acc = np.array([wc], dtype=np.int64)
        for node in members:
            acc = (acc[:, None] * node.values[c][None, :] % PRIME).reshape(-1)
        total = acc if total is None else (total + acc) % PRIME
    return total


def _mod_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a @ b) % PRIME


def _to_input_modes(flat, slots, tree, arch) -> np.ndarray:
    m, n = arch.channels, arch.num_inputs
    t = flat.reshape((m,) * n)
    inputs = tree.leaves[slots]  # mode k of t is input inputs[k]
    return np.transpose(t, np.argsort(inputs))


def rank_mod_p(mat: np.ndarray, p: int = PRIME) -> int:
    """Rank of an integer matrix mod a prime ``p < 2^26`` by Gaussian elimination."""
    a = np.array(mat, dtype=np.int64) % p
    if a.shape[0] > a.shape[1]:
        a = a.T.copy()
    rows, cols = a.shape
    rank = 0
    for col in range(cols):
        if rank == rows:
            break
        nz = np.flatnonzero(a[rank:, col])
        if nz.size == 0:
            continue
        piv = rank + int(nz[0])
        if piv != rank:
            a[[rank, piv]] = a[[piv, rank]]
        inv = pow(int(a[rank, col]), p - 2, p)
        a[rank] = a[rank] * inv % p
        below = a[rank + 1 :, col]
        hit = np.flatnonzero(below)
        if hit.size:
            idx = rank + 1 + hit
            a[idx] = (a[idx] - a[idx, col][:, None] * a[rank][None, :]) % p
        rank += 1
    return rank


def matricize(tensor: np.ndarray, side_a) -> np.ndarray:
    """Matricization: rows are the modes in ``side_a``, columns the rest (flat mode indices)."""
    n = tensor.ndim
    a = sorted(int(i) for i in side_a)
    b = [i for i in range(n) if i not in set(a)]
    m = tensor.shape[0] if n else 1
    return np.transpose(tensor, a + b).reshape(m ** len(a), m ** len(b))


def verify_rank(
    arch: Architecture,
    partition,
    shared: bool = False,
    seeds: int = 3,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Max over ``seeds`` random networks of the exact rank (mod ``PRIME``) of the grid
    tensor's matricization for ``partition`` (spec string, :class:`Partition`, indices or mask).

    ``progress`` receives a line per seed when the grid tensor is large (2^18 entries or more),
    since one rank then takes seconds.
    """
    from .cuts import as_partition

    if not 1 <= seeds <= MAX_SEEDS:
        raise VerifyError(f"seeds = {seeds}: expected 1..{MAX_SEEDS} random draws")
    check_size(arch)  # refuse from the sizes, before any work
    part = as_partition(arch, partition)
    best = 0
    if arch.overlapping:
        for seed in range(seeds):
            best = max(best, template_rank(arch, part.side_a, seed=seed, shared=shared))
        return best
    big = arch.num_inputs * math.log2(max(arch.channels, 2)) >= 18
    for seed in range(seeds):
        if progress is not None and big:
            progress(
                f"{part.label}: grid tensor of {arch.channels}^{arch.num_inputs} entries, seed {seed + 1}/{seeds}"
            )
        t = grid_tensor(arch, seed=seed, shared=shared)
        best = max(best, rank_mod_p(matricize(t, part.side_a)))
    return best


# -- overlapping networks: the network itself on templates ----------------------------------


def _grids(arch: Architecture) -> list[tuple[int, ...]]:
    grids = [tuple(arch.shape)]
    for st in arch.strides:
        grids.append(tuple(g // s for g, s in zip(grids[-1], st)))
    return grids


def _windows(arch: Architecture, level: int) -> list[list[tuple[int, tuple[int, ...]]]]:
    """Per window of ``level`` (row-major over the grid it outputs): its members as
    ``(flat position in the grid entering the layer, offset d)``, read straight from the
    spec's windows and strides (not from :func:`~widthdesign.spec.pooling_tree`)."""
    grid_in, grid_out = _grids(arch)[level : level + 2]
    pool, stride = arch.pools[level], arch.strides[level]
    out = []
    for x in np.ndindex(*grid_out):
        members = []
        for d in np.ndindex(*pool):
            p = tuple(xi * si + di for xi, si, di in zip(x, stride, d))
            if all(pi < gi for pi, gi in zip(p, grid_in)):
                members.append((int(np.ravel_multi_index(p, grid_in)), tuple(d)))
        out.append(members)
    return out


def copies_per_input(arch: Architecture) -> tuple[int, ...]:
    """k_i per input (flat row-major index): the number of paths from the output to input i,
    i.e. how many times the network reads it; all 1 without overlaps."""
    count = np.ones(1, dtype=np.int64)
    for level in range(arch.depth - 1, -1, -1):
        below = np.zeros(math.prod(_grids(arch)[level]), dtype=np.int64)
        for x, members in enumerate(_windows(arch, level)):
            for p, _ in members:
                below[p] += count[x]
        count = below
    if arch.order is not None:  # grid slot s holds input order[s]
        out = np.empty_like(count)
        out[np.asarray(arch.order)] = count
        count = out
    return tuple(int(c) for c in count)


def template_counts(arch: Architecture) -> tuple[int, ...]:
    """T_i = C(M + k_i - 1, k_i) templates per input: the dimension of the homogeneous
    polynomials of degree k_i in M variables (M when k_i = 1)."""
    m = arch.channels
    return tuple(math.comb(m + k - 1, k) for k in copies_per_input(arch))


def _check_template_size(arch: Architecture) -> None:
    counts = template_counts(arch)
    total = math.prod(counts)
    widest = max(arch.require_widths())
    if total * max(widest, 1) > MAX_ENTRIES:
        raise VerifyError(
            f"verify of an overlapping network needs width * prod_i T_i <= {MAX_ENTRIES} "
            f"(T_i = C(M + k_i - 1, k_i) templates per input, k_i its copies); this network "
            f"has {widest} * {total}; use a smaller network"
        )
    if widest > _MAX_WIDTH:
        raise VerifyError(f"verify handles widths up to {_MAX_WIDTH}; this network has {widest}")


def _expand(x: np.ndarray, labels: list[int], union: list[int]) -> np.ndarray:
    """View a tensor (channels, one axis per label, labels sorted) on the sorted ``union``."""
    have = set(labels)
    shape = [x.shape[0]]
    k = 1
    for i in union:
        if i in have:
            shape.append(x.shape[k])
            k += 1
        else:
            shape.append(1)
    return x.reshape(shape)


def _times(a, b):
    """Channel-wise product of two (tensor, labels): shared inputs are one axis (the same
    template), which is what makes an overlapping network non-multilinear."""
    (x, lx), (y, ly) = a, b
    union = sorted(set(lx) | set(ly))
    return _expand(x, lx, union) * _expand(y, ly, union) % PRIME, union


def _apply(w: np.ndarray, value):
    x, labels = value
    return np.tensordot(w, x, axes=([1], [0])) % PRIME, labels


def template_tensor(
    arch: Architecture, seed: int = 0, shared: bool = False, counts: tuple[int, ...] | None = None
) -> np.ndarray:
    """The network's output on every tuple of templates, mod ``PRIME``: an array with one
    axis per input (flat index order), axis i of size T_i (:func:`template_counts`).

    Random weights: ``conv = "1x1"`` one ``r_l x r_{l-1}`` matrix per position entering the
    layer (one per layer when ``shared``), ``conv = "window"`` one per window and offset (one
    per offset when ``shared``); random output weights; T_i random templates in F^M per input
    (``counts`` overrides T_i, e.g. to see that M templates per input are too few).
    """
    check_size(arch)
    rng = np.random.default_rng(seed)
    m, widths = arch.channels, arch.require_widths()
    counts = template_counts(arch) if counts is None else tuple(counts)
    slot_input = list(arch.order) if arch.order is not None else list(range(arch.num_inputs))
    # level 0: position s holds input slot_input[s]; its value is its templates, (M, T_i)
    values = [
        (rng.integers(0, PRIME, size=(m, counts[i]), dtype=np.int64), [i]) for i in slot_input
    ]

    def draw(rows, cols):
        return rng.integers(0, PRIME, size=(rows, cols), dtype=np.int64)

    prev = m
    for level, layer in enumerate(arch.layers):
        r = widths[level]
        windows = _windows(arch, level)
        if layer.conv == "1x1":
            kernel = draw(r, prev) if shared else None
            values = [_apply(kernel if shared else draw(r, prev), v) for v in values]
            offsets = {}
        else:
            offsets = {d: draw(r, prev) for d in np.ndindex(*arch.pools[level])} if shared else {}
        pooled = []
        for members in windows:
            acc = None
            for p, d in members:
                v = values[p]
                if layer.conv == "window":
                    v = _apply(offsets[d] if shared else draw(r, prev), v)
                acc = v if acc is None else _times(acc, v)
            pooled.append(acc)
        values, prev = pooled, r
    (top, labels), out = values[0], draw(1, prev)
    t = np.tensordot(out, top, axes=([1], [0]))[0] % PRIME
    assert labels == list(range(arch.num_inputs))
    return t


def template_rank(
    arch: Architecture,
    side_a,
    seed: int = 0,
    shared: bool = False,
    counts: tuple[int, ...] | None = None,
) -> int:
    """Exact rank mod ``PRIME`` of the network's values on templates, rows = template tuples
    of the inputs in ``side_a``, columns = those of the rest (see the module docstring: the
    separation rank for almost all weights and templates)."""
    t = template_tensor(arch, seed=seed, shared=shared, counts=counts)
    a = sorted(int(i) for i in side_a)
    b = [i for i in range(t.ndim) if i not in set(a)]
    rows = math.prod(t.shape[i] for i in a)
    return rank_mod_p(np.transpose(t, a + b).reshape(rows, -1))
