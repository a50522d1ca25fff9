"""Numbers as readers see them: thousands separators, percentages, rounding for publication,
and the GSS symbols for what is not shown.

One place for how a number is written, so the FMS appendix (DOCX and XLSX) and the quarterly
report say ``12,345``, ``+3.2%`` and ``[x]`` the same way. The symbols themselves are those of
disclosure control (:mod:`mashdemand.report.sdc`): ``[c]`` suppressed, ``[x]`` not available.

>>> fmt_int(12345.4), fmt_pct(3.21, signed=True), round_to(1234.0, 10)
('12,345', '+3.2%', 1230.0)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mashdemand.report.sdc import NOT_AVAILABLE, SUPPRESSED

__all__ = [
    "NOT_AVAILABLE",
    "SUPPRESSED",
    "cell_text",
    "cell_value",
    "change_or_marker",
    "excel_format",
    "fmt_int",
    "fmt_num",
    "fmt_pct",
    "fmt_share",
    "int_or_marker",
    "is_missing",
    "round_to",
]


def is_missing(v: Any) -> bool:
    """``None`` or a float NaN (a string or a number is not missing).

    >>> is_missing(None), is_missing(float("nan")), is_missing(0), is_missing("[c]")
    (True, True, False, False)
    """
    return v is None or (isinstance(v, float) and math.isnan(v))


def fmt_int(v: Any) -> str:
    """``12,345``; blank for missing; a string as it is.

    >>> fmt_int(12345.4), fmt_int(float("nan"))
    ('12,345', '')
    """
    if is_missing(v):
        return ""
    if isinstance(v, str):
        return v
    return f"{v:,.0f}"


def fmt_num(v: Any, digits: int = 1) -> str:
    """``1,234.5`` (``digits`` decimals); blank for missing; a string as it is.

    >>> fmt_num(1234.54), fmt_num(2.0, 2)
    ('1,234.5', '2.00')
    """
    if is_missing(v):
        return ""
    if isinstance(v, str):
        return v
    return f"{v:,.{digits}f}"


def fmt_pct(v: Any, digits: int = 1, signed: bool = False) -> str:
    """A percentage already in percent units: ``+3.2%``; blank for missing.

    >>> fmt_pct(3.21, signed=True)
    '+3.2%'
    """
    if is_missing(v):
        return ""
    return f"{v:+.{digits}f}%" if signed else f"{v:.{digits}f}%"


def fmt_share(v: Any, digits: int = 1) -> str:
    """A share 0-1 as a percentage: ``99.0%``; blank for missing.

    >>> fmt_share(0.99)
    '99.0%'
    """
    if is_missing(v):
        return ""
    return f"{100 * v:.{digits}f}%"


def int_or_marker(v: Any) -> str:
    """A count in running text: ``12,345``, or ``[x]`` when not available.

    >>> int_or_marker(12345.0), int_or_marker(None)
    ('12,345', '[x]')
    """
    return fmt_int(v) or NOT_AVAILABLE


def change_or_marker(share: float) -> str:
    """A relative change (``0.032`` for 3.2% up) in running text: ``+3.2%``, or ``[x]``.

    >>> change_or_marker(0.032), change_or_marker(float("nan"))
    ('+3.2%', '[x]')
    """
    return fmt_pct(100 * share, signed=True) or NOT_AVAILABLE


def round_to(v: float, step: int) -> float:
    """Round for publication to the nearest ``step`` (projections are estimates, not counts);
    NaN stays NaN.

    >>> round_to(1234.0, 10), round_to(1235.0, 10), round_to(float("nan"), 10)
    (1230.0, 1240.0, nan)
    """
    return float(step * np.round(float(v) / step)) if v == v else np.nan


def cell_text(v: Any) -> str:
    """A table cell as text: a string as it is, missing as ``[x]``, a whole number with
    thousands separators, any other number to one decimal.

    >>> [cell_text(v) for v in ("[c]", None, 12345.0, 7, 2.25)]
    ['[c]', '[x]', '12,345', '7', '2.2']
    """
    if isinstance(v, str):
        return v
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return NOT_AVAILABLE
    if isinstance(v, (int, np.integer)) or (isinstance(v, float) and float(v).is_integer()):
        return f"{int(v):,}"
    return f"{float(v):,.1f}"


def cell_value(v: Any) -> Any:
    """A table cell for a spreadsheet: a string as it is, missing as ``[x]``, floats as
    ``float`` and other numbers as ``int`` (so the sheet holds numbers, not text).

    >>> cell_value(np.float64(2.5)), cell_value(np.int64(3)), cell_value(float("nan"))
    (2.5, 3, '[x]')
    """
    if isinstance(v, str):
        return v
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return NOT_AVAILABLE
    return float(v) if isinstance(v, (float, np.floating)) else int(v)


def excel_format(value: Any) -> str | None:
    """The spreadsheet number format for a cell value: one decimal for floats, a whole number
    for ints, ``None`` (leave as it is) for text.

    >>> excel_format(2.5), excel_format(3), excel_format("[c]")
    ('#,##0.0', '#,##0', None)
    """
    if isinstance(value, float):
        return "#,##0.0"
    if isinstance(value, int):
        return "#,##0"
    return None
