"""Cells a person opens in a spreadsheet: formula injection neutralised (CSV injection).

A spreadsheet reads a text cell beginning with ``=``, ``+``, ``-`` or ``@`` as a formula, and
one beginning with a tab or carriage return can start one too; a formula in a file from an
untrusted export (``=HYPERLINK(...)``, ``=cmd|...``) can leak data or run commands when the
file is opened. Following the OWASP rule ("CSV Injection", owasp.org/www-community/attacks/
CSV_Injection), every such *text* value gets a leading single quote, which spreadsheets show
as text. Numbers, dates and missing values are left alone (a real ``-5`` stays a number; the
text ``"-5"`` is text and is quoted). CSV quoting itself is pandas' job, except that a text
cell holding a carriage return makes :func:`to_csv` quote every field (a bare CR would start a
new row in a spreadsheet, and with it a new cell that could begin with ``=``).

Use :func:`to_csv` for every CSV the package writes for people (forecasts, staffing plans,
report tables) and :func:`neutralise` for every string put in a workbook.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pandas as pd

FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet treat text as a formula (OWASP)."""
QUOTE = "'"
"""Prefix that makes a spreadsheet show the value as text."""

__all__ = ["FORMULA_PREFIXES", "QUOTE", "neutralise", "neutralise_frame", "to_csv"]


def neutralise(value: Any) -> Any:
    """The value, with a leading ``'`` if it is text a spreadsheet would read as a formula.

    >>> neutralise('=HYPERLINK("http://x","y")')
    '\\'=HYPERLINK("http://x","y")'
    >>> neutralise("-5"), neutralise(-5), neutralise(2.5), neutralise(None), neutralise("reading")
    ("'-5", -5, 2.5, None, 'reading')
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return QUOTE + value
    return value


def _is_text(column: pd.Series) -> bool:
    dtype = column.dtype
    return (
        pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
    )


def _neutralise_column(column: pd.Series) -> pd.Series:
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = [neutralise(c) for c in column.cat.categories]
        return column.cat.rename_categories(categories)
    return column.map(neutralise, na_action="ignore")


def _neutralise_index(index: pd.Index) -> pd.Index:
    if isinstance(index, pd.MultiIndex):
        levels = [_neutralise_index(level) for level in index.levels]
        return index.set_levels(levels).set_names([neutralise(n) for n in index.names])
    out = index.map(neutralise) if _is_text(index.to_series()) else index
    return out.set_names(neutralise(index.name))


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every text cell, column name and index label neutralised.

    Text, object and category columns are mapped with :func:`neutralise` (numbers inside an
    object column are left as they are); numeric, boolean and datetime columns are unchanged.

    >>> df = pd.DataFrame({"hub": ["reading", "@x"], "-n": [-1, 2]})
    >>> neutralise_frame(df).to_dict("list")
    {'hub': ['reading', "'@x"], "'-n": [-1, 2]}
    """
    out = df.copy()
    for i in range(out.shape[1]):
        column = out.iloc[:, i]
        if _is_text(column):
            out.isetitem(i, _neutralise_column(column))
    out.columns = _neutralise_index(out.columns)
    out.index = _neutralise_index(out.index)
    return out


def to_csv(df: pd.DataFrame, path: str | Path, **kwargs: Any) -> Path:
    """Write ``df`` neutralised (:func:`neutralise_frame`) with ``DataFrame.to_csv``.

    Parameters
    ----------
    df : pandas.DataFrame
        The table to write.
    path : str or path-like
        The CSV file.
    **kwargs
        Passed to :meth:`pandas.DataFrame.to_csv` (e.g. ``index=False``).

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    frame = neutralise_frame(df)
    if _has_carriage_return(frame):
        # The csv module quotes a field holding "\n" but not one holding a lone "\r", which a
        # spreadsheet reads as a new row: "x\r=cmd" would put "=cmd" at the start of a cell.
        kwargs.setdefault("quoting", csv.QUOTE_ALL)
    frame.to_csv(path, **kwargs)
    return path


def _has_carriage_return(df: pd.DataFrame) -> bool:
    names = [*map(str, df.columns), *map(str, df.index.names)]
    if any("\r" in n for n in names):
        return True
    for i in range(df.shape[1]):
        column = df.iloc[:, i]
        if _is_text(column) and column.astype(str).str.contains("\r", regex=False).any():
            return True
    return _is_text(df.index.to_series()) and df.index.astype(str).str.contains("\r").any()
