"""Exact integer arithmetic for bounds of any size: logs, roots, common bases, printing.

Bounds reach 10^1000 and far beyond; these helpers never go through a float that could
overflow or round an exact answer. The cut engine (:mod:`widthdesign.cuts`) and the batch
engine (:mod:`widthdesign.batch`) both build on them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

__all__ = [
    "common_base",
    "exact_log2",
    "format_int",
    "ilog",
    "int_to_decimal",
    "iroot",
    "lower_bound_bases",
    "primitive_root",
]


def format_int(x: int | None, digits: int = 18) -> str:
    """An exact int when it has at most ``digits`` digits, else ``b^k`` when it is a power of
    an integer up to 1024, else ``~1.23e456``: for tables and figures (JSON stays exact).
    ``None`` (no bound known, e.g. the lower bound of an overlapping spec) is ``-``.

    >>> format_int(4096), format_int(2**100), format_int(10**2048), format_int(3**100 * 7)
    ('4096', '2^100', '10^2048', '~3.608e48')
    """
    if x is None:
        return "-"
    if x.bit_length() <= 3 * digits + 3:  # str() is quadratic: only on small ints
        s = str(x)
        if len(s) <= digits:
            return s
    log2 = exact_log2(x)
    for base in range(2, 1025):
        k = round(log2 / math.log2(base))
        if abs(k * math.log2(base) - log2) < 1e-6 and base**k == x:
            return f"{base}^{k}"
    log10 = log2 * math.log10(2)
    return f"~{10 ** (log10 % 1):.3f}e{int(log10)}"


def int_to_decimal(x: int) -> str:
    """``str(x)`` in subquadratic time (CPython 3.11's ``str`` of a 2.5-million-digit bound
    takes minutes; this takes half a second): halves in binary, joined with :mod:`decimal`'s
    fast multiplication. Ignores ``sys.get_int_max_str_digits``.

    >>> int_to_decimal(10**4000 + 7)[-4:], len(int_to_decimal(10**4000))
    ('0007', 4001)
    >>> int_to_decimal(-(10**30)), int_to_decimal(0)
    ('-1000000000000000000000000000000', '0')
    """
    import decimal

    if x < 0:
        return "-" + int_to_decimal(-x)
    if x.bit_length() <= 3000:
        return str(x)
    dec = decimal.Decimal
    pow2: dict[int, decimal.Decimal] = {}
    with decimal.localcontext() as ctx:
        ctx.prec, ctx.Emax, ctx.Emin = decimal.MAX_PREC, decimal.MAX_EMAX, decimal.MIN_EMIN
        ctx.traps[decimal.Inexact] = True  # every step is exact, or an error (never rounded)

        def inner(n: int, w: int) -> decimal.Decimal:
            if w <= 3000:
                return dec(n)
            half = w >> 1
            hi = n >> half
            if half not in pow2:
                pow2[half] = dec(2) ** half
            return inner(n - (hi << half), half) + inner(hi, w - half) * pow2[half]

        return str(inner(x, x.bit_length()))


def exact_log2(x: int) -> float:
    """log2 of a positive int of any size (no float overflow)."""
    if x < 2**1000:
        return math.log2(x)
    shift = x.bit_length() - 64
    return math.log2(x >> shift) + shift


def primitive_root(d: int) -> int:
    """Smallest b with d = b^k (prime exponents suffice: b^(qm) = (b^m)^q).

    >>> primitive_root(2**60), primitive_root(10**400), primitive_root(12)
    (2, 10, 12)
    """
    for k in _primes_up_to(d.bit_length()):
        b = iroot(d, k)
        if b >= 2 and b**k == d:
            return primitive_root(b)
    return d


@lru_cache(maxsize=64)
def _primes_up_to(n: int) -> tuple[int, ...]:
    sieve = bytearray([1]) * (n + 1)
    sieve[:2] = b"\x00\x00"[: min(2, n + 1)]
    for i in range(2, int(n**0.5) + 1):
        if sieve[i]:
            sieve[i * i :: i] = bytearray(len(range(i * i, n + 1, i)))
    return tuple(i for i in range(n + 1) if sieve[i])


def common_base(dims) -> int | None:
    roots = {primitive_root(int(d)) for d in dims if d > 1}
    if len(roots) <= 1:
        return roots.pop() if roots else 2
    return None


def iroot(d: int, k: int) -> int:
    """floor(d ** (1/k)) exactly, for ints of any size.

    >>> iroot(10**400, 2) == 10**200, iroot(2**64 - 1, 2), iroot(7, 3)
    (True, 4294967295, 1)
    """
    d, k = int(d), int(k)
    if k == 1 or d < 2:
        return d
    if d.bit_length() <= k:
        return 1  # d < 2^k
    # a float estimate from the exact log2 (no float overflow), then exact corrections:
    # floats lose the low digits, so Newton (from above) finishes large roots
    lg = exact_log2(d) / k
    if lg < 48:
        b = int(2**lg)
        while b**k > d:
            b -= 1
        while (b + 1) ** k <= d:
            b += 1
        return b
    shift = int(lg) - 48
    b = (int(2 ** (lg - shift) * (1 + 2**-30)) + 1) << shift  # >= the root
    while True:
        c = ((k - 1) * b + d // b ** (k - 1)) // k
        if c >= b:
            return b
        b = c


def ilog(d: int, p: int) -> int:
    """floor(log_p d) exactly (a float estimate, then exact corrections).

    >>> ilog(10**400, 10), ilog(10**400 - 1, 10), ilog(1, 2), ilog(2**64, 2)
    (400, 399, 0, 64)
    """
    if d < p:
        return 0
    k = max(0, int(exact_log2(d) / math.log2(p)) - 1)
    while p ** (k + 1) <= d:
        k += 1
    while k > 0 and p**k > d:
        k -= 1
    return k


def lower_bound_bases(dims: Sequence[int]) -> list[int]:
    """Integers p worth trying for the lower bound: the integer k-th roots of every dimension.

    Between two consecutive such roots the exponents floor(log_p d) do not change, and for
    fixed exponents a larger p is better, so the maximum over all p >= 2 is reached here.
    """
    bases = set()
    for d in set(int(x) for x in dims):
        k = 1
        while True:
            p = iroot(d, k)
            if p < 2:
                break
            bases.add(p)
            k += 1
    return sorted(bases)
