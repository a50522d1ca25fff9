"""Compare two runs' outputs (before and after a change): same figures within rounding?

Usage::

    python scripts/compare_outputs.py BEFORE_DIR AFTER_DIR [--rel 0.005] [--abs 1e-6]
        [--ignore GLOB ...] [--ignore-key GLOB ...] [--mask REGEX ...] [--normalise-numbering]
        [--no-docx-text] [--show 5] [--out summary.md]

Files are paired by their path relative to each folder and compared by kind:

- JSON: recursively; numbers within tolerance, strings exactly; differences are named by their
  JSON path (``$.fy_yhat[0]``). ``--ignore-key`` skips paths (fnmatch, e.g. ``$.store``).
- CSV: cell by cell.
- XLSX: every sheet's cell values (openpyxl). Sheets are paired by name; with
  ``--normalise-numbering`` numbered sheets (``Table_3``) are paired by their title, then order.
- DOCX: every table's cell text and, unless ``--no-docx-text``, the paragraphs (python-docx).
- HTML: the visible text, line by line. PNG: the share of identical pixels, reported only,
  never a failure; so are the images embedded in HTML and DOCX files.
  PDF and other files: skipped (the HTML carries the same text).

Every text value is split into its numbers and the words around them: "£3.4m" is the words
"£#m" and the number 3.4, "1,234 (12.5%)" the words "# (#%)" and the numbers 1234 and 12.5.
The words must match exactly and each number within tolerance: a pair passes when
``|a - b| <= abs`` or ``|a - b| <= rel * max(|a|, |b|)``. Dates, times, financial and calendar
years and quarters inside text (``2026-03-31``, ``08:00``, ``2025-26``, ``2026Q3``, ``2026``)
are words, not numbers, so a year can never pass as "within rounding" of the next.
``--mask REGEX`` blanks what is expected to differ between runs (a run's time of day).

Prints a markdown summary (per file: cells compared, equal, within tolerance, different, the
largest relative difference and the first few differences), writes it to ``--out`` when given
and exits 0 when everything is equal within tolerance, 1 otherwise, 2 on bad input.
"""

from __future__ import annotations

import argparse
import base64
import csv
import difflib
import fnmatch
import io
import json
import math
import re
import sys
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

#: Matched before numbers and kept as words: dates, times, years, quarters, financial years.
_LITERAL = (
    r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
    r"|\d{1,2}/\d{1,2}/\d{2,4}"
    r"|\d{1,2}:\d{2}(?::\d{2})?"
    r"|\d{4}-\d{2}(?!\d)"
    r"|\d{4}\s?Q[1-4]"
    r"|(?<![\d,.])(?:19|20)\d{2}(?![\d,.]\d)"
)
#: A number as reports print it: optional sign, thousands commas, decimals, exponent.
_NUMBER = r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\d,]\d)"
_TOKEN = re.compile(rf"(?P<lit>{_LITERAL})|(?<![\w.])(?P<num>{_NUMBER})|(?P<word>\w+)")
_WHOLE_NUMBER = re.compile(rf"\s*{_NUMBER}\s*")
_NUMBERING = re.compile(r"^\s*(?:table|figure|chart)\s+\d+[a-z]?\s*[:.\u2013\u2014-]\s*", re.I)
_SHEET_NUMBER = re.compile(r"^(?:table|figure|chart)[ _]?\d+[a-z]?$", re.I)
#: Kinds whose files are compared value by value.
KINDS = {
    ".json": "json",
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
    ".png": "png",
}


class InputError(Exception):
    """Bad command-line input: reported on one line, exit 2."""


@dataclass(frozen=True)
class Tolerance:
    """How far two numbers may be apart and still count as the same figure.

    Attributes
    ----------
    rel : float
        Relative tolerance, as a fraction of the larger magnitude.
    abs : float
        Absolute tolerance, in the numbers' own unit.
    normalise_numbering : bool
        Strip a leading "Table n:" / "Figure n:" from text before comparing.
    masks : tuple of str
        Regular expressions: the parts of any text they match are replaced by ``<masked>`` on
        both sides before comparing (run times, timestamps, paths).
    """

    rel: float = 0.005
    abs: float = 1e-6
    normalise_numbering: bool = False
    masks: tuple[str, ...] = ()


@dataclass(kw_only=True)
class Counts:
    """How one file's values compared: counts, the largest relative difference and where."""

    compared: int = 0
    equal: int = 0
    within: int = 0
    different: int = 0
    max_rel: float = 0.0
    differences: list[str] = field(default_factory=list)
    largest: str = ""


@dataclass
class FileResult(Counts):
    """The comparison of one pair of files (or a file found on one side only).

    ``status`` is one of ``equal``, ``within``, ``differs``, ``only before``, ``only after``,
    ``skipped``, ``info`` (PNG: reported, never a failure) and ``error`` (unreadable).
    """

    path: str
    kind: str
    notes: list[str] = field(default_factory=list)
    status: str = ""

    @property
    def failed(self) -> bool:
        """Whether this file stops the comparison passing."""
        return self.status in {"differs", "only before", "only after", "error"}


@dataclass
class Tally(Counts):
    """Running counts of one file's value comparisons."""

    tol: Tolerance

    def add(self, where: str, a: Any, b: Any) -> None:
        """Compare one pair of values found at ``where`` and count the outcome."""
        verdict, rel = compare_values(a, b, self.tol)
        self.compared += 1
        if rel > self.max_rel:
            self.max_rel = rel
            self.largest = f"{where}: {_show(a)} -> {_show(b)}"
        if verdict == "equal":
            self.equal += 1
        elif verdict == "within":
            self.within += 1
        else:
            self.different += 1
            self.differences.append(f"{where}: {_show(a)} -> {_show(b)}")

    def missing(self, where: str, side: str, value: Any) -> None:
        """Count a value present on one side only (``side`` names where it is)."""
        self.compared += 1
        self.different += 1
        self.differences.append(f"{where}: only {side} ({_show(value)})")

    def result(self, path: str, kind: str, notes: Sequence[str] = ()) -> FileResult:
        """The file's result, with its status from the counts."""
        if self.different:
            status = "differs"
        elif self.within:
            status = "within"
        else:
            status = "equal"
        counts = {f.name: getattr(self, f.name) for f in fields(Counts)}
        return FileResult(path=path, kind=kind, notes=list(notes), status=status, **counts)


def _show(value: Any, width: int = 80) -> str:
    """A value as it should appear in a one-line difference, cut to ``width`` characters."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def rel_diff(a: float, b: float) -> float:
    """``|a - b|`` relative to the larger magnitude; 0 when both are 0.

    >>> rel_diff(100.0, 99.5)
    0.005
    >>> rel_diff(0.0, 0.0)
    0.0
    """
    scale = max(abs(a), abs(b))
    return 0.0 if scale == 0 else abs(a - b) / scale


def numbers_close(a: float, b: float, tol: Tolerance) -> bool:
    """Whether ``|a - b| <= abs`` or ``|a - b| <= rel * max(|a|, |b|)`` (NaN equals NaN).

    >>> numbers_close(1000.0, 1004.0, Tolerance(rel=0.005))
    True
    >>> numbers_close(1000.0, 1006.0, Tolerance(rel=0.005))
    False
    >>> numbers_close(0.0, 1e-7, Tolerance(rel=0.0, abs=1e-6))
    True
    """
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    diff = abs(a - b)
    return diff <= tol.abs or diff <= tol.rel * max(abs(a), abs(b))


def strip_numbering(text: str) -> str:
    """``text`` without a leading "Table n:" or "Figure n:".

    >>> strip_numbering("Table 3: Contacts by hub")
    'Contacts by hub'
    >>> strip_numbering("Figure 12. Demand")
    'Demand'
    """
    return _NUMBERING.sub("", text, count=1)


def normalise_text(text: str, tol: Tolerance) -> str:
    """``text`` as compared: numbering stripped when asked, the masks' matches replaced.

    >>> normalise_text("Produced 02/12/2026 02:26 by", Tolerance(masks=(r"\\d\\d:\\d\\d",)))
    'Produced 02/12/2026 <masked> by'
    """
    if tol.normalise_numbering:
        text = strip_numbering(text)
    for mask in tol.masks:
        text = re.sub(mask, "<masked>", text)
    return text


def parse_number(text: str) -> float | None:
    """The number a whole text cell holds ("1,234", "-0.5", "1e-3"), else None.

    >>> parse_number("12,519")
    12519.0
    >>> parse_number(" -0.2 ")
    -0.2
    >>> parse_number("2025-26") is None
    True
    """
    if not _WHOLE_NUMBER.fullmatch(text):
        return None
    return float(text.strip().replace(",", ""))


def split_numbers(text: str) -> tuple[str, list[float]]:
    """The words of ``text`` with each number replaced by ``#``, and the numbers.

    Dates, times, years, quarters and financial years stay words (see the module docstring).

    >>> split_numbers("£3.4m, up 12.5% on 2025-26 (1,234 contacts)")
    ('£#m, up #% on 2025-26 (# contacts)', [3.4, 12.5, 1234.0])
    >>> split_numbers("Table_3: p80 in 2026Q3, \u22121.5")
    ('Table_3: p80 in 2026Q3, #', [-1.5])
    """
    text = text.replace("\u2212", "-")
    words: list[str] = []
    numbers: list[float] = []
    last = 0
    for m in _TOKEN.finditer(text):
        if m.group("num") is None:
            continue
        words.append(text[last : m.start()])
        words.append("#")
        numbers.append(float(m.group("num").replace(",", "")))
        last = m.end()
    words.append(text[last:])
    return "".join(words), numbers


def _is_number(value: Any) -> bool:
    """Whether ``value`` is an int or float (a bool is not)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def compare_values(a: Any, b: Any, tol: Tolerance) -> tuple[str, float]:
    """Compare two cell values: ``("equal" | "within" | "different", largest relative diff)``.

    Numbers compare within tolerance; a number and a numeric text compare as numbers; texts
    compare word for word and number by number (:func:`split_numbers`); anything else exactly.

    >>> compare_values(1000.0, 998, Tolerance())
    ('within', 0.002)
    >>> compare_values("12,500 (3.1%)", "12,475 (3.1%)", Tolerance())
    ('within', 0.002)
    >>> compare_values("Table 3: Contacts", "Table 4: Contacts", Tolerance())
    ('different', 0.25)
    >>> compare_values("Table 3: Contacts", "Table 4: Contacts", Tolerance(rel=0, abs=0,
    ...                normalise_numbering=True))
    ('equal', 0.0)
    """
    if isinstance(a, str):
        a = normalise_text(a, tol)
    if isinstance(b, str):
        b = normalise_text(b, tol)
    if _is_number(a) and isinstance(b, str) and parse_number(b) is not None:
        b = parse_number(b)
    if _is_number(b) and isinstance(a, str) and parse_number(a) is not None:
        a = parse_number(a)
    if _is_number(a) and _is_number(b):
        a, b = float(a), float(b)
        if a == b or (math.isnan(a) and math.isnan(b)):
            return "equal", 0.0
        rel = rel_diff(a, b) if not (math.isnan(a) or math.isnan(b)) else math.inf
        return ("within" if numbers_close(a, b, tol) else "different"), rel
    if isinstance(a, str) and isinstance(b, str):
        if a == b:
            return "equal", 0.0
        words_a, nums_a = split_numbers(a)
        words_b, nums_b = split_numbers(b)
        rels = [rel_diff(x, y) for x, y in zip(nums_a, nums_b, strict=False)]
        rel = max(rels, default=0.0)
        if words_a != words_b or len(nums_a) != len(nums_b):
            return "different", rel
        ok = all(numbers_close(x, y, tol) for x, y in zip(nums_a, nums_b, strict=True))
        return ("within" if ok else "different"), rel
    return ("equal" if a == b else "different"), 0.0


# --- walking the folders -------------------------------------------------------------------


def list_files(root: Path, ignore: Sequence[str]) -> dict[str, Path]:
    """Files under ``root`` by their POSIX path relative to it, less those ``ignore`` matches.

    A glob matches the relative path or the file name (``*.pdf``, ``logs/*``).
    """
    found = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(root).as_posix()
        if any(fnmatch.fnmatch(rel, g) or fnmatch.fnmatch(path.name, g) for g in ignore):
            continue
        found[rel] = path
    return found


# --- JSON ----------------------------------------------------------------------------------


def compare_json(a: Any, b: Any, tally: Tally, path: str = "$", ignore: Sequence[str] = ()) -> None:
    """Walk two parsed JSON documents side by side, counting every leaf in ``tally``."""
    if any(fnmatch.fnmatch(path, g) for g in ignore):
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            sub = f"{path}.{key}"
            if key not in b:
                if not any(fnmatch.fnmatch(sub, g) for g in ignore):
                    tally.missing(sub, "before", a[key])
            elif key not in a:
                if not any(fnmatch.fnmatch(sub, g) for g in ignore):
                    tally.missing(sub, "after", b[key])
            else:
                compare_json(a[key], b[key], tally, sub, ignore)
    elif isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            compare_json(x, y, tally, f"{path}[{i}]", ignore)
        for i in range(len(b), len(a)):
            tally.missing(f"{path}[{i}]", "before", a[i])
        for i in range(len(a), len(b)):
            tally.missing(f"{path}[{i}]", "after", b[i])
    else:
        tally.add(path, a, b)


# --- tables (CSV, XLSX, DOCX) --------------------------------------------------------------


def compare_grid(
    rows_a: Sequence[Sequence[Any]], rows_b: Sequence[Sequence[Any]], tally: Tally, label: str
) -> None:
    """Compare two tables cell by cell (row r, column c named ``label!R{r}C{c}``, from 1).

    Cells beyond the other table's shape count as different unless they are empty.
    """
    for r in range(max(len(rows_a), len(rows_b))):
        row_a = rows_a[r] if r < len(rows_a) else []
        row_b = rows_b[r] if r < len(rows_b) else []
        for c in range(max(len(row_a), len(row_b))):
            where = f"{label}R{r + 1}C{c + 1}"
            a = row_a[c] if c < len(row_a) else None
            b = row_b[c] if c < len(row_b) else None
            if c >= len(row_a) and _empty(b):
                continue
            if c >= len(row_b) and _empty(a):
                continue
            if c >= len(row_a):
                tally.missing(where, "after", b)
            elif c >= len(row_b):
                tally.missing(where, "before", a)
            else:
                tally.add(where, a, b)


def _empty(value: Any) -> bool:
    """Whether a cell is empty (None or blank text)."""
    return value is None or (isinstance(value, str) and not value.strip())


def read_csv(path: Path) -> list[list[str]]:
    """A CSV file's rows as text (UTF-8, with or without BOM)."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        return [row for row in csv.reader(f)]


def read_xlsx(path: Path) -> dict[str, list[list[Any]]]:
    """Every sheet's cell values (cached values of formulas), by sheet name in workbook order."""
    import openpyxl

    wb = openpyxl.load_workbook(path, data_only=True, read_only=True)
    try:
        return {ws.title: [list(row) for row in ws.iter_rows(values_only=True)] for ws in wb}
    finally:
        wb.close()


def sheet_title(rows: Sequence[Sequence[Any]]) -> str:
    """A sheet's title: its first non-empty text cell."""
    for row in rows:
        for value in row:
            if isinstance(value, str) and value.strip():
                return value.strip()
    return ""


def pair_sheets(
    names_a: Sequence[str],
    names_b: Sequence[str],
    titles_a: Sequence[str],
    titles_b: Sequence[str],
    normalise: bool,
) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """Pair two workbooks' sheets: ``(pairs, only before, only after)``.

    Sheets pair by name. With ``normalise``, a numbered sheet (``Table_3``) pairs instead by its
    title with the numbering stripped, and the numbered sheets left over pair in order, so that
    sheets whose numbers shifted still meet.

    >>> pair_sheets(["Cover", "Table_1", "Table_2"], ["Cover", "Table_1", "Table_2", "Table_3"],
    ...             ["c", "Table 1: A", "Table 2: B"], ["c", "Table 1: N", "Table 2: A",
    ...             "Table 3: B"], normalise=True)
    ([('Cover', 'Cover'), ('Table_1', 'Table_2'), ('Table_2', 'Table_3')], [], ['Table_1'])
    """
    numbered = (lambda n: bool(_SHEET_NUMBER.match(n))) if normalise else (lambda n: False)
    pairs = [(n, n) for n in names_a if n in names_b and not numbered(n)]
    left_a = [(n, t) for n, t in zip(names_a, titles_a, strict=True) if numbered(n)]
    left_b = [(n, t) for n, t in zip(names_b, titles_b, strict=True) if numbered(n)]
    by_title_b: dict[str, list[str]] = {}
    for n, t in left_b:
        by_title_b.setdefault(strip_numbering(t), []).append(n)
    used_b: set[str] = set()
    rest_a = []
    for n, t in left_a:
        match = [m for m in by_title_b.get(strip_numbering(t), []) if m not in used_b]
        if match:
            pairs.append((n, match[0]))
            used_b.add(match[0])
        else:
            rest_a.append(n)
    rest_b = [n for n, _ in left_b if n not in used_b]
    pairs += list(zip(rest_a, rest_b, strict=False))
    paired_a = {a for a, _ in pairs}
    paired_b = {b for _, b in pairs}
    order = {n: i for i, n in enumerate(names_a)}
    pairs.sort(key=lambda p: order[p[0]])
    return (
        pairs,
        [n for n in names_a if n not in paired_a],
        [n for n in names_b if n not in paired_b],
    )


def compare_xlsx(path_a: Path, path_b: Path, tally: Tally) -> list[str]:
    """Compare every paired sheet of two workbooks; returns notes on how sheets were paired."""
    book_a, book_b = read_xlsx(path_a), read_xlsx(path_b)
    names_a, names_b = list(book_a), list(book_b)
    pairs, only_a, only_b = pair_sheets(
        names_a,
        names_b,
        [sheet_title(book_a[n]) for n in names_a],
        [sheet_title(book_b[n]) for n in names_b],
        tally.tol.normalise_numbering,
    )
    notes = [f"sheet {a} paired with {b}" for a, b in pairs if a != b]
    for a, b in pairs:
        compare_grid(book_a[a], book_b[b], tally, f"{a}!" if a == b else f"{a}|{b}!")
    for n in only_a:
        tally.missing(f"sheet {n}", "before", sheet_title(book_a[n]))
    for n in only_b:
        tally.missing(f"sheet {n}", "after", sheet_title(book_b[n]))
    return notes


def read_docx(path: Path) -> tuple[list[list[list[str]]], list[str]]:
    """A DOCX file's tables (rows of cell text) and its non-empty paragraphs' text."""
    import docx

    document = docx.Document(str(path))
    tables = [[[cell.text for cell in row.cells] for row in t.rows] for t in document.tables]
    paragraphs = [p.text for p in document.paragraphs if p.text.strip()]
    return tables, paragraphs


def compare_lines(lines_a: Sequence[str], lines_b: Sequence[str], tally: Tally, label: str) -> None:
    """Compare two sequences of text lines, aligned on their words so an insertion shifts nothing.

    Lines align by :func:`difflib.SequenceMatcher` on their words (numbers replaced by ``#``,
    numbering stripped when asked); aligned lines compare number by number; lines replaced,
    inserted or deleted count as different.
    """

    def key(line: str) -> str:
        return split_numbers(normalise_text(line, tally.tol))[0]

    matcher = difflib.SequenceMatcher(
        None, [key(x) for x in lines_a], [key(x) for x in lines_b], autojunk=False
    )
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal" or (op == "replace" and i2 - i1 == j2 - j1):
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                tally.add(f"{label}{i + 1}", lines_a[i], lines_b[j])
            continue
        for i in range(i1, i2):
            tally.missing(f"{label}{i + 1}", "before", lines_a[i])
        for j in range(j1, j2):
            tally.missing(f"{label}{j + 1} (after)", "after", lines_b[j])


def compare_docx(path_a: Path, path_b: Path, tally: Tally, text: bool) -> list[str]:
    """Compare two DOCX files' tables cell by cell, and their paragraphs when ``text``."""
    tables_a, paras_a = read_docx(path_a)
    tables_b, paras_b = read_docx(path_b)
    for i, (ta, tb) in enumerate(zip(tables_a, tables_b, strict=False)):
        compare_grid(ta, tb, tally, f"table {i + 1} ")
    for i in range(len(tables_b), len(tables_a)):
        tally.missing(f"table {i + 1}", "before", sheet_title(tables_a[i]))
    for i in range(len(tables_a), len(tables_b)):
        tally.missing(f"table {i + 1}", "after", sheet_title(tables_b[i]))
    if text:
        compare_lines(paras_a, paras_b, tally, "paragraph ")
    return [] if text else ["paragraphs not compared (--no-docx-text)"]


# --- HTML and PNG --------------------------------------------------------------------------


class _TextLines(HTMLParser):
    """The visible text of an HTML page, one line per block of text (scripts and styles out)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"} and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self._skip:
            self.lines.append(text)


def html_lines(path: Path) -> list[str]:
    """The visible text of an HTML file, one entry per run of text between tags."""
    parser = _TextLines()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    parser.close()
    return parser.lines


def pixel_match(image_a: Path | bytes, image_b: Path | bytes) -> tuple[float, str]:
    """The share of pixels two images (files or encoded bytes) have identical (RGBA), and a
    note on their size."""
    import numpy as np
    from PIL import Image

    def load(image: Path | bytes) -> Image.Image:
        return Image.open(io.BytesIO(image) if isinstance(image, bytes) else image)

    with load(image_a) as ia, load(image_b) as ib:
        if ia.size != ib.size:
            return 0.0, f"sizes differ: {ia.size} -> {ib.size}"
        a = np.asarray(ia.convert("RGBA"))
        b = np.asarray(ib.convert("RGBA"))
    return float((a == b).all(axis=-1).mean()), f"{a.shape[1]}x{a.shape[0]}"


_DATA_IMAGE = re.compile(rb"data:image/(?:png|jpeg);base64,([A-Za-z0-9+/=\s]+)")


def embedded_images(path: Path) -> list[bytes]:
    """The images an HTML file carries as base64 data URIs, or a DOCX file in word/media/."""
    if path.suffix.lower() == ".docx":
        with zipfile.ZipFile(path) as z:
            names = sorted(n for n in z.namelist() if n.startswith("word/media/"))
            return [z.read(n) for n in names]
    return [base64.b64decode(m.group(1)) for m in _DATA_IMAGE.finditer(path.read_bytes())]


def image_note(path_a: Path, path_b: Path) -> list[str]:
    """A note on the embedded images of two files: how many are pixel-identical, the lowest
    share of identical pixels. Reported only: a redrawn figure is never a failure."""
    images_a, images_b = embedded_images(path_a), embedded_images(path_b)
    if not images_a and not images_b:
        return []
    if len(images_a) != len(images_b):
        return [f"embedded images: {len(images_a)} -> {len(images_b)} (not compared)"]
    shares = [pixel_match(a, b)[0] for a, b in zip(images_a, images_b, strict=True)]
    same = sum(s == 1.0 for s in shares)
    return [
        f"embedded images: {same} of {len(shares)} pixel-identical; lowest share of identical "
        f"pixels {min(shares):.2%}"
    ]


# --- one pair of files ---------------------------------------------------------------------


def compare_files(
    rel: str,
    path_a: Path,
    path_b: Path,
    tol: Tolerance,
    ignore_keys: Sequence[str] = (),
    docx_text: bool = True,
) -> FileResult:
    """Compare one pair of files by kind (their suffix); an unreadable file is an ``error``."""
    kind = KINDS.get(path_a.suffix.lower(), "other")
    tally = Tally(tol)
    notes: list[str] = []
    try:
        if kind == "json":
            a = json.loads(path_a.read_text(encoding="utf-8"))
            b = json.loads(path_b.read_text(encoding="utf-8"))
            compare_json(a, b, tally, ignore=ignore_keys)
            if ignore_keys:
                notes.append("ignored: " + ", ".join(ignore_keys))
        elif kind == "csv":
            compare_grid(read_csv(path_a), read_csv(path_b), tally, "")
        elif kind == "xlsx":
            notes = compare_xlsx(path_a, path_b, tally)
        elif kind == "docx":
            notes = compare_docx(path_a, path_b, tally, docx_text) + image_note(path_a, path_b)
        elif kind == "html":
            compare_lines(html_lines(path_a), html_lines(path_b), tally, "text line ")
            notes = image_note(path_a, path_b)
        elif kind == "png":
            share, note = pixel_match(path_a, path_b)
            status = "equal" if share == 1.0 else "info"
            return FileResult(rel, kind, notes=[f"{share:.2%} of pixels identical ({note})"],
                              status=status)  # fmt: skip
        else:
            same = path_a.read_bytes() == path_b.read_bytes()
            return FileResult(
                rel, kind, notes=["not compared" + (" (bytes identical)" if same else "")],
                status="skipped",
            )  # fmt: skip
    except Exception as exc:  # a damaged or unexpected file is a finding, not a crash
        return FileResult(rel, kind, notes=[f"could not read: {type(exc).__name__}: {exc}"],
                          status="error")  # fmt: skip
    return tally.result(rel, kind, notes)


def compare_dirs(
    before: Path,
    after: Path,
    tol: Tolerance,
    ignore: Sequence[str] = (),
    ignore_keys: Sequence[str] = (),
    docx_text: bool = True,
) -> list[FileResult]:
    """Compare every file of two output folders, paired by relative path (sorted)."""
    files_a = list_files(before, ignore)
    files_b = list_files(after, ignore)
    results = []
    for rel in sorted(files_a.keys() | files_b.keys()):
        kind = KINDS.get(Path(rel).suffix.lower(), "other")
        if rel not in files_b:
            results.append(FileResult(rel, kind, status="only before"))
        elif rel not in files_a:
            results.append(FileResult(rel, kind, status="only after"))
        else:
            results.append(
                compare_files(rel, files_a[rel], files_b[rel], tol, ignore_keys, docx_text)
            )
    return results


# --- the summary ---------------------------------------------------------------------------


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def summary_markdown(
    results: Sequence[FileResult],
    before: Path,
    after: Path,
    tol: Tolerance,
    show: int = 5,
) -> str:
    """The markdown summary: totals, one row per file, then each file's first differences."""
    failed = [r for r in results if r.failed]
    total = Tally(tol)
    for r in results:
        total.compared += r.compared
        total.equal += r.equal
        total.within += r.within
        total.different += r.different
        total.max_rel = max(total.max_rel, r.max_rel)
    verdict = "FAIL" if failed else "PASS"
    lines = [
        "# Output comparison",
        "",
        f"- before: `{before}`",
        f"- after: `{after}`",
        f"- tolerance: rel {tol.rel:g}, abs {tol.abs:g}"
        + ("; table/figure numbering ignored" if tol.normalise_numbering else "")
        + "".join(f"; masked `{m}`" for m in tol.masks),
        f"- **{verdict}**: {len(results)} files, {len(failed)} failing; {total.compared} values "
        f"compared, {total.equal} equal, {total.within} within tolerance, "
        f"{total.different} different; largest relative difference {total.max_rel:.3g}",
        "",
        "| file | kind | status | compared | equal | within tol | different | max rel diff |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {_cell(r.path)} | {r.kind} | {r.status} | {r.compared} | {r.equal} | {r.within} "
            f"| {r.different} | {r.max_rel:.3g} |"
        )
    details = [r for r in results if r.differences or r.notes or r.largest]
    if details:
        lines += ["", "## Details"]
    for r in details:
        lines += ["", f"### {r.path} ({r.status})"]
        lines += [f"- note: {_cell(n)}" for n in r.notes]
        if r.largest:
            lines.append(f"- largest relative difference ({r.max_rel:.3g}): `{r.largest}`")
        lines += [f"- `{d}`" for d in r.differences[:show]]
        if len(r.differences) > show:
            lines.append(f"- ... and {len(r.differences) - show} more")
    return "\n".join(lines) + "\n"


# --- command line --------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (``compare_outputs: error: ...``)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(message)


def build_parser() -> argparse.ArgumentParser:
    """The command-line options."""
    p = _Parser(prog="compare_outputs", description=__doc__.splitlines()[0])
    p.add_argument("before", type=Path, help="folder of the run before the change")
    p.add_argument("after", type=Path, help="folder of the run after the change")
    p.add_argument("--rel", type=float, default=0.005, help="relative tolerance (fraction)")
    p.add_argument("--abs", type=float, default=1e-6, help="absolute tolerance")
    p.add_argument(
        "--ignore", action="append", default=[], metavar="GLOB",
        help="leave out files whose relative path or name matches (repeat)",
    )  # fmt: skip
    p.add_argument(
        "--ignore-key", action="append", default=[], metavar="GLOB",
        help="leave out JSON paths that match, e.g. '$.store' or '*.created_at' (repeat)",
    )  # fmt: skip
    p.add_argument(
        "--mask", action="append", default=[], metavar="REGEX",
        help="replace what this matches in any text on both sides before comparing (repeat)",
    )  # fmt: skip
    p.add_argument(
        "--normalise-numbering", action="store_true",
        help="strip leading 'Table n:'/'Figure n:' from text; pair numbered sheets by title",
    )  # fmt: skip
    p.add_argument(
        "--docx-text", action=argparse.BooleanOptionalAction, default=True,
        help="also compare DOCX paragraphs (default: yes)",
    )  # fmt: skip
    p.add_argument("--show", type=int, default=5, help="differences listed per file")
    p.add_argument("--out", type=Path, help="also write the summary to this markdown file")
    return p


def check_args(args: argparse.Namespace) -> None:
    """Refuse folders that do not exist and negative tolerances (:class:`InputError`)."""
    for name in ("before", "after"):
        folder = getattr(args, name)
        if not folder.is_dir():
            raise InputError(f"{name} folder {folder} does not exist or is not a folder")
    for name in ("rel", "abs"):
        value = getattr(args, name)
        if not value >= 0:
            raise InputError(f"--{name} must be a number >= 0, not {value}")
    if args.show < 0:
        raise InputError(f"--show must be >= 0, not {args.show}")
    for mask in args.mask:
        try:
            re.compile(mask)
        except re.error as exc:
            raise InputError(f"--mask {mask!r} is not a regular expression: {exc}") from exc


def main(argv: Sequence[str] | None = None, echo: Callable[[str], Any] = print) -> int:
    """Run the comparison; returns the exit code (0 same, 1 different, 2 bad input)."""
    try:
        args = build_parser().parse_args(argv)
        check_args(args)
        tol = Tolerance(args.rel, args.abs, args.normalise_numbering, tuple(args.mask))
        results = compare_dirs(
            args.before, args.after, tol, args.ignore, args.ignore_key, args.docx_text
        )
        text = summary_markdown(results, args.before, args.after, tol, args.show)
        if args.out is not None:
            try:
                args.out.parent.mkdir(parents=True, exist_ok=True)
                args.out.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise InputError(f"cannot write {args.out}: {exc.strerror or exc}") from exc
    except InputError as exc:
        print(f"compare_outputs: error: {exc}", file=sys.stderr)
        return 2
    echo(text.rstrip("\n"))
    return 1 if any(r.failed for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
