"""Statistical disclosure control (SDC) for published count tables, following GSS conventions.

Small counts of safeguarding-hub contacts can identify people, so a published table replaces them
with the Government Statistical Service symbol ``[c]`` (confidential). Where a table carries row
or column totals, a lone suppressed cell could be recovered by subtraction, so :func:`protect`
suppresses further cells (secondary suppression); :func:`protect_long` suppresses small counts in
a tidy table with no margins, and :func:`check_published` lists any small number left.

The guarantee: no suppressed cell, total or not, is determined by the published rows and
columns. First no single row or column equation ("cells add up to the total") may have exactly
one suppressed member; then, because adding and subtracting several equations can still pin down
a cell that is the only link between two groups of suppressed cells, :func:`protect` checks
every suppressed cell by rank (:func:`recoverable`) and suppresses more until none is determined.
NaN cells count as known values here (as if they added nothing to the total), which can only make
the check stricter; the only cells it cannot protect are ones that NaN cells alone pin down (say
a total whose other members are all NaN), as no amount of suppression would help. The check is of
exact recovery by linear equations: it does not look at the bounds that non-negative counts put
on a suppressed cell.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "GSS_SYMBOLS",
    "NOT_APPLICABLE",
    "NOT_AVAILABLE",
    "SUPPRESSED",
    "DisclosureRule",
    "SuppressedTable",
    "check_published",
    "protect",
    "protect_long",
    "recoverable",
]

SUPPRESSED = "[c]"
NOT_AVAILABLE = "[x]"
NOT_APPLICABLE = "[z]"
GSS_SYMBOLS: dict[str, str] = {
    SUPPRESSED: "confidential: suppressed to protect individuals from identification",
    NOT_AVAILABLE: "not available",
    NOT_APPLICABLE: "not applicable",
}

Cell = tuple[int, int]


@dataclass(frozen=True)
class DisclosureRule:
    """Which counts are too small to publish.

    Counts ``v`` with ``low <= v <= high`` are primary-suppressed; zero is published unless
    ``suppress_zeros``. ``secondary`` turns on secondary suppression in :func:`protect`.

    Examples
    --------
    >>> DisclosureRule.from_mapping({"high": 10})
    DisclosureRule(low=1, high=10, secondary=True, suppress_zeros=False)
    """

    low: int = 1
    high: int = 5
    secondary: bool = True
    suppress_zeros: bool = False

    def __post_init__(self) -> None:
        bounds = (self.low, self.high)
        if not (all(type(b) is int for b in bounds) and 0 <= self.low <= self.high):
            raise ValueError(f"disclosure needs integers 0 <= low <= high, got {bounds}")
        if not all(isinstance(f, bool) for f in (self.secondary, self.suppress_zeros)):
            raise ValueError("disclosure secondary and suppress_zeros must be true or false")

    @classmethod
    def from_mapping(cls, d: Mapping[str, Any]) -> DisclosureRule:
        """Build a rule from a TOML ``[disclosure]`` table; an unknown key is a ValueError."""
        allowed = [f.name for f in fields(cls)]
        if unknown := sorted(set(d) - set(allowed)):
            raise ValueError(f"unknown key(s) in [disclosure]: {unknown}; expected {allowed}")
        return cls(**d)


@dataclass
class SuppressedTable:
    """The result of :func:`protect`: originals, masks and the table to publish."""

    values: pd.DataFrame
    mask: pd.DataFrame
    primary: pd.DataFrame
    published: pd.DataFrame
    n_primary: int
    n_secondary: int


def _is_primary(v: np.ndarray, rule: DisclosureRule) -> np.ndarray:
    """Boolean array: True where ``v`` must be primary-suppressed (NaN never is)."""
    with np.errstate(invalid="ignore"):
        return np.where(v == 0, rule.suppress_zeros, (v >= rule.low) & (v <= rule.high))


def _shown(x: float) -> float | int | str:
    """A value as published: integral counts as ``int``, NaN as ``[x]``."""
    if pd.isna(x):
        return NOT_AVAILABLE
    return int(x) if float(x).is_integer() else x


def _counts(data: pd.DataFrame, what: str) -> np.ndarray:
    """Values as floats, after checking they are non-negative numbers."""
    for name, col in data.items():
        if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            raise ValueError(f"{what}: column {name!r} is not numeric")
    v = data.to_numpy(dtype=float)
    if (v < 0).any():
        raise ValueError(f"{what}: counts must be non-negative")
    return v


def _equations(shape: tuple[int, int], rt: int | None, ct: int | None) -> list[list[Cell]]:
    """Each equation as ``[*interior members, total]`` in positional cells."""
    rows = [i for i in range(shape[0]) if i != ct]
    cols = [j for j in range(shape[1]) if j != rt]
    eqs = []
    if rt is not None and cols:
        eqs += [[*((i, j) for j in cols), (i, rt)] for i in range(shape[0])]
    if ct is not None and rows:
        eqs += [[*((i, j) for i in rows), (ct, j)] for j in range(shape[1])]
    return eqs


def _partner(v: np.ndarray, mask: np.ndarray, eq: list[Cell]) -> Cell | None:
    """The cell to suppress alongside a lone suppressed member of equation ``eq``."""
    *members, total = eq
    open_ = [c for c in members if not mask[c] and not np.isnan(v[c])]
    pool = [c for c in open_ if v[c] > 0] or open_
    if pool:
        return min(pool, key=lambda c: v[c])  # first of equal minima
    return total if not mask[total] and not np.isnan(v[total]) else None


def _close_single(v: np.ndarray, mask: np.ndarray, eqs: list[list[Cell]]) -> None:
    """Suppress partners (in ``mask``, in place) until no equation has one suppressed member."""
    changed = True
    while changed:  # each pass adds a cell or stops, so this terminates
        changed = False
        for eq in eqs:
            if sum(mask[c] for c in eq if not np.isnan(v[c])) == 1:
                cell = _partner(v, mask, eq)
                if cell is not None:
                    mask[cell] = changed = True


def recoverable(v: np.ndarray, mask: np.ndarray, equations: list[list[Cell]]) -> list[Cell]:
    """The suppressed cells of ``v`` that the published cells and ``equations`` determine exactly.

    ``v`` holds the values and ``mask`` is True where a cell is suppressed (both 2-D, indexed by
    position); each equation is ``[*interior members, total]``, as positional cells. Published
    cells are known, so each equation is a linear equation in its suppressed members (the total
    with sign -1) with a known right-hand side. Stacking them gives a matrix ``A`` over the
    suppressed cells, and cell ``i`` is determined iff the unit vector ``e_i`` lies in the row
    space of ``A``: ``rank([A; e_i]) == rank(A)``. NaN cells are never variables: they are taken
    as known, as in the single-equation rule.

    Examples
    --------
    With only the diagonal of a 2x2 interior suppressed, row 0 alone gives (0, 0) away, and
    row 1 gives (1, 1) away:

    >>> v = np.array([[3, 10, 13], [4, 6, 10], [7, 16, 23]], dtype=float)
    >>> mask = np.zeros(v.shape, dtype=bool)
    >>> mask[0, 0] = mask[1, 1] = True
    >>> eqs = _equations(v.shape, 2, 2)
    >>> recoverable(v, mask, eqs)
    [(0, 0), (1, 1)]
    >>> mask[0, 1] = mask[1, 0] = True  # the 2x2 rectangle: nothing is determined
    >>> recoverable(v, mask, eqs)
    []
    """
    cells = [(int(i), int(j)) for i, j in np.argwhere(mask & ~np.isnan(v))]
    col = {c: k for k, c in enumerate(cells)}
    rows = []
    for eq in equations:
        *members, total = eq
        row = np.zeros(len(cells))
        for c, sign in [*((m, 1.0) for m in members), (total, -1.0)]:
            if c in col:
                row[col[c]] += sign
        if row.any():
            rows.append(row)
    if not rows:
        return []
    a = np.vstack(rows)
    rank = np.linalg.matrix_rank(a)
    out = []
    for k, c in enumerate(cells):
        e = np.zeros((1, len(cells)))
        e[0, k] = 1.0
        if np.linalg.matrix_rank(np.vstack([a, e])) == rank:
            out.append(c)
    return out


def _breaker(v: np.ndarray, mask: np.ndarray, eqs: list[list[Cell]], cell: Cell) -> Cell | None:
    """The cell to suppress so that the determined suppressed ``cell`` gains another unknown.

    The smallest non-zero open (unsuppressed, not NaN) interior cell in a row or column equation
    with ``cell``, else a zero one, else a total there (non-zero first, smallest first). If all
    of those are suppressed, the first open cell anywhere, in the same order of preference, whose
    suppression leaves ``cell`` undetermined, or failing that simply the first. None if no cell
    is open.
    """
    totals = {eq[-1] for eq in eqs}

    def candidates(scope: set[Cell]) -> list[Cell]:
        """Open cells of ``scope``: interior before totals, non-zero before zero, then smallest."""
        open_ = [c for c in scope if not mask[c] and not np.isnan(v[c])]
        return sorted(open_, key=lambda c: (c in totals, v[c] == 0, v[c], c))

    near = candidates({c for eq in eqs if cell in eq for c in eq})
    if near:
        return near[0]
    anywhere = candidates({(i, j) for i in range(v.shape[0]) for j in range(v.shape[1])})
    for c in anywhere:
        trial = mask.copy()
        trial[c] = True
        if cell not in recoverable(v, trial, eqs):
            return c
    return anywhere[0] if anywhere else None


def protect(
    table: pd.DataFrame,
    rule: DisclosureRule = DisclosureRule(),
    *,
    row_total: str | None = None,
    col_total: str | None = None,
) -> SuppressedTable:
    """Suppress small counts in ``table`` and any cell that would reveal them by subtraction.

    Secondary suppression first gives every row and column equation with a suppressed member at
    least two; then, while the rows and columns together still determine a suppressed cell
    (:func:`recoverable`), it suppresses one more cell next to it and repeats. ``n_secondary``
    counts every cell suppressed after the primary ones.

    ``row_total`` names the column holding row totals and ``col_total`` the row holding column
    totals; either may be absent. NaN cells are published as ``[x]`` and never suppressed; they
    are ignored when counting suppressed members of an equation.

    Examples
    --------
    >>> t = pd.DataFrame({"a": [3, 20, 23], "b": [10, 15, 25], "all": [13, 35, 48]},
    ...                  index=["x", "y", "all"])
    >>> res = protect(t, row_total="all", col_total="all")
    >>> res.published.to_dict("index")["x"]
    {'a': '[c]', 'b': '[c]', 'all': 13}
    >>> res.n_primary, res.n_secondary
    (1, 3)
    """
    if row_total is not None and row_total not in table.columns:
        raise ValueError(f"row_total {row_total!r} is not a column of the table")
    if col_total is not None and col_total not in table.index:
        raise ValueError(f"col_total {col_total!r} is not a row of the table")
    if not (table.index.is_unique and table.columns.is_unique):
        raise ValueError("table row and column labels must be unique")
    v = _counts(table, "protect")
    primary = _is_primary(v, rule)
    mask = primary.copy()
    if rule.secondary:
        rt = None if row_total is None else table.columns.get_loc(row_total)
        ct = None if col_total is None else table.index.get_loc(col_total)
        eqs = _equations(v.shape, rt, ct)
        _close_single(v, mask, eqs)
        # Hopeless cells stay determined even with every cell suppressed: only NaN cells, taken
        # as known, can pin a cell down like that, and no further suppression would help. Each
        # round suppresses one more cell; suppressing more never makes a cell determined, and
        # with everything suppressed only hopeless cells are, so this terminates.
        hopeless: set[Cell] | None = None
        while found := recoverable(v, mask, eqs):
            if hopeless is None:  # worked out only when needed: it is the slowest rank check
                hopeless = set(recoverable(v, ~np.isnan(v), eqs))
            if not (found := [c for c in found if c not in hopeless]):
                break
            extra = _breaker(v, mask, eqs, found[0])
            if extra is None:  # cannot happen (found[0] would be hopeless); kept as a guard
                break
            mask[extra] = True
            _close_single(v, mask, eqs)
    mask_df = pd.DataFrame(mask, index=table.index, columns=table.columns)
    n_primary = int(primary.sum())
    return SuppressedTable(
        values=table.copy(),
        mask=mask_df,
        primary=pd.DataFrame(primary, index=table.index, columns=table.columns),
        published=table.map(_shown).astype(object).mask(mask_df, SUPPRESSED),
        n_primary=n_primary,
        n_secondary=int(mask.sum()) - n_primary,
    )


def protect_long(
    frame: pd.DataFrame, value: str, rule: DisclosureRule = DisclosureRule()
) -> pd.DataFrame:
    """Primary-suppress column ``value`` of a tidy table with no margins.

    Returns a copy whose ``value`` column is object dtype: numbers, ``[c]`` or ``[x]`` (NaN).

    Examples
    --------
    >>> t = pd.DataFrame({"hub": ["a", "b", "c"], "n": [0, 4, 12]})
    >>> protect_long(t, "n")["n"].tolist()
    [0, '[c]', 12]
    """
    if value not in frame.columns:
        raise ValueError(f"protect_long: no column {value!r}")
    v = _counts(frame[[value]], "protect_long")[:, 0]
    shown = [SUPPRESSED if s else _shown(x) for x, s in zip(v, _is_primary(v, rule), strict=True)]
    out = frame.copy()
    out[value] = pd.Series(shown, index=frame.index, dtype=object)
    return out


def _number(x: object) -> float | None:
    """``x`` as a finite number if it reads as one (``"1,234"`` included), else None."""
    try:
        f = float(x.replace(",", "") if isinstance(x, str) else x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return f if np.isfinite(f) and not isinstance(x, bool) else None


def check_published(published: pd.DataFrame, rule: DisclosureRule = DisclosureRule()) -> list[str]:
    """List every number in ``published`` that the rule says must not be shown; [] means safe.

    Examples
    --------
    >>> check_published(pd.DataFrame({"a": [3, "[c]", 40]}, index=["x", "y", "z"]))
    ['row x, column a: 3']
    """
    problems = []
    for i, r in enumerate(published.index):
        for j, c in enumerate(published.columns):
            x = _number(published.iat[i, j])
            if x is not None and _is_primary(np.array(x), rule):
                problems.append(f"row {r}, column {c}: {_shown(x)}")
    return problems
