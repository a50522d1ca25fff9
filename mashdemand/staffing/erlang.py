"""Erlang B and C: the M/M/c queue, where it applies.

Erlang C assumes callers waiting live: Poisson arrivals, exponential handling times, ``c``
identical agents always on duty, first come first served, nobody abandons. MASH work has
deadlines of hours to days and a roster that changes by the hour, so the staffing engine sizes
it as a backlog with deadlines (:mod:`~mashdemand.staffing.sim`); Erlang C is here to check that
simulation where Erlang C does apply (constant staff, no closing hours, one queue).

Formulas (``A = lambda x AHT`` offered load in erlangs, ``c`` agents, ``A < c``):

* Erlang B by the stable recursion ``B(0) = 1``, ``B(k) = A B(k-1) / (k + A B(k-1))``;
* Erlang C, the probability of waiting, ``C = c B / (c - A (1 - B))``;
* mean wait (average speed of answer) ``C x AHT / (c - A)``;
* service level ``P(wait <= t) = 1 - C exp(-(c - A) t / AHT)``.

Checked against the worked example of M. Tanner, "The Erlang-C formula" (Mitan Ltd): 360 calls
per half hour, 4 minutes each, 55 agents -> probability of waiting 23.87%, ASA 8.2 seconds, 84.6%
answered within 15 seconds.
"""

from __future__ import annotations

import math

__all__ = ["erlang_b", "erlang_c", "mean_wait", "service_level", "agents_for_service_level"]


def _load(arrival_rate: float, aht: float) -> float:
    if arrival_rate < 0 or aht <= 0:
        raise ValueError("arrival rate must be >= 0 and handling time > 0")
    return arrival_rate * aht


def erlang_b(load: float, agents: int) -> float:
    """Erlang B blocking probability for offered ``load`` [erlangs] and ``agents``.

    >>> round(erlang_b(2.0, 2), 4)
    0.4
    """
    if agents < 0 or load < 0:
        raise ValueError("load and agents must be non-negative")
    b = 1.0
    for k in range(1, int(agents) + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(arrival_rate: float, aht: float, agents: int) -> float:
    """Probability that a contact waits (Erlang C) [0-1].

    Parameters
    ----------
    arrival_rate : float
        Contacts per unit time.
    aht : float
        Mean handling time, same time unit.
    agents : int
        Staff on duty.

    Returns
    -------
    float
        1.0 when ``A >= c`` (the queue grows without bound).

    Examples
    --------
    Tanner's worked example (360 calls per 30 minutes, 4-minute calls, 55 agents):

    >>> round(erlang_c(360 / 1800, 240, 55), 4)
    0.2387
    """
    a = _load(arrival_rate, aht)
    if a >= agents:
        return 1.0
    b = erlang_b(a, agents)
    return agents * b / (agents - a * (1 - b))


def mean_wait(arrival_rate: float, aht: float, agents: int) -> float:
    """Mean wait in queue over all contacts (average speed of answer), in the time unit of
    ``aht``; ``inf`` when ``A >= c``.

    >>> round(mean_wait(360 / 1800, 240, 55), 1)
    8.2
    """
    a = _load(arrival_rate, aht)
    if a >= agents:
        return math.inf
    return erlang_c(arrival_rate, aht, agents) * aht / (agents - a)


def service_level(arrival_rate: float, aht: float, agents: int, target: float) -> float:
    """Share of contacts whose wait is at most ``target`` (same time unit as ``aht``).

    >>> round(service_level(360 / 1800, 240, 55, 15), 3)
    0.846
    """
    a = _load(arrival_rate, aht)
    if a >= agents:
        return 0.0
    c = erlang_c(arrival_rate, aht, agents)
    return 1.0 - c * math.exp(-(agents - a) * target / aht)


def agents_for_service_level(
    arrival_rate: float, aht: float, target: float, level: float, max_agents: int = 10_000
) -> int:
    """Fewest agents giving at least ``level`` of contacts answered within ``target``.

    >>> agents_for_service_level(100 / 1800, 180, 20, 0.8)  # 13 agents give 79.6%
    14
    """
    a = _load(arrival_rate, aht)
    c = max(int(math.floor(a)) + 1, 1)
    while c <= max_agents:
        if service_level(arrival_rate, aht, c, target) >= level:
            return c
        c += 1
    raise ValueError(f"no staffing up to {max_agents} agents reaches the service level")
