"""Shapley values of a set function over a few players (a model's input channels).

A player's Shapley value is its marginal gain ``v(S | {i}) - v(S)`` averaged over every order
in which the players can join. Unlike leaving one player out of the full set, it credits a
player that shares its information with another one: the coalitions where the partner is
absent count too. The values are additive: they sum to ``v(all) - v(none)``.

With ``2**n - 2`` evaluations within the budget every coalition is evaluated (exact); else
orders are sampled in antithetic pairs (an order and its reverse), with a fixed seed so that
the same question gets the same answer.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

__all__ = ["shapley_values"]


def shapley_values(value: Callable[[np.ndarray], float], n: int, *, full: float,
                   empty: float = 0.0, budget: int = 256, seed: int = 0) -> np.ndarray:
    """Shapley values of ``value`` over ``n`` players.

    Parameters
    ----------
    value : function of a boolean mask (n,) -> the coalition's worth; never called with the
        empty or the full coalition (their worths are given).
    n : number of players.
    full, empty : worths of the full and of the empty coalition.
    budget : at most this many calls of ``value``: exact when ``2**n - 2`` fit in it, else
        sampled orders (at least one antithetic pair, whatever the budget).
    seed : seed of the sampled orders.

    Returns
    -------
    (n,) values summing to ``full - empty``.
    """
    if n == 0:
        return np.zeros(0)
    if n == 1:
        return np.array([full - empty])
    cache: dict[int, float] = {0: float(empty), (1 << n) - 1: float(full)}

    def worth(bits: int) -> float:
        if bits not in cache:
            mask = np.array([(bits >> i) & 1 for i in range(n)], dtype=bool)
            cache[bits] = float(value(mask))
        return cache[bits]

    if (1 << n) - 2 <= budget:
        return _exact(worth, n)
    return _sampled(worth, n, budget, cache, seed)


def _exact(worth: Callable[[int], float], n: int) -> np.ndarray:
    """Every coalition, each gain weighted by the share of orders in which it occurs."""
    weights = [math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n)
               for s in range(n)]
    out = np.zeros(n)
    for bits in range(1 << n):
        size = bin(bits).count("1")
        if size == n:
            continue
        base = worth(bits)
        for i in range(n):
            if not (bits >> i) & 1:
                out[i] += weights[size] * (worth(bits | (1 << i)) - base)
    return out


def _sampled(worth: Callable[[int], float], n: int, budget: int, cache: dict[int, float],
             seed: int) -> np.ndarray:
    """Antithetic pairs of random orders until the budget of new evaluations is spent."""
    rng = np.random.default_rng(seed)
    total, orders = np.zeros(n), 0
    while orders == 0 or len(cache) - 2 + 2 * (n - 1) <= budget:
        order = rng.permutation(n)
        for perm in (order, order[::-1]):
            bits, prev = 0, worth(0)
            for i in perm:
                bits |= 1 << int(i)
                now = worth(bits)
                total[i] += now - prev
                prev = now
            orders += 1
    return total / orders
