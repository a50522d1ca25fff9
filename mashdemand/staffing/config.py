"""Staffing inputs: frozen dataclasses loaded from one TOML file with sourced defaults.

:func:`load_config` reads ``mashdemand/defaults/staffing.toml`` (every default is documented
and sourced there) and, optionally, a user file whose keys override the defaults table by table.
Everything the staffing engine assumes is in the returned :class:`StaffingConfig`.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from mashdemand import schema
from mashdemand.errors import MashdemandError
from mashdemand.standards import (
    DAY_TYPES,
    Deadline,
    ServiceStandards,
    StandardsError,
    standards_from_dict,
)
from mashdemand.standards import parse_hours as _parse_hours

__all__ = [
    "DAY_TYPES",
    "PRIORITIES",
    "ROLE_NAMES",
    "Deadline",
    "OperatingOption",
    "Role",
    "StaffingConfig",
    "StaffingError",
    "load_config",
    "parse_hours",
]

PRIORITIES: tuple[str, ...] = schema.PRIORITIES  # urgent, high, medium, standard
ROLE_NAMES: tuple[str, ...] = ("police", "social_care", "health", "business_support")
TIE_BREAKS: tuple[str, ...] = ("out_of_hours_arrivals", "monday_backlog", "order")
WEEKS_PER_YEAR = 365.25 / 7
DEFAULTS_FILE = "staffing.toml"


class StaffingError(MashdemandError, ValueError):
    """Bad staffing input (config, forecast or contacts); the message names the file or column."""


def parse_hours(text: str | None, where: str = "hours") -> tuple[int, int] | None:
    """Parse ``"HH:MM-HH:MM"`` to (open, close) minutes after midnight; ``""`` means closed.

    :func:`mashdemand.standards.parse_hours`, raising :class:`StaffingError`.

    >>> parse_hours("08:00-15:30")
    (480, 930)
    >>> parse_hours("") is None
    True
    """
    return _parse_hours(text, where, error=StaffingError)


@dataclass(frozen=True)
class Role:
    """A team role: its share of the work and the hours one FTE gives in a year.

    Attributes
    ----------
    share : float
        Share of each contact's work that falls to the role.
    contracted_hours_per_week : float
        [h/week] for one FTE.
    annual_leave_days, bank_holiday_days, training_days : float
        [days/year], each day ``contracted_hours_per_week / 5`` hours.
    sickness_rate, other_abstraction : float
        Shares of the hours left after leave and training.
    """

    share: float
    contracted_hours_per_week: float
    annual_leave_days: float
    bank_holiday_days: float
    training_days: float
    sickness_rate: float
    other_abstraction: float

    @property
    def productive_hours(self) -> float:
        """Productive hours per FTE per year [h/FTE/year].

        >>> r = Role(1.0, 37, 27, 8, 5, 0.035, 0.05)
        >>> round(r.productive_hours)
        1496
        """
        contracted = self.contracted_hours_per_week * WEEKS_PER_YEAR
        day = self.contracted_hours_per_week / 5
        away = (self.annual_leave_days + self.bank_holiday_days + self.training_days) * day
        return (contracted - away) * (1 - self.sickness_rate - self.other_abstraction)

    @property
    def productive_share(self) -> float:
        """Productive hours as a share of contracted hours."""
        return self.productive_hours / (self.contracted_hours_per_week * WEEKS_PER_YEAR)


@dataclass(frozen=True)
class OperatingOption:
    """Opening hours, priorities worked and minimum cover of one operating option.

    Attributes
    ----------
    name : str
        Identifier used in outputs (``today``, ``seven_day``, ...).
    description : str
        One line for reports.
    hours : Mapping[str, tuple[int, int] | None]
        Day type -> (open, close) minutes after midnight, or None when closed.
    priorities : Mapping[str, tuple[str, ...]]
        Day type -> priorities worked that day.
    min_staff : int
        Minimum staff on duty in an open hour of a day when every priority is worked.
    min_staff_cover : int
        Minimum staff on duty in an open hour of a limited-cover day.
    """

    name: str
    description: str
    hours: Mapping[str, tuple[int, int] | None]
    priorities: Mapping[str, tuple[str, ...]]
    min_staff: int = 2
    min_staff_cover: int = 1
    label_text: str | None = None

    @property
    def label(self) -> str:
        """The option's name for readers: the ``label`` given in the config, else its hours.

        >>> day = (8 * 60, 16 * 60)
        >>> hours = {d: day for d in ("mon", "tue", "wed", "thu", "fri")}
        >>> OperatingOption("o", "", {**hours, "sat": None}, {}).label
        '08:00-16:00 weekdays'
        """
        return self.label_text or option_label(self.hours, self.priorities)

    def is_open(self, day_type: str) -> bool:
        return self.hours.get(day_type) is not None

    def full_service(self, day_type: str) -> bool:
        """Open for every priority on this day type."""
        return self.is_open(day_type) and set(self.priorities[day_type]) == set(PRIORITIES)

    def open_hours_per_week(self) -> float:
        """Opening hours in a week without bank holidays [h/week]."""
        total = 0.0
        for d in DAY_TYPES[:7]:
            span = self.hours.get(d)
            if span is not None:
                total += (span[1] - span[0]) / 60
        return total


def _span(span: tuple[int, int]) -> str:
    return f"{span[0] // 60:02d}:{span[0] % 60:02d}-{span[1] // 60:02d}:{span[1] % 60:02d}"


def option_label(
    hours: Mapping[str, tuple[int, int] | None], priorities: Mapping[str, tuple[str, ...]]
) -> str:
    """A short reader's name for opening hours, e.g. ``07:00-19:00 weekdays``.

    Weekdays with the same hours are named together (``weekdays``, ``Mon-Thu``); weekends open
    for every priority on the weekday hours make ``seven days``; weekend hours for some
    priorities only are added as ``weekend cover``.

    Examples
    --------
    >>> wk = {d: (7 * 60, 19 * 60) for d in ("mon", "tue", "wed", "thu", "fri")}
    >>> cover = {"sat": (9 * 60, 17 * 60), "sun": (9 * 60, 17 * 60)}
    >>> option_label({**wk, **cover}, {"sat": ("urgent", "high"), "sun": ("urgent", "high")})
    '07:00-19:00 weekdays; weekend cover 09:00-17:00'
    >>> seven = {d: (8 * 60, 16 * 60) for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    >>> option_label(seven, {})
    '08:00-16:00 seven days'
    >>> option_label({**wk, "fri": (7 * 60, 15 * 60 + 30)}, {})
    '07:00-19:00 Mon-Thu, 07:00-15:30 Fri'
    """
    names = {"mon": "Mon", "tue": "Tue", "wed": "Wed", "thu": "Thu", "fri": "Fri"}
    days = list(names)
    weekend = ("sat", "sun")

    def full(d: str) -> bool:
        return set(priorities.get(d, PRIORITIES)) == set(PRIORITIES)

    wk = [hours.get(d) for d in days]
    if all(w == wk[0] for w in wk) and wk[0] is not None:
        if all(hours.get(d) == wk[0] and full(d) for d in weekend):
            return f"{_span(wk[0])} seven days"
        parts = [f"{_span(wk[0])} weekdays"]
    else:
        parts, i = [], 0
        while i < len(days):
            j = i
            while j + 1 < len(days) and wk[j + 1] == wk[i]:
                j += 1
            if wk[i] is not None:
                run = names[days[i]] if i == j else f"{names[days[i]]}-{names[days[j]]}"
                parts.append(f"{_span(wk[i])} {run}")
            i = j + 1
        parts = [", ".join(parts)] if parts else []
    we = [hours.get(d) for d in weekend]
    if we[0] is not None and we[0] == we[1]:
        what = "weekends" if all(full(d) for d in weekend) else "weekend cover"
        parts.append(
            f"{what} {_span(we[0])}" if what == "weekend cover" else f"{_span(we[0])} {what}"
        )
    else:
        for d, span in zip(weekend, we, strict=True):
            if span is not None:
                parts.append(f"{d.capitalize()} {_span(span)}")
    return "; ".join(parts) or "closed"


@dataclass(frozen=True)
class StaffingConfig:
    """Every input of the staffing engine (see ``defaults/staffing.toml`` for sources).

    Built by :func:`load_config` from the shipped TOML (and a user's overrides): the TOML is
    the one definition of every value, so no field has a default here.

    Attributes
    ----------
    working_time : Mapping[str, tuple[int, int] | None]
        The standards' clock: working hours by day type (bank holidays never working).
    deadlines : Mapping[str, Deadline]
        By priority (:class:`mashdemand.standards.Deadline`; see :attr:`standards`).
    targets : Mapping[str, float]
        Share within deadline required, by priority.
    max_utilisation : float
        Contact work / staff time on duty, at most.
    minutes : Mapping[str, float]
        Staff minutes per contact by priority [min].
    minutes_by_source : Mapping[str, Mapping[str, float]]
        Source -> priority -> minutes, where a source differs.
    work_cv : float
        Coefficient of variation of one contact's work (contact-level simulation).
    rpa_current_share, rpa_research_minutes, rpa_minutes_saved : float
        RPA coverage today, minutes of the manual research step, minutes RPA saves.
    roles : Mapping[str, Role]
        Team roles (shares add up to 1).
    options : Mapping[str, OperatingOption]
        Operating options, the baseline first.
    cover_hours : tuple[int, int]
        Weekend and bank-holiday cover window for the cover analysis (minutes).
    cover_priorities : tuple[str, ...]
        Priorities worked on cover days in the cover analysis.
    cover_max_staff : int
        Largest weekend cover level tried.
    tolerance : float
        Options within this share of the cheapest FTE (or 0.1 FTE) count as equally cheap.
    tie_break : str
        Among equally cheap options: ``out_of_hours_arrivals``, ``monday_backlog`` or
        ``order`` (first listed).
    profile_years : float
        Years of record-level history for profiles.
    shrinkage : float
        Pseudo-count towards the weekday/weekend profile.
    warmup_days, cooldown_days : int
        Simulated days before and after the quarter.
    replications : int
        Contact-level replications in ``verify``.
    max_staff : int
        Upper bound on staff on duty in one hour.
    source : str
        Where the configuration came from.
    """

    working_time: Mapping[str, tuple[int, int] | None]
    deadlines: Mapping[str, Deadline]
    targets: Mapping[str, float]
    max_utilisation: float
    minutes: Mapping[str, float]
    minutes_by_source: Mapping[str, Mapping[str, float]]
    work_cv: float
    rpa_current_share: float
    rpa_research_minutes: float
    rpa_minutes_saved: float
    roles: Mapping[str, Role]
    options: Mapping[str, OperatingOption]
    cover_hours: tuple[int, int]
    cover_priorities: tuple[str, ...]
    cover_max_staff: int
    tolerance: float
    tie_break: str
    profile_years: float
    shrinkage: float
    warmup_days: int
    cooldown_days: int
    replications: int
    max_staff: int
    source: str = field(default="defaults", compare=False)

    @property
    def standards(self) -> ServiceStandards:
        """The service standards the plan is held to: the same object the FMS measures with.

        >>> from mashdemand.standards import load_standards
        >>> load_config().standards == load_standards()
        True
        """
        return ServiceStandards(working_time=self.working_time, deadlines=self.deadlines)

    @property
    def baseline(self) -> str:
        """Name of the first option (today's hours)."""
        return next(iter(self.options))

    def minutes_for(self, priority: str, source: str | None = None) -> float:
        """Staff minutes per contact of a priority (and source, where it differs) [min].

        >>> cfg = load_config()
        >>> cfg.minutes_for("standard"), cfg.minutes_for("standard", "police")
        (30.0, 25.0)
        """
        if source is not None and priority in self.minutes_by_source.get(source, {}):
            return float(self.minutes_by_source[source][priority])
        return float(self.minutes[priority])

    def hours_per_fte(self) -> float:
        """Staff-hours per year that one FTE of the role mix provides [h/FTE/year].

        The harmonic mix of the roles' productive hours weighted by their work shares, so
        that ``hours / hours_per_fte()`` equals the sum of the roles' FTE.
        """
        return 1.0 / sum(r.share / r.productive_hours for r in self.roles.values())

    def fte_by_role(self, staff_hours_per_year: float) -> dict[str, float]:
        """Split required staff-hours per year into FTE by role [FTE]."""
        return {
            name: staff_hours_per_year * r.share / r.productive_hours
            for name, r in self.roles.items()
        }

    def with_options(self, names: list[str] | tuple[str, ...]) -> StaffingConfig:
        """A copy keeping only the named options (in that order)."""
        unknown = [n for n in names if n not in self.options]
        if unknown:
            raise StaffingError(
                f"{self.source}: unknown option(s) {', '.join(unknown)}; "
                f"known: {', '.join(self.options)}"
            )
        return dataclasses.replace(self, options={n: self.options[n] for n in names})

    def replace(self, **changes: Any) -> StaffingConfig:
        """A copy with some fields changed (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)


# --- Loading ----------------------------------------------------------------------------------
def _merge(base: dict, over: Mapping) -> dict:
    """Recursive dict merge; ``options`` and ``roles`` tables are replaced whole when given."""
    out = dict(base)
    for k, v in over.items():
        if k in ("options", "roles") and isinstance(v, Mapping):
            out[k] = dict(v)
        elif isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def _num(d: Mapping, key: str, where: str, lo: float | None = None, hi: float | None = None):
    if key not in d:
        raise StaffingError(f"{where}: missing {key!r}")
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise StaffingError(f"{where}.{key}: expected a number, got {v!r}")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise StaffingError(f"{where}.{key}: {v} outside [{lo}, {hi}]")
    return float(v)


def _check_keys(d: Mapping, allowed: tuple[str, ...], where: str) -> None:
    bad = [k for k in d if k not in allowed]
    if bad:
        raise StaffingError(
            f"{where}: unknown key(s) {', '.join(map(str, bad))}; expected {', '.join(allowed)}"
        )


def _priority_map(d: Mapping, where: str) -> dict[str, float]:
    _check_keys(d, PRIORITIES, where)
    missing = [p for p in PRIORITIES if p not in d]
    if missing:
        raise StaffingError(f"{where}: missing priority(ies) {', '.join(missing)}")
    return {p: _num(d, p, where, 0) for p in PRIORITIES}


def _priorities(v: Any, where: str) -> tuple[str, ...]:
    if not isinstance(v, list | tuple) or not v:
        raise StaffingError(f"{where}: expected a non-empty list of priorities")
    bad = [p for p in v if p not in PRIORITIES]
    if bad:
        raise StaffingError(
            f"{where}: unknown priority(ies) {', '.join(map(str, bad))}; "
            f"expected {', '.join(PRIORITIES)}"
        )
    return tuple(p for p in PRIORITIES if p in v)


def _option(name: str, d: Mapping, where: str) -> OperatingOption:
    w = f"{where}: options.{name}"
    _check_keys(
        d, ("description", "label", "hours", "priorities", "min_staff", "min_staff_cover"), w
    )
    hours_in = d.get("hours", {})
    if not isinstance(hours_in, Mapping):
        raise StaffingError(f"{w}.hours: expected a table of day type = 'HH:MM-HH:MM'")
    _check_keys(hours_in, DAY_TYPES, f"{w}.hours")
    hours = {dt: parse_hours(hours_in.get(dt), f"{w}.hours.{dt}") for dt in DAY_TYPES}
    if all(v is None for v in hours.values()):
        raise StaffingError(f"{w}: open on no day")
    pri_in = d.get("priorities", {})
    _check_keys(pri_in, DAY_TYPES, f"{w}.priorities")
    pri = {
        dt: _priorities(pri_in[dt], f"{w}.priorities.{dt}") if dt in pri_in else PRIORITIES
        for dt in DAY_TYPES
    }
    return OperatingOption(
        name=name,
        description=str(d.get("description", name)),
        hours=hours,
        priorities=pri,
        min_staff=int(_num(d, "min_staff", w, 0))
        if "min_staff" in d
        else OperatingOption.min_staff,
        min_staff_cover=int(_num(d, "min_staff_cover", w, 0))
        if "min_staff_cover" in d
        else OperatingOption.min_staff_cover,
        label_text=str(d["label"]) if d.get("label") else None,
    )


def config_from_dict(raw: Mapping, where: str = "staffing config") -> StaffingConfig:
    """Build a :class:`StaffingConfig` from a parsed TOML mapping (defaults already merged).

    Every value comes from the mapping (a missing key is an error naming it): the shipped TOML
    is the one place defaults are defined. Only an option may leave out ``min_staff`` and
    ``min_staff_cover`` (the :class:`OperatingOption` defaults).
    """
    top = (
        "working_time",
        "deadlines",
        "targets",
        "work",
        "rpa",
        "roles",
        "options",
        "weekend_cover",
        "recommendation",
        "arrivals",
        "simulation",
    )
    _check_keys(raw, top, where)
    try:  # the service standards: one definition, shared with the FMS (mashdemand.standards)
        std = standards_from_dict(raw, where)
    except StandardsError as exc:
        raise StaffingError(str(exc)) from None
    working_time, deadlines = dict(std.working_time), dict(std.deadlines)

    t = raw["targets"]
    _check_keys(t, ("within_deadline", "max_utilisation"), f"{where}: targets")
    targets = _priority_map(t["within_deadline"], f"{where}: targets.within_deadline")
    if any(not 0 < v <= 1 for v in targets.values()):
        raise StaffingError(f"{where}: targets.within_deadline must be in (0, 1]")
    max_util = _num(t, "max_utilisation", f"{where}: targets", 0.05, 1.0)

    wk = raw["work"]
    _check_keys(wk, ("minutes", "cv", "minutes_by_source"), f"{where}: work")
    minutes = _priority_map(wk["minutes"], f"{where}: work.minutes")
    if any(v <= 0 for v in minutes.values()):
        raise StaffingError(f"{where}: work.minutes must be positive")
    by_source: dict[str, dict[str, float]] = {}
    for src, tab in wk.get("minutes_by_source", {}).items():
        if src not in schema.SOURCES:
            raise StaffingError(
                f"{where}: work.minutes_by_source.{src}: unknown source; "
                f"expected {', '.join(schema.SOURCES)}"
            )
        w = f"{where}: work.minutes_by_source.{src}"
        _check_keys(tab, PRIORITIES, w)
        by_source[src] = {p: _num(tab, p, w, 1e-9) for p in tab}

    rpa = raw["rpa"]
    w = f"{where}: rpa"
    _check_keys(rpa, ("current_share", "research_minutes", "minutes_saved"), w)
    rpa_share = _num(rpa, "current_share", w, 0, 1)
    research = _num(rpa, "research_minutes", w, 0)
    saved = _num(rpa, "minutes_saved", w, 0)
    if saved > research:
        raise StaffingError(f"{w}.minutes_saved: {saved} exceeds research_minutes {research}")

    roles = {}
    for name, d in raw["roles"].items():
        w = f"{where}: roles.{name}"
        fields = tuple(f.name for f in dataclasses.fields(Role))
        _check_keys(d, fields, w)
        roles[name] = Role(
            share=_num(d, "share", w, 0, 1),
            contracted_hours_per_week=_num(d, "contracted_hours_per_week", w, 1, 80),
            annual_leave_days=_num(d, "annual_leave_days", w, 0, 100),
            bank_holiday_days=_num(d, "bank_holiday_days", w, 0, 20),
            training_days=_num(d, "training_days", w, 0, 100),
            sickness_rate=_num(d, "sickness_rate", w, 0, 0.5),
            other_abstraction=_num(d, "other_abstraction", w, 0, 0.5),
        )
        if roles[name].productive_hours <= 0:
            raise StaffingError(f"{w}: no productive hours left")
    if not roles:
        raise StaffingError(f"{where}: roles: none given")
    total = sum(r.share for r in roles.values())
    if abs(total - 1) > 1e-6:
        raise StaffingError(f"{where}: roles shares add up to {total:g}, not 1")

    if not raw["options"]:
        raise StaffingError(f"{where}: options: none given")
    options = {name: _option(name, d, where) for name, d in raw["options"].items()}

    wc = raw["weekend_cover"]
    w = f"{where}: weekend_cover"
    _check_keys(wc, ("hours", "priorities", "max_staff"), w)
    cover_hours = parse_hours(wc.get("hours"), f"{w}.hours")
    if cover_hours is None:
        raise StaffingError(f"{w}.hours: a cover window is needed")
    if "priorities" not in wc:
        raise StaffingError(f"{w}: missing 'priorities'")
    cover_pri = _priorities(wc["priorities"], f"{w}.priorities")

    rec = raw["recommendation"]
    w = f"{where}: recommendation"
    _check_keys(rec, ("tolerance", "tie_break"), w)
    if "tie_break" not in rec:
        raise StaffingError(f"{w}: missing 'tie_break'")
    tie_break = rec["tie_break"]
    if tie_break not in TIE_BREAKS:
        raise StaffingError(
            f"{w}.tie_break: {tie_break!r}; expected one of {', '.join(TIE_BREAKS)}"
        )

    ar = raw["arrivals"]
    _check_keys(ar, ("profile_years", "shrinkage"), f"{where}: arrivals")
    sim = raw["simulation"]
    w = f"{where}: simulation"
    _check_keys(sim, ("warmup_days", "cooldown_days", "replications", "max_staff"), w)
    return StaffingConfig(
        working_time=working_time,
        deadlines=deadlines,
        targets=targets,
        max_utilisation=max_util,
        minutes=minutes,
        minutes_by_source=by_source,
        work_cv=_num(wk, "cv", f"{where}: work", 0, 5),
        rpa_current_share=rpa_share,
        rpa_research_minutes=research,
        rpa_minutes_saved=saved,
        roles=roles,
        options=options,
        cover_hours=cover_hours,
        cover_priorities=cover_pri,
        cover_max_staff=int(_num(wc, "max_staff", f"{where}: weekend_cover", 1, 50)),
        tolerance=_num(rec, "tolerance", f"{where}: recommendation", 0, 0.5),
        tie_break=tie_break,
        profile_years=_num(ar, "profile_years", f"{where}: arrivals", 0.1, 50),
        shrinkage=_num(ar, "shrinkage", f"{where}: arrivals", 0),
        warmup_days=int(_num(sim, "warmup_days", w, 0, 120)),
        cooldown_days=int(_num(sim, "cooldown_days", w, 3, 120)),
        replications=int(_num(sim, "replications", w, 1, 1000)),
        max_staff=int(_num(sim, "max_staff", w, 1, 10_000)),
        source=where,
    )


def default_toml() -> str:
    """Text of the shipped ``defaults/staffing.toml``."""
    return (resources.files("mashdemand") / "defaults" / DEFAULTS_FILE).read_text("utf-8")


def load_config(path: str | Path | None = None) -> StaffingConfig:
    """Load the staffing configuration.

    Parameters
    ----------
    path : str or Path, optional
        A TOML file overriding the shipped defaults table by table (``[options]`` and
        ``[roles]`` are replaced whole when given). None returns the shipped defaults.

    Returns
    -------
    StaffingConfig

    Raises
    ------
    StaffingError
        A ``ValueError`` naming the file and key: unreadable file, bad TOML, unknown key, value
        out of range.

    Examples
    --------
    >>> cfg = load_config()
    >>> list(cfg.options)
    ['today', 'extended_0818', 'long_day_0719', 'seven_day']
    >>> cfg.deadlines["urgent"]
    Deadline(amount=4.0, unit='working_hours', cutoff_hours=0.0)
    """
    base = tomllib.loads(default_toml())
    if path is None:
        return config_from_dict(base, "defaults/staffing.toml")
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise StaffingError(f"{p}: cannot read ({exc.strerror})") from None
    try:
        over = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StaffingError(f"{p}: not valid TOML ({exc})") from None
    return config_from_dict(_merge(base, over), str(p))
