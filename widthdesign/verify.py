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
    big = arch.num_inputs * math.log2(max(arch.channels, 2)) >= 18
    for seed in range(seeds):
        if progress is not None and big:
            progress(
                f"{part.label}: grid tensor of {arch.channels}^{arch.num_inputs} entries, seed {seed + 1}/{seeds}"
            )
        t = grid_tensor(arch, seed=seed, shared=shared)
        best = max(best, rank_mod_p(matricize(t, part.side_a)))
    return best
