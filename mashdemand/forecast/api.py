"""The forecasting entry point: history in, coherent calibrated forecasts and a backtest out.

:func:`forecast` is what the CLI and notebooks call::

    import mashdemand as md
    result = md.forecast(history, until="2026-12-31")
    result.frame            # hub, date, yhat, lo80, hi80, lo95, hi95 (CONTRACTS.md)
    result.backtest.overall # out-of-sample accuracy against seasonal naive
    result.plot("ALL")
    result.to_json("reports/forecast.json")
    again = md.ForecastResult.from_json("reports/forecast.json")  # the same result, reloaded

What it does, in order:

1. builds the series: one per hub (and per ``by`` split within each hub), the hub totals and
   the force total ``ALL``;
2. adds calendar features (bank holidays, school terms, lockdowns) and, where given,
   population and housing drivers;
3. backtests every candidate model by rolling origin on the same series and horizon;
4. weights the best models per series (the ensemble), refits them on the whole history and
   forecasts to ``until``;
5. calibrates the intervals on the count scale from the ensemble's own out-of-sample errors;
6. reconciles so that splits sum to their hub and hubs sum to ``ALL`` exactly;
7. applies the scenario's adjustments and records the scenario with the result.

Each step is a function of its own, named after what it returns, so a notebook can run them
one by one: :func:`prepare` (1-2, a :class:`Prepared`), :func:`candidate_models`,
:func:`backtest_candidates` (3), :func:`weigh_ensemble` or :func:`equal_weights` (an
:class:`Ensemble`: weights, reconciliation, calibration), :func:`fit_ensemble` (4-5) and
:func:`finish` (6-7, the contract frame). A result keeps what they made (in memory only), so
:meth:`ForecastResult.with_scenario` applies another scenario without fitting again and
:meth:`ForecastResult.as_of` makes the forecast as of an earlier origin
(:func:`forecast_as_of`) from the models and the backtest errors known then.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mashdemand import schema
from mashdemand.errors import MashdemandError
from mashdemand.forecast.base import (
    DS,
    LEVELS,
    SEASON_LENGTH,
    UID,
    YHAT,
    Y,
    check_training_frame,
    finish_forecast,
    future_dates,
    interval_columns,
)
from mashdemand.forecast.counts import FREQ_ORDER, aggregate, fill_missing
from mashdemand.progress import progress_argument

# A saved result (ForecastResult.to_json): "format" names the record and stays as it is for
# readers that check it; "format_version" counts its revisions (1: forecast only, no
# format_version key; 2: also history, backtest tables and near-term result, so it reloads).
RESULT_FORMAT = "mashdemand.forecast/1"
FORMAT_VERSION = 2
BACKTEST_TABLES: tuple[str, ...] = ("by_series", "by_horizon", "overall")
DEFAULT_MODELS: tuple[str, ...] = ("snaive", "ets", "gbm")
# Long-range series (few, trending points) add a drift model: damped ETS and the seasonal
# naive carry the last level, which under-forecasts growing demand year after year. Monthly
# and quarterly add Prophet, whose smooth trend and yearly seasonality backtest best two years
# ahead (the pooled GBM holds the recent level and cannot extrapolate a trend). Annual series
# (8-15 points) add the pooled rate x population model, which learns its smoothing and its
# error spread from all areas together.
DEFAULT_MODELS_BY_FREQ: dict[str, tuple[str, ...]] = {
    "day": DEFAULT_MODELS,
    "week": DEFAULT_MODELS,
    "month": (*DEFAULT_MODELS, "drift", "prophet"),
    "quarter": (*DEFAULT_MODELS, "drift", "prophet"),
    "year": (*DEFAULT_MODELS, "drift", "rate"),
    "fy": (*DEFAULT_MODELS, "drift", "rate"),
}
# Rolling-origin backtest per period: (horizon cap [periods], windows, shortest step
# [periods]). The backtest reaches min(h, cap) where the history allows, cutoffs a quarter of
# that horizon apart (at least the step), after a year of training (backtest.backtest_plan);
# windows are never added to (fits per series = windows + 1). Windows overlap (step <
# horizon). The ensemble's own backtest stays honest: each window's weights come only from
# errors known at its cutoff (ensemble.combine_cv) and its intervals only from other windows'
# periods outside its own (_honest_calibration).
BACKTEST_PLAN: dict[str, tuple[int, int, int]] = {
    "day": (730, 4, 28),
    "week": (104, 4, 4),
    "month": (24, 4, 3),
    "quarter": (8, 4, 1),
    "year": (2, 3, 1),
    "fy": (2, 3, 1),
}
# A coarse forecast from daily history embeds the daily forecast this far ahead [days]
# (at least the daily backtest horizon, so it matches a daily run of the same history).
NEAR_TERM_DAYS = 182
# Fewest backtest residuals per horizon bucket of the interval calibration.
MIN_PER_BUCKET = 200
# Below this many backtest points the conformal quantiles are too uncertain to replace the
# models' own intervals (e.g. ten annual series with two short windows).
MIN_TO_CALIBRATE = 100


class ForecastError(MashdemandError, ValueError):
    """The history cannot support the requested forecast (message says why, in one line)."""


class RefitNeeded(ForecastError):
    """A scenario changes what the models were fitted on, so the forecast must be made again
    (see :func:`refit_needed`)."""


# --- arguments ----------------------------------------------------------------------------
# Everyday names for the periods, accepted wherever a period is named (the canonical names are
# FREQ_ORDER's: day, week, month, quarter, year, fy).
FREQ_SYNONYMS: dict[str, str] = {
    "daily": "day",
    "weekly": "week",
    "monthly": "month",
    "quarterly": "quarter",
    "yearly": "year",
    "annual": "year",
    "annually": "year",
    "financial_year": "fy",
}


@dataclass(frozen=True)
class _Arguments:
    """The checked, normalised arguments of :func:`forecast`."""

    until: pd.Timestamp
    freq: str
    history_freq: str
    by: tuple[str, ...]
    models: tuple[str, ...] | None
    reconciliation: str
    n_jobs: int
    level: tuple[int, ...]
    calendar: str | dict[str, str] = "england-and-wales"


def period_name(freq: object, what: str = "freq") -> str:
    """The canonical period for ``freq`` (a name of FREQ_ORDER or of :data:`FREQ_SYNONYMS`).

    >>> period_name("Monthly"), period_name("fy")
    ('month', 'fy')
    >>> period_name("fortnight")
    Traceback (most recent call last):
    ...
    mashdemand.forecast.api.ForecastError: freq 'fortnight': choose one of day, week, month, \
quarter, year, fy
    """
    key = str(freq).strip().lower().replace(" ", "_").replace("-", "_")
    key = FREQ_SYNONYMS.get(key, key)
    if not isinstance(freq, str) or key not in FREQ_ORDER:
        raise ForecastError(f"{what} {freq!r}: choose one of {', '.join(FREQ_ORDER)}")
    return key


def _names(value: str | Iterable[str] | None, what: str) -> tuple[str, ...]:
    """A comma-separated string or an iterable of names -> stripped names, in order."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    if not all(isinstance(x, str) for x in items):
        raise ForecastError(f"{what} {value!r}: give names (text), e.g. {what}=['priority']")
    return tuple(dict.fromkeys(x.strip() for x in items if x.strip()))


def _check_arguments(
    until: object,
    freq: object,
    history_freq: object,
    by: object,
    models: object,
    reconciliation: object,
    n_jobs: object,
    level: object,
    calendar: object = "england-and-wales",
) -> _Arguments:
    """Check :func:`forecast`'s arguments; one-line :class:`ForecastError` naming the argument.

    Messages use the library's argument names (the CLI adds its own flag names).
    """
    from mashdemand.forecast.counts import SPLITS
    from mashdemand.forecast.models import MODELS
    from mashdemand.forecast.reconcile import METHODS

    try:
        end = pd.Timestamp(until)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        end = pd.NaT
    if until is None or pd.isna(end):
        raise ForecastError(f"until {until!r}: not a date; give e.g. '2026-12-31'")
    hist = period_name(history_freq, "history_freq")
    out = period_name(freq) if freq is not None else hist
    dims = tuple(d for d in _names(by, "by") if d != schema.HUB)  # hubs are always forecast
    bad = [d for d in dims if d not in SPLITS]
    if bad:
        raise ForecastError(f"by {bad[0]!r}: choose from {', '.join(SPLITS)} (hub is implied)")
    names = _names(models, "models") or None
    unknown = [n for n in names or () if n not in MODELS]
    if unknown:
        raise ForecastError(
            f"models: unknown {', '.join(map(repr, unknown))}; choose from {', '.join(MODELS)}"
        )
    if reconciliation not in ("auto", *METHODS):
        raise ForecastError(
            f"reconciliation {reconciliation!r}: choose one of auto, {', '.join(METHODS)}"
        )
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int | np.integer) or n_jobs < 1:
        raise ForecastError(f"n_jobs {n_jobs!r}: give a whole number of workers, 1 or more")
    levels = (level,) if isinstance(level, int | np.integer) else level
    try:
        lv = tuple(int(x) for x in levels)  # type: ignore[union-attr]
        ok = len(lv) > 0 and all(0 < x < 100 and x == y for x, y in zip(lv, levels, strict=True))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ForecastError(f"level {level!r}: give interval levels in percent, e.g. (80, 95)")
    cal = _check_calendar(calendar)
    return _Arguments(end, out, hist, dims, names, str(reconciliation), int(n_jobs), lv, cal)


def _check_calendar(calendar: object) -> str | dict[str, str]:
    """The canonical calendar key, or hub -> key (:func:`mashdemand.calendar.calendar_choice`).

    >>> _check_calendar("XX")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mashdemand.forecast.api.ForecastError: calendar 'XX': choose england-and-wales, scotland, ...
    """
    from mashdemand.calendar import CalendarError, calendar_choice

    try:
        return calendar_choice(calendar)
    except CalendarError as exc:
        raise ForecastError(str(exc)) from None


@dataclass(frozen=True)
class Scenario:
    """Assumptions a forecast is made under; recorded with every result.

    Attributes
    ----------
    name : str
        A label for reports.
    population_variant : str
        ``principal``, ``low`` or ``high`` ONS-style projection variant. The models see the
        principal projection; the forecast is then scaled by each hub's population ratio
        (variant / principal) in the period's year, so contacts per resident stay as
        projected whichever models the backtest chose.
    housing_delivery : float
        Multiplier on planned net additional dwellings (1.0 = as planned).
    risk_identification : float
        Extra share of police contacts from officers identifying more risk, e.g. 0.05 = +5%
        from the first forecast period (applied to police series; to other series in
        proportion to the police share of their history, or in full where source is unknown).
    rpa_share : float or None
        Share of contacts whose research step Robotic Process Automation does (0 to 1). It
        does not change how many contacts arrive; it is recorded with the forecast and read by
        staffing, where it changes the work per contact. None: as in the history.
    """

    name: str = "principal"
    population_variant: str = "principal"
    housing_delivery: float = 1.0
    risk_identification: float = 0.0
    rpa_share: float | None = None

    @classmethod
    def parse(cls, text: str | None) -> Scenario:
        """``"principal"`` or ``"name:key=value,key=value"``, e.g. ``high:population_variant=high``.

        >>> Scenario.parse("growth:risk_identification=0.05").risk_identification
        0.05
        """
        if not text:
            return cls()
        name, _, rest = text.partition(":")
        kw: dict[str, Any] = {"name": name.strip()}
        if name.strip() in ("low", "high"):
            kw["population_variant"] = name.strip()
        for part in filter(None, (p.strip() for p in rest.split(","))):
            key, _, value = part.partition("=")
            key = key.strip()
            if key not in cls.__dataclass_fields__ or key == "name":
                raise ForecastError(
                    f"scenario: unknown setting {key!r}; use population_variant, "
                    "housing_delivery, risk_identification, rpa_share"
                )
            try:
                kw[key] = value.strip() if key == "population_variant" else float(value)
            except ValueError:
                raise ForecastError(f"scenario: {key} must be a number; got {value!r}") from None
        if not 0.0 <= float(kw.get("rpa_share") or 0.0) <= 1.0:
            raise ForecastError("scenario: rpa_share must be between 0 and 1")
        if kw.get("population_variant", "principal") not in ("principal", "low", "high"):
            raise ForecastError("scenario: population_variant must be principal, low or high")
        return cls(**kw)


@dataclass
class ForecastResult:
    """A forecast with everything needed to judge and reproduce it.

    Attributes
    ----------
    frame : pd.DataFrame
        CONTRACTS.md forecast columns: ``hub, [by...], date, yhat, lo80, hi80, lo95, hi95``
        [contacts/period]; ``hub == "ALL"`` rows are the force total (sum of hubs).
    freq : str
        Period of ``date``.
    history : pd.DataFrame
        The series the models saw: ``unique_id, ds, y``.
    backtest : Any
        Out-of-sample evaluation (``metrics.EvaluationResult``) of each model and the
        ensemble, or None when the backtest was skipped.
    weights : pd.DataFrame
        Ensemble weights per series: ``unique_id, model, weight``.
    near_term : ForecastResult or None
        For a coarse forecast from daily history, the daily forecast it agrees with where
        they overlap.

    A result made in this session also holds its fitted steps (not saved with
    :meth:`to_json`), which :meth:`with_scenario` and :meth:`as_of` reuse.
    """

    frame: pd.DataFrame
    freq: str
    by: tuple[str, ...]
    history: pd.DataFrame
    scenario: Scenario
    models: tuple[str, ...]
    weights: pd.DataFrame
    backtest: Any = None
    cv: pd.DataFrame | None = None
    calibration: dict | None = None
    reconciliation: str = "bottom_up"
    reconciliation_scores: dict[str, float] | None = None
    near_term: ForecastResult | None = None
    seconds: float = 0.0
    created_at: str = field(default_factory=lambda: pd.Timestamp.now(tz="UTC").isoformat())
    # What with_scenario and as_of reuse (in memory only, never saved).
    _state: _State | None = field(default=None, repr=False, compare=False)

    @property
    def data_window(self) -> tuple[str, str]:
        ds = self.history[DS]
        return ds.min().strftime("%Y-%m-%d"), ds.max().strftime("%Y-%m-%d")

    def to_dict(self, include_cv: bool = False) -> dict[str, Any]:
        """A versioned, JSON-serialisable record (no pickle) that :meth:`from_dict` restores.

        Holds the data window, scenario, models, weights, calibration, the backtest tables, the
        history the models saw, the forecast and the near-term daily result, with each table's
        dtypes so it comes back equal. Floats are written exactly (``json`` writes the shortest
        repr that reads back the same). ``include_cv`` also writes the raw backtest forecasts
        (large: every model, window and series).
        """
        from mashdemand import __version__

        tables: dict[str, pd.DataFrame | None] = {
            "weights": self.weights,
            "history": self.history,
            "forecast": self.frame,
            "cv": self.cv if include_cv else None,
        }
        for name in BACKTEST_TABLES:
            tables[f"backtest_{name}"] = getattr(self.backtest, name, None)
        doc: dict[str, Any] = {
            "format": RESULT_FORMAT,
            "format_version": FORMAT_VERSION,
            "package_version": __version__,
            "created_at": self.created_at,
            "freq": self.freq,
            "by": list(self.by),
            "data_window": list(self.data_window),
            "scenario": asdict(self.scenario),
            "models": list(self.models),
            "reconciliation": self.reconciliation,
            "reconciliation_backtest_mase": self.reconciliation_scores,
            "seconds": round(self.seconds, 2),
            "calibration": self.calibration,
            "dtypes": {k: _dtypes(v) for k, v in tables.items() if v is not None},
        }
        for name, table in tables.items():
            # Long tables by column (compact); the short ones people read, by row.
            orient = "list" if name in ("history", "cv") else "records"
            doc[name] = _encode_table(table, orient) if table is not None else None
        doc["near_term"] = self.near_term.to_dict(include_cv) if self.near_term else None
        return doc

    def to_json(self, path: str | Path | None = None, include_cv: bool = False) -> str:
        """Write :meth:`to_dict` as JSON to ``path`` (if given); returns the text.

        :meth:`from_json` reads it back into an equal result.
        """
        text = json.dumps(self.to_dict(include_cv), indent=1)
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def from_dict(cls, doc: dict[str, Any], where: str = "forecast record") -> ForecastResult:
        """Rebuild a result saved with :meth:`to_dict` (any ``format_version`` up to ours).

        Raises
        ------
        ForecastError
            One line naming ``where`` when the record is not a forecast, is of a newer
            ``format_version`` than this package reads, or predates the history being saved.
        """
        from mashdemand.forecast.intervals import ConformalCalibrator
        from mashdemand.forecast.metrics import EvaluationResult

        _check_format(doc, where)
        tables = {
            name: _decode_table(doc.get(name), doc["dtypes"].get(name, {}))
            for name in doc["dtypes"]
        }
        if doc.get("calibration") is not None:
            ConformalCalibrator.from_dict(doc["calibration"])  # refuses an unknown version
        backtest = None
        if all(f"backtest_{n}" in tables for n in BACKTEST_TABLES):
            backtest = EvaluationResult(**{n: tables[f"backtest_{n}"] for n in BACKTEST_TABLES})
        near = doc.get("near_term")
        return cls(
            frame=tables["forecast"],
            freq=doc["freq"],
            by=tuple(doc["by"]),
            history=tables["history"],
            scenario=Scenario(**doc["scenario"]),
            models=tuple(doc["models"]),
            weights=tables["weights"],
            backtest=backtest,
            cv=tables.get("cv"),
            calibration=doc.get("calibration"),
            reconciliation=doc["reconciliation"],
            reconciliation_scores=doc.get("reconciliation_backtest_mase"),
            near_term=cls.from_dict(near, f"{where} (near_term)") if near else None,
            seconds=float(doc.get("seconds", 0.0)),
            created_at=doc["created_at"],
        )

    @classmethod
    def from_json(cls, path: str | Path) -> ForecastResult:
        """Read a result written by :meth:`to_json`; the inverse of it.

        >>> import tempfile
        >>> hist = pd.DataFrame({"hub": "a", "date": pd.date_range("2024-01-01", periods=28),
        ...     "contacts": 10})
        >>> res = forecast(hist, until="2024-02-04", models=["snaive"], backtest=False)
        >>> path = Path(tempfile.mkdtemp()) / "fc.json"
        >>> _ = res.to_json(path)
        >>> back = ForecastResult.from_json(path)
        >>> back.frame.equals(res.frame), back.history.equals(res.history)
        (True, True)
        """
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ForecastError(f"{path}: cannot read a forecast record: {exc}") from None
        if not isinstance(doc, dict):
            raise ForecastError(f"{path}: not a mashdemand forecast record")
        return cls.from_dict(doc, where=str(path))

    @staticmethod
    def read_json(path: str | Path) -> dict:
        """Deprecated: use :meth:`from_json`, which restores the whole result.

        Reads a saved result and checks its format; returns the record as a dict with
        ``forecast`` as a DataFrame.
        """
        import warnings

        warnings.warn(
            "ForecastResult.read_json is deprecated; use ForecastResult.from_json",
            DeprecationWarning,
            stacklevel=2,
        )
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        if doc.get("format") != RESULT_FORMAT:
            raise ForecastError(f"{path}: not a mashdemand forecast ({doc.get('format')!r})")
        fc = pd.DataFrame(doc["forecast"])
        fc[schema.DATE] = pd.to_datetime(fc[schema.DATE])
        doc["forecast"] = fc
        return doc

    def with_scenario(self, scenario: Scenario | str | None) -> ForecastResult:
        """The same forecast under another scenario, without fitting any model again.

        The fitted ensemble's forecast is taken before any scenario, and the new scenario's
        risk identification and population variant applied, reconciled and aligned with the
        near-term daily forecast (itself re-scenarioed) as :func:`forecast` does; the frame is
        the one ``forecast(..., scenario=scenario)`` returns. The backtest, weights and
        calibration are the fit's (no scenario changes them). ``seconds`` is this call's time.

        Raises
        ------
        RefitNeeded
            When the scenario changes the models' inputs (:func:`refit_needed`), or the result
            holds no fitted state (reloaded from JSON).
        """
        t0 = time.perf_counter()
        scen = scenario if isinstance(scenario, Scenario) else Scenario.parse(scenario)
        state = self._state
        if state is None:
            raise RefitNeeded(
                "this forecast holds no fitted models (reloaded from a file?); forecast again "
                f"under scenario {scen.name!r}"
            )
        prep = state.prepared
        if refit_needed(prep.scenario, scen, prep.housing):
            raise RefitNeeded(
                f"scenario {scen.name!r} changes housing delivery "
                f"({prep.scenario.housing_delivery:g} -> {scen.housing_delivery:g}), which the "
                "models see; forecast again under it"
            )
        near = self.near_term.with_scenario(scen) if self.near_term is not None else None
        prep = replace(prep, scenario=scen)
        return replace(
            self,
            frame=finish(prep, state.ensemble, state.base, scen, near),
            scenario=scen,
            near_term=near,
            seconds=time.perf_counter() - t0,
            created_at=pd.Timestamp.now(tz="UTC").isoformat(),
            _state=replace(state, prepared=prep),
        )

    def as_of(self, origin: str | pd.Timestamp, until: str | pd.Timestamp) -> ForecastResult:
        """The forecast to ``until`` this pipeline makes from the history up to ``origin``,
        reusing only what was known then; no data after ``origin`` reaches it.

        What it reuses: the candidate models (the same names) and their backtest forecasts
        from windows whose cutoff is before ``origin``, keeping only the dates up to
        ``origin`` (each was fitted on data up to its cutoff, and its errors were known at
        ``origin``). From those, the weights, reconciliation and interval calibration are
        chosen again, as :func:`weigh_ensemble` does; the models are fitted again, once each,
        on the history up to ``origin``. So it is :func:`forecast` of that history except for
        the backtest windows (the full fit's, as far as they had run by ``origin``, instead
        of windows ending at ``origin``): one fit per model instead of one per window. Where
        no such window had run, or without a backtest, the whole pipeline runs on the cut
        history. The scenario is this result's.

        Raises
        ------
        ForecastError
            When the result holds no fitted state (reloaded from JSON) or the history up to
            ``origin`` cannot support the forecast.
        """
        t0 = time.perf_counter()
        state = self._state
        if state is None or state.prepared.given is None:
            raise ForecastError(
                "this forecast holds no fitted models (reloaded from a file?); forecast the "
                "history up to the origin instead (forecast_as_of)"
            )
        old = state.prepared
        a, cut = old.args, pd.Timestamp(origin)
        given = old.given[pd.to_datetime(old.given[schema.DATE]) <= cut]
        prep = prepare(
            given, until, a.freq, a.history_freq, a.by, old.population, old.housing,
            old.scenario, a.calendar, a.models, a.reconciliation, a.level, a.n_jobs,
        )  # fmt: skip
        candidates = candidate_models(prep)
        ens = _known_ensemble(prep, state, candidates)
        base = fit_ensemble(prep, candidates, ens)
        near = None
        if self.near_term is not None:
            near = self.near_term.as_of(cut, _near_term_until(prep, base, state.near_term_days))
        frame = finish(prep, ens, base, prep.scenario, near)
        new = _State(prep, candidates, ens, base, state.plan, state.near_term_days)
        return _result(new, frame, near, time.perf_counter() - t0)

    def plot(self, hub: str = schema.FORCE_TOTAL, ax=None, history_periods: int | None = None):
        """Fan chart of one hub's (or the force's) forecast after its history -> Figure."""
        from mashdemand.forecast.plots import plot_fan

        return plot_fan(self, hub=hub, ax=ax, history_periods=history_periods)


# --- the saved record ---------------------------------------------------------------------
def _check_format(doc: dict[str, Any], where: str) -> None:
    """Refuse, in one line, a record that is not a forecast or that we cannot read."""
    if doc.get("format") != RESULT_FORMAT:
        raise ForecastError(f"{where}: not a mashdemand forecast ({doc.get('format')!r})")
    version = doc.get("format_version", 1)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ForecastError(
            f"{where}: forecast record format_version {version!r} is newer than this "
            f"mashdemand reads ({FORMAT_VERSION}); upgrade mashdemand"
        )
    if version < 2:
        raise ForecastError(
            f"{where}: forecast record format_version {version} has no history; "
            "forecast again to save one that reloads (ForecastResult.read_json reads its table)"
        )


def _dtypes(df: pd.DataFrame) -> dict[str, str]:
    """Column -> dtype name, in column order (restores the frame exactly)."""
    return {str(c): str(t) for c, t in df.dtypes.items()}


def _cell(value: Any) -> Any:
    """One value as JSON: exact floats, ISO dates, None for missing."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        plain = value.tz is None and value == value.normalize()
        return value.strftime("%Y-%m-%d") if plain else value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _encode_table(df: pd.DataFrame, orient: str = "records") -> list | dict:
    """A frame as JSON: ``records`` (a list of rows) or ``list`` (a list per column)."""
    columns = {str(c): [_cell(v) for v in df[c].tolist()] for c in df.columns}
    if orient == "list":
        return columns
    return [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def _decode_table(data: list | dict | None, dtypes: dict[str, str]) -> pd.DataFrame:
    """The inverse of :func:`_encode_table` given the saved :func:`_dtypes`."""
    df = pd.DataFrame(data or None, columns=list(dtypes))
    for col, dtype in dtypes.items():
        if dtype.startswith("datetime64"):
            df[col] = pd.to_datetime(df[col], format="ISO8601").astype(dtype)
        elif dtype.startswith(("float", "int", "uint", "bool")):
            df[col] = pd.to_numeric(df[col]).astype(dtype) if len(df) else df[col].astype(dtype)
        elif dtype != "object":
            df[col] = df[col].astype(dtype)
    return df


# --- series -------------------------------------------------------------------------------
def series_id(hub: str, parts: Sequence[str] = ()) -> str:
    """``reading`` or ``reading|police|child``."""
    return schema.SPLIT_SEP.join([hub, *parts])


def build_panel(counts: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """Tidy counts (``hub, [by], date, contacts``) -> ``unique_id, ds, y`` for every level.

    Levels: bottom series (hub x by values, if ``by``), hubs, and ``ALL``. Each series covers
    its own span, zero-filled inside it.
    """
    by = list(by)
    frames = []
    if by:
        b = counts.copy()
        b[UID] = b[schema.HUB].str.cat([b[c].astype(str) for c in by], sep=schema.SPLIT_SEP)
        frames.append(b[[UID, schema.DATE, schema.CONTACTS]])
    hubs = counts.groupby([schema.HUB, schema.DATE], as_index=False)[schema.CONTACTS].sum()
    frames.append(hubs.rename(columns={schema.HUB: UID}))
    total = hubs.groupby(schema.DATE, as_index=False)[schema.CONTACTS].sum()
    total[UID] = schema.FORCE_TOTAL
    frames.append(total)
    panel = pd.concat(frames, ignore_index=True).rename(
        columns={schema.DATE: DS, schema.CONTACTS: Y}
    )
    panel[Y] = panel[Y].astype(float)
    return panel[[UID, DS, Y]].sort_values([UID, DS]).reset_index(drop=True)


def _fill_gaps(panel: pd.DataFrame, freq: str) -> pd.DataFrame:
    """Zero-fill missing periods inside each series' span (no contacts recorded = 0)."""
    from mashdemand.forecast.base import FREQ_ALIASES

    out = []
    for uid, g in panel.groupby(UID, sort=False):
        idx = pd.date_range(g[DS].min(), g[DS].max(), freq=FREQ_ALIASES[freq])
        g = g.set_index(DS).reindex(idx)
        g[UID] = uid
        g[Y] = g[Y].fillna(0.0)
        out.append(g.rename_axis(DS).reset_index())
    return pd.concat(out, ignore_index=True)[[UID, DS, Y]]


def horizon(last: pd.Timestamp, until: pd.Timestamp, freq: str) -> int:
    """Number of periods after ``last`` up to the one containing ``until``."""
    from mashdemand.forecast.counts import period_start

    end = period_start(pd.Series([until]), freq).iloc[0]
    if end <= last:
        return 0
    return len(pd.date_range(last, end, freq=future_dates(last, 1, freq).freq)) - 1


# --- the entry point ----------------------------------------------------------------------
def forecast(
    history: pd.DataFrame,
    until: str | pd.Timestamp,
    freq: str | None = None,
    history_freq: str = "day",
    by: Sequence[str] = (),
    population: pd.DataFrame | None = None,
    housing: pd.DataFrame | None = None,
    scenario: Scenario | str | None = None,
    calendar: str | Mapping[str, str] = "england-and-wales",
    models: Sequence[str] | None = None,
    backtest: bool = True,
    level: Sequence[int] = LEVELS,
    n_jobs: int = 2,
    reconciliation: str = "auto",
    progress: bool = False,
    backtest_plan: tuple[int, int, int] | None = None,
    align_daily: bool = True,
    near_term_days: int = NEAR_TERM_DAYS,
    show_progress: bool | None = None,
) -> ForecastResult:
    """Forecast every hub, split and the force total from history to ``until``.

    Parameters
    ----------
    history : pd.DataFrame
        Tidy counts ``hub, date, contacts`` (+ ``by`` columns) at ``history_freq`` (e.g. from
        ``Store.daily_counts`` or ``read_counts``) [contacts/period].
    until : date-like
        Last day to forecast; the forecast runs from the first period after the history to the
        period containing ``until``.
    freq : str, optional
        Output period (day, week, month, quarter, year, fy); default ``history_freq``.
        Coarser than the history: the history is summed into complete periods first.
    by : sequence of str
        Split dimensions present in ``history`` (priority, source, subject).
    population, housing : pd.DataFrame, optional
        Drivers (CONTRACTS.md section 3) for models that use them.
    scenario : Scenario or str, optional
        Assumptions (see :class:`Scenario`); default principal.
    calendar : str or mapping
        Bank holidays and school terms of the series (:func:`mashdemand.calendar.get_calendar`):
        ``england-and-wales`` (default), ``scotland``, ``northern-ireland`` or a country code
        of the ``holidays`` package (``FR``, ``IE``); or hub -> calendar (also as text,
        ``"glasgow=scotland,leeds=england-and-wales"``) for hubs in different nations, the
        others following England and Wales. Every model sees the features of its series'
        calendar (:func:`~mashdemand.forecast.features.make_features`).
    models : sequence of str, optional
        Candidate models (``mashdemand.forecast.models.MODELS``); default
        ``DEFAULT_MODELS_BY_FREQ[freq]`` (without gbm, prophet and ucm when the environment
        sets ``MASHDEMAND_FAST_MODELS=1``, see :mod:`mashdemand.forecast.models`).
    backtest : bool
        Run the rolling-origin backtest that weights the ensemble and calibrates the intervals.
        Without it, models are weighted equally and intervals are the models' own, as they
        are when the backtest has fewer than ``MIN_TO_CALIBRATE`` points.
    n_jobs : int
        Local worker processes for the backtest windows and model fits (1: here). Inside
        :func:`mashdemand.use_engine` the engine given there runs them instead (a Dask
        cluster, say); the results are the same on any engine.
    reconciliation : str
        ``auto`` (default) picks, from the backtest, the method of
        :mod:`~mashdemand.forecast.reconcile` whose coherent forecasts have the lowest MASE
        over every node; ``bottom_up`` when there is no backtest. Or name one method.
    progress : bool
        Show progress bars over the backtest windows.
    backtest_plan : (horizon cap, windows, step), optional
        Override :data:`BACKTEST_PLAN` for this period, e.g. ``(24, 4, 3)`` to backtest
        monthly projections two years ahead.
    align_daily : bool
        With daily history and a coarser ``freq``, also forecast the next ``near_term_days``
        days (at least to the end of the first forecast period) and make the coarse forecast
        agree with it where they overlap (:mod:`~mashdemand.forecast.temporal`); the daily
        forecast is kept as ``result.near_term``.
    show_progress : bool, optional
        Deprecated name of ``progress`` (a ``DeprecationWarning``).

    Returns
    -------
    ForecastResult
    """
    t0 = time.perf_counter()
    progress = progress_argument(progress, show_progress, "forecast")
    prep = prepare(
        history, until, freq, history_freq, by, population, housing, scenario, calendar,
        models, reconciliation, level, n_jobs,
    )  # fmt: skip
    candidates = candidate_models(prep)
    plan = (backtest_plan or BACKTEST_PLAN[prep.args.freq]) if backtest else None
    cvs, fcs = backtest_and_fit(prep, candidates, plan, progress)
    ens = weigh_ensemble(prep, cvs) if plan is not None else equal_weights(prep, candidates)
    base = combine_forecasts(prep, fcs, ens)
    near = None
    if align_daily and prep.args.history_freq == "day" and prep.args.freq != "day":
        near = _near_term(prep, base, near_term_days, backtest, progress)
    frame = finish(prep, ens, base, prep.scenario, near)
    state = _State(prep, candidates, ens, base, plan, near_term_days)
    return _result(state, frame, near, time.perf_counter() - t0)


# --- the steps ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Prepared:
    """The checked arguments and the series, ready to fit (:func:`prepare`).

    Attributes
    ----------
    args : _Arguments
        The checked, normalised arguments.
    scenario : Scenario
        The scenario asked for; its housing delivery is in the features.
    names : tuple of str
        The candidate models asked for (the default set of the period when none).
    history : pd.DataFrame
        The history with absent periods filled in, at ``history_freq`` [contacts/period].
    panel : pd.DataFrame
        Every series (splits, hubs, ``ALL``) at ``freq``: ``unique_id, ds, y``, zero-filled.
    train, future : pd.DataFrame
        The distinct series with their features, over the history and over the horizon.
    copies : dict
        Series id -> the id of the identical series fitted in its place.
    h : int
        Periods to forecast.
    population, housing : pd.DataFrame or None
        The drivers as given (the models see the principal population).
    given : pd.DataFrame or None
        The history as given (what :meth:`ForecastResult.as_of` cuts at its origin).
    """

    args: _Arguments
    scenario: Scenario
    names: tuple[str, ...]
    history: pd.DataFrame
    panel: pd.DataFrame
    train: pd.DataFrame
    future: pd.DataFrame
    copies: dict[str, str]
    h: int
    population: pd.DataFrame | None = None
    housing: pd.DataFrame | None = None
    given: pd.DataFrame | None = None

    @property
    def m(self) -> int:
        """Season length of ``freq`` [periods]."""
        return SEASON_LENGTH[self.args.freq]

    def hierarchy(self):
        """The summing structure of the panel (:func:`~mashdemand.forecast.reconcile.hierarchy`)."""
        from mashdemand.forecast import reconcile

        return reconcile.hierarchy(_bottom_ids(self.panel, self.args.by))


@dataclass(frozen=True)
class Ensemble:
    """How the candidates are combined, and what the backtest said of them.

    Attributes
    ----------
    weights : pd.DataFrame
        ``unique_id, model, weight`` (and horizon buckets when weighted by horizon).
    reconciliation : str
        The reconciliation method used (``auto`` resolved).
    scores : dict or None
        Backtest MASE of every reconciliation method when ``auto`` chose.
    calibrator : ConformalCalibrator or None
        Interval calibration from the ensemble's backtest errors.
    cv : pd.DataFrame or None
        Backtest forecasts of every model and of the ensemble, on the windows scored.
    evaluation : metrics.EvaluationResult or None
        The backtest tables.
    cvs : dict or None
        Each candidate's own backtest forecasts (all windows), by model name.
    """

    weights: pd.DataFrame
    reconciliation: str
    scores: dict[str, float] | None = None
    calibrator: Any = None
    cv: pd.DataFrame | None = None
    evaluation: Any = None
    cvs: dict[str, pd.DataFrame] | None = None


@dataclass(frozen=True)
class _State:
    """What :meth:`ForecastResult.with_scenario` and :meth:`ForecastResult.as_of` reuse
    (held in memory only; a result reloaded from JSON has none)."""

    prepared: Prepared
    candidates: dict[str, Any]
    ensemble: Ensemble
    base: pd.DataFrame
    plan: tuple[int, int, int] | None = None
    near_term_days: int = NEAR_TERM_DAYS


def prepare(
    history: pd.DataFrame,
    until: object,
    freq: object = None,
    history_freq: object = "day",
    by: object = (),
    population: pd.DataFrame | None = None,
    housing: pd.DataFrame | None = None,
    scenario: Scenario | str | None = None,
    calendar: object = "england-and-wales",
    models: object = None,
    reconciliation: object = "auto",
    level: object = LEVELS,
    n_jobs: object = 2,
) -> Prepared:
    """Check the arguments, build every series and its features (see :func:`forecast`).

    Raises
    ------
    ForecastError
        One line naming the argument, or saying why the history cannot support the forecast.
    """
    from mashdemand.forecast.features import make_features
    from mashdemand.forecast.models import default_candidates

    args = _check_arguments(
        until, freq, history_freq, by, models, reconciliation, n_jobs, level, calendar
    )
    freq, by = args.freq, args.by
    scen = scenario if isinstance(scenario, Scenario) else Scenario.parse(scenario)
    if FREQ_ORDER.index(freq) < FREQ_ORDER.index(args.history_freq):
        raise ForecastError(
            f"cannot forecast by {freq} from a history by {args.history_freq}; choose freq "
            f"{args.history_freq} or coarser"
        )
    schema.validate_counts(history)
    given = history
    missing = [c for c in by if c not in history.columns]
    if missing:
        raise ForecastError(f"history has no {', '.join(missing)} column to split by")
    # Periods absent from the history: zero for a small series, else a gap to fill in.
    history = fill_missing(history, args.history_freq, by)
    counts = history if freq == args.history_freq else aggregate(history, freq, by)
    if counts.empty:
        raise ForecastError(f"history has no complete {freq} period")
    panel = _fill_gaps(build_panel(counts, by), freq)
    last = panel[DS].max()
    h = horizon(last, args.until, freq)
    if h <= 0:
        raise ForecastError(
            f"until {args.until:%d/%m/%Y} is not after the history's last {freq} ({last:%d/%m/%Y})"
        )
    lengths = panel.groupby(UID).size()
    if (lengths < max(2 * SEASON_LENGTH[freq], 4)).any() and freq == "day":
        short = lengths[lengths < 2 * SEASON_LENGTH[freq]].index.tolist()
        raise ForecastError(f"too little history for {', '.join(short[:3])}: need 2 weeks")

    future = pd.concat(
        [
            pd.DataFrame({UID: u, DS: future_dates(g[DS].max(), h, freq)})
            for u, g in panel.groupby(UID)
        ],
        ignore_index=True,
    )
    feats = make_features(
        pd.concat([panel[[UID, DS]], future], ignore_index=True),
        freq,
        hub_of={u: u.split(schema.SPLIT_SEP)[0] for u in panel[UID].unique()},
        # Models see the principal population; a population variant is applied afterwards as
        # the ratio of its population to the principal's (contacts per resident unchanged), so
        # the scenario moves the forecast whichever models the backtest chose.
        population=_principal_population(population),
        housing=_scenario_housing(housing, scen),
        calendar=args.calendar,
    )
    train = panel.merge(feats, on=[UID, DS], how="left")
    X_future = future.merge(feats, on=[UID, DS], how="left")
    # A series identical to another (ALL of a one-hub force, a hub with one split) is fitted
    # once; its backtest and forecast are copies.
    copies = distinct_series(train)
    # MASHDEMAND_FAST_MODELS=1 trims the default set only.
    names = tuple(args.models or default_candidates(DEFAULT_MODELS_BY_FREQ[freq]))
    return Prepared(
        args=args,
        scenario=scen,
        names=names,
        history=history,
        panel=panel,
        train=train[~train[UID].isin(copies)],
        future=X_future[~X_future[UID].isin(copies)],
        copies=copies,
        h=h,
        population=population,
        housing=housing,
        given=given,
    )


def candidate_models(prep: Prepared) -> dict[str, Any]:
    """Unfitted candidate models by name, with the calendar and exposure step of the default
    set (:func:`~mashdemand.forecast.adjust.adjust_candidates`)."""
    from mashdemand.forecast.adjust import adjust_candidates
    from mashdemand.forecast.models import make_model

    candidates = {n: make_model(n, freq=prep.args.freq) for n in prep.names}
    return adjust_candidates(candidates, prep.args.freq, default_set=prep.args.models is None)


def backtest_candidates(
    prep: Prepared,
    candidates: Mapping[str, Any],
    plan: tuple[int, int, int],
    progress: bool = False,
) -> dict[str, pd.DataFrame]:
    """Each candidate's rolling-origin backtest forecasts, copied series included, its
    ``model`` column the candidate's name (the registry key, e.g. ``snaive``).

    The backtest reaches the horizon asked where the history allows (``plan`` is the period's
    (horizon cap, windows, shortest step), :data:`BACKTEST_PLAN`). Every window of every
    candidate is a task of the engine (:mod:`mashdemand.engine`; ``n_jobs`` local workers by
    default), each fit on one native thread (mashdemand.threads).
    """
    cvs, _ = backtest_and_fit(prep, candidates, plan, progress, final=False)
    return cvs


def backtest_and_fit(
    prep: Prepared,
    candidates: Mapping[str, Any],
    plan: tuple[int, int, int] | None,
    progress: bool = False,
    final: bool = True,
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """The candidates' backtests (:func:`backtest_candidates`; none when ``plan`` is None)
    and their final fits (:func:`fit_candidates`; none when ``final`` is False), run as one
    batch of engine tasks so the workers stay busy: ``(cvs, fcs)`` by candidate name."""
    from mashdemand.engine import current_engine
    from mashdemand.forecast import backtest as bt

    engine = current_engine(prep.args.n_jobs)
    df = prep.train.sort_values([UID, DS]).reset_index(drop=True)
    check_training_frame(df)
    shipment = bt.Shipment(df, engine, prep.future)  # every part sent to the workers once
    tasks, owners = [], []
    if plan is not None:
        shortest = int(prep.panel.groupby(UID).size().min())
        p = bt.backtest_plan(prep.args.freq, prep.h, shortest, plan)
        for n, model in candidates.items():
            more = bt.window_tasks(
                model, df, p.h, p.windows, p.step, prep.args.level,
                engine=engine, label=n, shipment=shipment,
            )  # fmt: skip
            tasks += more
            owners += [("cv", n)] * len(more)
    if final:
        more = _fit_tasks(prep, candidates, engine, shipment)
        tasks += more
        owners += [("fit", t.name.split(" ")[0]) for t in more]
    results = engine.run(tasks, progress=progress, desc="forecast") if tasks else []
    parts: dict[tuple[str, str], list] = {}
    for owner, res in zip(owners, results, strict=True):
        parts.setdefault(owner, []).append(res)
    cvs, fcs = {}, {}
    for n, model in candidates.items():
        if plan is not None:
            cv = bt.stack_windows(parts.get(("cv", n), []), model.name, prep.args.level)
            # Tables name each model by its registry key (``snaive``), as the weights do.
            cvs[n] = copy_series(cv, prep.copies).assign(model=n)
        if final:
            fc = pd.concat(parts[("fit", n)], ignore_index=True)
            fcs[n] = copy_series(fc, prep.copies)
    return cvs, fcs


def _fit_part(model: Any, train: Any, future: Any, h: int, level: Sequence[int]) -> pd.DataFrame:
    """One final fit (an engine task): a clone of ``model`` fitted on ``train`` (whole
    series), forecasting ``h`` periods with the features ``future``."""
    from mashdemand.forecast.base import clone

    return clone(model).fit(train.frame()).predict(h, X=future.frame(), level=level)


def _fit_tasks(prep: Prepared, candidates: Mapping[str, Any], engine: Any, shipment: Any) -> list:
    """Each candidate's final fit as engine tasks, one per part of whole series (the parts of
    ``shipment``); each task's name starts with the candidate's name."""
    from mashdemand.engine import Task
    from mashdemand.forecast.backtest import series_words, task_cost

    tasks = []
    for n, model in candidates.items():
        futures = shipment.future_parts(model)
        for (part, ref), future in zip(shipment.parts(model), futures, strict=True):
            args = (model, ref, future, prep.h, tuple(prep.args.level))
            words = series_words(part[UID].unique().tolist())
            tasks.append(Task(_fit_part, args, f"{n} fit: {words}", task_cost(model, part)))
    return tasks


def fit_candidates(
    prep: Prepared, candidates: Mapping[str, Any], progress: bool = False
) -> dict[str, pd.DataFrame]:
    """Each candidate fitted on the whole history, its forecast over the horizon (copied
    series included): engine tasks as :func:`backtest_candidates`."""
    return backtest_and_fit(prep, candidates, None, progress)[1]


def weigh_ensemble(prep: Prepared, cvs: Mapping[str, pd.DataFrame]) -> Ensemble:
    """Weights, reconciliation, interval calibration and backtest tables from the candidates'
    backtests ``cvs`` (weights and intervals per horizon bucket, from the errors there).

    Raises
    ------
    ForecastError
        When the ensemble cannot be backtested honestly (one window only).
    """
    from mashdemand.forecast import ensemble, intervals, metrics, reconcile

    freq, level, m, panel = prep.args.freq, prep.args.level, prep.m, prep.panel
    top_k, edges = min(3, len(cvs)), ensemble.WEIGHT_EDGES[freq]
    weights = ensemble.select_weights(cvs, panel, m, top_k=top_k, edges=edges)
    ens_cv = ensemble.combine_cv(cvs, panel, m, top_k=top_k, edges=edges)
    if len(ens_cv) == 0:
        raise ForecastError(
            "history too short for an honest backtest of the ensemble (one window only); "
            "forecast without the backtest or from a longer history"
        )
    info = prep.hierarchy()
    method, scores = prep.args.reconciliation, None
    if method == "auto":
        method, scores, ens_cv = _choose_reconciliation(ens_cv, info, panel, m)
    else:
        ens_cv = reconcile.reconcile(ens_cv, info, method=method, residuals=ens_cv)
    calib = None
    if len(ens_cv) >= MIN_TO_CALIBRATE:
        calib = intervals.calibrator_for(freq, level, MIN_PER_BUCKET).fit(ens_cv)
        ens_cv = _honest_calibration(ens_cv, level, freq)
    ens_cv["model"] = "ensemble"
    cv_all = pd.concat([*cvs.values(), ens_cv], ignore_index=True)
    # Every model is scored on the windows the ensemble could be scored on.
    cv_all = cv_all[cv_all["cutoff"].isin(ens_cv["cutoff"].unique())]
    evaluation = metrics.evaluate(cv_all, panel, m, level=level)
    return Ensemble(weights, method, scores, calib, cv_all, evaluation, dict(cvs))


def equal_weights(prep: Prepared, candidates: Mapping[str, Any]) -> Ensemble:
    """Every candidate weighted equally for every series (no backtest); models' own
    intervals; ``bottom_up`` reconciliation for ``auto``."""
    w = 1.0 / len(candidates)
    weights = pd.DataFrame(
        [(u, n, w) for u in prep.panel[UID].unique() for n in candidates],
        columns=[UID, "model", "weight"],
    )
    method = prep.args.reconciliation
    return Ensemble(weights, "bottom_up" if method == "auto" else method)


def fit_ensemble(prep: Prepared, candidates: Mapping[str, Any], ens: Ensemble) -> pd.DataFrame:
    """Fit every candidate on the whole history and combine their forecasts:
    ``unique_id, ds, yhat, lo/hi``, calibrated and finished, before any scenario."""
    return combine_forecasts(prep, fit_candidates(prep, candidates), ens)


def combine_forecasts(
    prep: Prepared, fcs: Mapping[str, pd.DataFrame], ens: Ensemble
) -> pd.DataFrame:
    """The candidates' forecasts ``fcs`` weighted by ``ens``, calibrated and finished."""
    from mashdemand.forecast import ensemble

    fc = ensemble.combine(dict(fcs), ens.weights)
    if ens.calibrator is not None:
        fc = ens.calibrator.apply(fc)
    return finish_forecast(fc, prep.args.level)


def finish(
    prep: Prepared,
    ens: Ensemble,
    base: pd.DataFrame,
    scenario: Scenario,
    near: ForecastResult | None = None,
) -> pd.DataFrame:
    """The contract frame (CONTRACTS.md) of the ensemble forecast ``base`` under ``scenario``:
    risk identification and population variant applied, reconciled, made to agree with the
    daily ``near`` forecast where they overlap, split ids turned into columns."""
    from mashdemand.forecast import reconcile

    by, level = prep.args.by, prep.args.level
    fc = _apply_scenario(base, scenario, prep.history, by)
    fc = _apply_population_variant(fc, prep.population, scenario)
    info = prep.hierarchy()
    residuals = ens.cv[ens.cv["model"] == "ensemble"] if ens.cv is not None else None
    if ens.reconciliation == "mint_shrink" and residuals is None:
        raise ForecastError("reconciliation mint_shrink needs the backtest's residuals")
    fc = reconcile.reconcile(fc, info, method=ens.reconciliation, residuals=residuals)
    if near is not None:
        from mashdemand.forecast.temporal import align_to_daily

        # near.history is the zero-filled daily panel of the same series.
        fc = align_to_daily(fc, _from_contract(near.frame, by), near.history, prep.args.freq, level)
        fc = reconcile.reconcile(fc.drop(columns="from_daily"), info, method="bottom_up")
    return _to_contract(fc, by, level)


def _known_ensemble(prep: Prepared, state: _State, candidates: Mapping[str, Any]) -> Ensemble:
    """The ensemble of ``prep`` (a history cut at an origin) from the backtest forecasts of
    ``state`` dated up to that origin; a backtest of its own where none are, equal weights
    without a backtest."""
    if state.plan is None:
        return equal_weights(prep, candidates)
    origin = prep.panel[DS].max()
    cvs = state.ensemble.cvs or {}
    known = {n: cv[cv[DS] <= origin] for n, cv in cvs.items() if n in candidates}
    if set(known) == set(candidates) and all(len(cv) for cv in known.values()):
        try:
            return weigh_ensemble(prep, known)
        except ForecastError:
            pass  # fewer than two windows had run by the origin
    return weigh_ensemble(prep, backtest_candidates(prep, candidates, state.plan))


def forecast_as_of(
    history: pd.DataFrame,
    origin: str | pd.Timestamp,
    until: str | pd.Timestamp,
    fitted: ForecastResult | None = None,
    **kwargs: Any,
) -> ForecastResult:
    """The forecast to ``until`` made as of ``origin``: from the history up to ``origin``.

    With ``fitted`` (a result of :func:`forecast` on a history that ``history`` begins, held
    in memory) its models and backtest are reused as :meth:`ForecastResult.as_of` says;
    otherwise ``forecast(history up to origin, until, **kwargs)``.

    >>> hist = pd.DataFrame({"hub": "a", "date": pd.date_range("2024-01-01", periods=60),
    ...     "contacts": 10})
    >>> res = forecast_as_of(hist, "2024-02-14", "2024-02-20", models=["snaive"], backtest=False)
    >>> res.data_window, len(res.frame[res.frame["hub"] == "a"])
    (('2024-01-01', '2024-02-14'), 6)
    """
    if fitted is not None:
        return fitted.as_of(origin, until)
    cut = history[pd.to_datetime(history[schema.DATE]) <= pd.Timestamp(origin)]
    return forecast(cut, until, **kwargs)


def _result(
    state: _State, frame: pd.DataFrame, near: ForecastResult | None, seconds: float
) -> ForecastResult:
    """The :class:`ForecastResult` of a fitted pipeline."""
    prep, ens = state.prepared, state.ensemble
    return ForecastResult(
        frame=frame,
        freq=prep.args.freq,
        by=prep.args.by,
        history=prep.panel,
        scenario=prep.scenario,
        models=prep.names,
        weights=ens.weights,
        backtest=ens.evaluation,
        cv=ens.cv,
        calibration=ens.calibrator.to_dict() if ens.calibrator is not None else None,
        reconciliation=ens.reconciliation,
        reconciliation_scores=ens.scores,
        near_term=near,
        seconds=seconds,
        _state=state,
    )


def distinct_series(train: pd.DataFrame) -> dict[str, str]:
    """Series that repeat another exactly (same dates, counts and features): id -> the id of
    the first of its kind, which is fitted in its place.

    >>> t = pd.DataFrame({"unique_id": ["ALL", "ALL", "a", "a"], "ds": [1, 2, 1, 2],
    ...                   "y": [3.0, 4.0, 3.0, 4.0]})
    >>> distinct_series(t)
    {'a': 'ALL'}
    """
    seen: dict[int, str] = {}
    copies: dict[str, str] = {}
    cols = [c for c in train.columns if c != UID]
    for uid, g in train.groupby(UID, sort=True):
        key = hash(pd.util.hash_pandas_object(g[cols], index=False).to_numpy().tobytes())
        if key in seen:
            copies[str(uid)] = seen[key]
        else:
            seen[key] = str(uid)
    return copies


def copy_series(frame: pd.DataFrame, copies: dict[str, str]) -> pd.DataFrame:
    """``frame`` with the rows of each copied series added under the copy's id."""
    if not copies:
        return frame
    extra = [frame[frame[UID] == src].assign(**{UID: dup}) for dup, src in copies.items()]
    return pd.concat([frame, *extra], ignore_index=True)


def _honest_calibration(cv: pd.DataFrame, level: Sequence[int], freq: str) -> pd.DataFrame:
    """Calibrate each backtest window's intervals on the other windows only.

    Only the other windows' periods outside this window's own dates are used (windows may
    overlap, and errors on the same dates move together), so the coverage reported for the
    ensemble is out of sample for the calibration too (cross-conformal); where those do not
    span the window's horizons (long windows overlap almost wholly), all of the other
    windows' errors are used. With one window, in-sample. Buckets as the forecast's
    (:func:`~mashdemand.forecast.intervals.calibrator_for`).
    """
    from mashdemand.forecast.intervals import calibrator_for

    cutoffs = cv["cutoff"].unique()
    if len(cutoffs) < 2:
        return calibrator_for(freq, level, MIN_PER_BUCKET).fit(cv).apply(cv)
    out = []
    for c in cutoffs:
        mine = cv[cv["cutoff"] == c]
        others = cv[cv["cutoff"] != c]
        rest = others[(others[DS] < mine[DS].min()) | (others[DS] > mine[DS].max())]
        reach = (rest["horizon"].min(), rest["horizon"].max()) if len(rest) else (0, 0)
        if len(rest) == 0 or reach[0] > mine["horizon"].min() or reach[1] < mine["horizon"].max():
            rest = others
        out.append(calibrator_for(freq, level, MIN_PER_BUCKET).fit(rest).apply(mine))
    return pd.concat(out, ignore_index=True)


def _near_term_until(prep: Prepared, coarse: pd.DataFrame, days: int) -> pd.Timestamp:
    """Last day of the daily forecast a coarse one agrees with: ``days`` after the history,
    at least to the end of the first coarse period, at most to ``until`` (or that end)."""
    from mashdemand.forecast.temporal import period_days

    args = prep.args
    last = pd.Timestamp(prep.history[schema.DATE].max())
    first = pd.Timestamp(coarse[DS].min())
    first_end = first + pd.Timedelta(days=int(period_days(pd.Series([first]), args.freq)[0]) - 1)
    return min(max(last + pd.Timedelta(days=days), first_end), max(args.until, first_end))


def _near_term(
    prep: Prepared, coarse: pd.DataFrame, days: int, backtest: bool, progress: bool
) -> ForecastResult:
    """The daily forecast a coarse one from daily history agrees with (see ``align_daily``)."""
    args = prep.args
    # Drift suits long-range periods only; the daily run uses the daily candidates.
    models = args.models
    daily_models = [n for n in models if n != "drift"] or None if models else None
    return forecast(
        prep.history,
        until=_near_term_until(prep, coarse, days),
        freq="day",
        history_freq="day",
        models=daily_models,
        align_daily=False,
        by=args.by,
        population=prep.population,
        housing=prep.housing,
        scenario=prep.scenario,
        calendar=args.calendar,
        backtest=backtest,
        level=args.level,
        n_jobs=args.n_jobs,
        progress=progress,
    )


def _from_contract(frame: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Contract rows -> ``unique_id, ds, yhat, lo/hi`` (force-by-split totals dropped)."""
    f = frame.copy()
    keep = pd.Series(True, index=f.index)
    if by:
        keep = ~((f[schema.HUB] == schema.FORCE_TOTAL) & (f[by[0]] != schema.FORCE_TOTAL))
    f = f[keep]
    uid = f[schema.HUB].astype(str)
    for c in by:
        uid = uid.where(f[c] == schema.FORCE_TOTAL, uid + schema.SPLIT_SEP + f[c].astype(str))
    cols = [c for c in f.columns if c == YHAT or c[:2] in ("lo", "hi")]
    out = f[cols].copy()
    out.insert(0, DS, pd.to_datetime(f[schema.DATE]))
    out.insert(0, UID, uid.to_numpy())
    return out.reset_index(drop=True)


def _choose_reconciliation(
    cv: pd.DataFrame, info, panel: pd.DataFrame, m: int
) -> tuple[str, dict[str, float], pd.DataFrame]:
    """The reconciliation method with the lowest backtest MASE over every node.

    MinT's covariance comes from the same backtest residuals, so its score is slightly
    optimistic; a tie (within 0.5%) goes to the simpler method, in ``METHODS`` order.
    Returns the method, every method's score and the backtest reconciled by the method.
    """
    from mashdemand.forecast import metrics, reconcile

    scores: dict[str, float] = {}
    reconciled: dict[str, pd.DataFrame] = {}
    for method in reconcile.METHODS:
        try:
            reconciled[method] = reconcile.reconcile(cv, info, method=method, residuals=cv)
        except (ValueError, np.linalg.LinAlgError):
            continue
        ev = metrics.evaluate(reconciled[method], panel, m, level=())
        scores[method] = round(float(ev.overall["mase"].iloc[0]), 4)
    best = min(scores.values())
    chosen = next(k for k, v in scores.items() if v <= best * 1.005)
    return chosen, scores, reconciled[chosen]


def _bottom_ids(panel: pd.DataFrame, by: Sequence[str]) -> list[str]:
    ids = [u for u in panel[UID].unique() if u != schema.FORCE_TOTAL]
    if by:
        return [u for u in ids if schema.SPLIT_SEP in u]
    return ids


def _principal_population(pop: pd.DataFrame | None) -> pd.DataFrame | None:
    """Estimates and the principal projection only: what the models see (a population
    variant is applied afterwards by :func:`_apply_population_variant`)."""
    if pop is None or "variant" not in pop.columns:
        return pop
    keep = (pop["kind"] != "projection") | (pop["variant"] == "principal")
    return pop[keep].copy()


def refit_needed(fitted: Scenario, scenario: Scenario, housing: pd.DataFrame | None = None) -> bool:
    """Whether a forecast fitted under ``fitted`` must be fitted again for ``scenario``.

    The models see the housing of the scenario (planned dwellings scaled by its delivery
    rate) and always the principal population; the population variant and risk
    identification are applied to the forecast afterwards and ``rpa_share`` is only
    recorded. So only a different housing delivery, with planned dwellings given, needs a
    refit.

    >>> housing = pd.DataFrame({"hub": "a", "year": [2030], "net_additional_dwellings": [300],
    ...     "kind": "planned"})
    >>> refit_needed(Scenario(), Scenario("high", "high"), housing)
    False
    >>> refit_needed(Scenario(), Scenario("slow", housing_delivery=0.8), housing)
    True
    """
    if housing is None or fitted.housing_delivery == scenario.housing_delivery:
        return False
    return bool((housing[schema.KIND] == "planned").any())


def _scenario_housing(housing: pd.DataFrame | None, scen: Scenario) -> pd.DataFrame | None:
    """Planned net additional dwellings scaled by the scenario's delivery rate (as floats:
    the scaled counts are not whole)."""
    if housing is None or scen.housing_delivery == 1.0:
        return housing
    out = housing.copy()
    out[schema.NET_ADDITIONAL_DWELLINGS] = out[schema.NET_ADDITIONAL_DWELLINGS].astype(float)
    planned = out[schema.KIND] == "planned"
    out.loc[planned, schema.NET_ADDITIONAL_DWELLINGS] = (
        out.loc[planned, schema.NET_ADDITIONAL_DWELLINGS] * scen.housing_delivery
    )
    return out


def _apply_scenario(
    fc: pd.DataFrame, scen: Scenario, history: pd.DataFrame, by: Sequence[str]
) -> pd.DataFrame:
    """Scale forecasts for the extra risk identified by officers (see :class:`Scenario`)."""
    if not scen.risk_identification:
        return fc
    share = _police_share(history, fc[UID].unique(), by)
    factor = 1.0 + scen.risk_identification * fc[UID].map(share).fillna(1.0).to_numpy()
    cols = [YHAT, *[c for c in fc.columns if c[:2] in ("lo", "hi")]]
    fc = fc.copy()
    fc[cols] = fc[cols].to_numpy() * factor[:, None]
    return fc


def population_ratio(
    population: pd.DataFrame | None, variant: str, hubs: Iterable[str]
) -> dict[tuple[str, int], float]:
    """``(hub, year) -> population(variant) / population(principal)`` for projection years;
    ``ALL`` is the ratio of the hubs' sums. Empty when there is nothing to compare.

    >>> pop = pd.DataFrame({"hub": "a", "year": [2027, 2027], "age_band": "all",
    ...     "population": [100.0, 103.0], "kind": "projection", "variant": ["principal", "high"]})
    >>> population_ratio(pop, "high", ["a"])[("a", 2027)]
    1.03
    """
    if population is None or "variant" not in population.columns or variant == "principal":
        return {}
    p = population[population[schema.KIND] == "projection"]
    hubs = list(hubs)
    p = p[p[schema.HUB].isin(hubs)]
    if (p[schema.AGE_BAND] == "all").any():
        p = p[p[schema.AGE_BAND] == "all"]
    tab = p.pivot_table(
        index=[schema.HUB, schema.YEAR], columns="variant", values=schema.POPULATION, aggfunc="sum"
    )
    if variant not in tab.columns or "principal" not in tab.columns:
        return {}
    out = (tab[variant] / tab["principal"]).dropna().to_dict()
    force = tab.groupby(level=schema.YEAR)[[variant, "principal"]].sum()
    for year, r in force.iterrows():
        out[(schema.FORCE_TOTAL, int(year))] = float(r[variant] / r["principal"])
    return {(h, int(y)): float(v) for (h, y), v in out.items()}


def _apply_population_variant(
    fc: pd.DataFrame, population: pd.DataFrame | None, scen: Scenario
) -> pd.DataFrame:
    """Scale each series by its hub's population ratio (variant / principal) in the period's
    year (the last projection year beyond the projections, 1 before them)."""
    hubs = {u: u.split(schema.SPLIT_SEP)[0] for u in fc[UID].unique()}
    ratio = population_ratio(population, scen.population_variant, set(hubs.values()))
    if not ratio:
        return fc
    years = pd.to_datetime(fc[DS]).dt.year.to_numpy()
    hub = fc[UID].map(hubs).to_numpy()
    factor = np.ones(len(fc))
    for h in np.unique(hub):
        known = sorted((y, v) for (hh, y), v in ratio.items() if hh == h)
        if not known:
            continue
        ys = np.array([k[0] for k in known])
        vs = np.array([k[1] for k in known])
        sel = hub == h
        factor[sel] = np.where(years[sel] < ys[0], 1.0, np.interp(years[sel], ys, vs))
    cols = [YHAT, *[c for c in fc.columns if c[:2] in ("lo", "hi")]]
    fc = fc.copy()
    fc[cols] = fc[cols].to_numpy() * factor[:, None]
    return fc


def _police_share(history: pd.DataFrame, ids: Iterable[str], by: Sequence[str]) -> dict:
    share: dict[str, float] = {}
    for u in ids:
        parts = u.split(schema.SPLIT_SEP)
        if schema.SOURCE in by and len(parts) > 1:
            share[u] = float(parts[1 + list(by).index(schema.SOURCE)] == "police")
        elif schema.SOURCE in history.columns:
            h = history if u == schema.FORCE_TOTAL else history[history[schema.HUB] == parts[0]]
            tot = h[schema.CONTACTS].sum()
            pol = h.loc[h[schema.SOURCE] == "police", schema.CONTACTS].sum()
            share[u] = float(pol / tot) if tot else 1.0
        else:
            share[u] = 1.0
    return share


def _force_by_split(out: pd.DataFrame, by: Sequence[str], level: Sequence[int]) -> pd.DataFrame:
    """Force-wide totals of each split (``hub = ALL``, e.g. all police contacts).

    ``yhat`` is the sum over hubs. The interval half-widths are not summed (hubs' errors are
    not perfectly correlated, so summed widths cover far more than stated): each is the sum of
    the hubs' half-widths times the ratio the calibrated force total shows on that day between
    its own half-width and the sum of the hubs' half-widths.
    """
    hub_rows = out[(out[schema.HUB] != schema.FORCE_TOTAL) & (out[by[0]] == schema.FORCE_TOTAL)]
    all_rows = out[(out[schema.HUB] == schema.FORCE_TOTAL) & (out[by[0]] == schema.FORCE_TOTAL)]
    bottoms = out[(out[schema.HUB] != schema.FORCE_TOTAL) & (out[by[0]] != schema.FORCE_TOTAL)]
    bounds = interval_columns(level)
    half = bottoms[[*by, schema.DATE]].copy()
    hub_half = hub_rows[[schema.DATE]].copy()
    for c in bounds:
        half[c] = (bottoms[c] - bottoms[YHAT]).abs()
        hub_half[c] = (hub_rows[c] - hub_rows[YHAT]).abs()
    summed = hub_half.groupby(schema.DATE)[bounds].sum()
    own = all_rows.set_index(schema.DATE)
    ratio = pd.DataFrame(
        {c: (own[c] - own[YHAT]).abs() / summed[c].reindex(own.index) for c in bounds}
    )
    ratio = ratio.replace([np.inf, -np.inf], np.nan).fillna(1.0).clip(upper=1.0)
    keys = [*by, schema.DATE]
    total = bottoms.groupby(keys, as_index=False)[YHAT].sum()
    widths = half.groupby(keys, as_index=False)[bounds].sum()
    total = total.merge(widths, on=keys)
    r = ratio.reindex(total[schema.DATE]).to_numpy()
    for i, c in enumerate(bounds):
        sign = -1.0 if c.startswith("lo") else 1.0
        total[c] = np.maximum(total[YHAT] + sign * r[:, i] * total[c], 0.0)
    total[schema.HUB] = schema.FORCE_TOTAL
    return total


def _to_contract(fc: pd.DataFrame, by: Sequence[str], level: Sequence[int]) -> pd.DataFrame:
    """unique_id -> hub (+ by columns); adds force-by-split totals when splitting."""
    parts = fc[UID].str.split(schema.SPLIT_SEP, expand=True)
    out = pd.DataFrame({schema.HUB: parts[0]})
    for i, c in enumerate(by):
        col = parts[i + 1] if (i + 1) in parts.columns else None
        out[c] = col.fillna(schema.FORCE_TOTAL) if col is not None else schema.FORCE_TOTAL
    out[schema.DATE] = fc[DS].to_numpy()
    cols = [YHAT, *interval_columns(level)]
    for c in cols:
        out[c] = fc[c].to_numpy()
    if by:
        force_split = _force_by_split(out, by, level)
        out = pd.concat([out, force_split[out.columns]], ignore_index=True)
    keys = [schema.HUB, *by, schema.DATE]
    out = out.sort_values(keys).reset_index(drop=True)
    out[cols] = np.round(out[cols].to_numpy(dtype=float), 3)
    return out


def load_history(
    contacts: Sequence[str | Path] | None = None,
    counts: str | Path | None = None,
    store: str | Path | None = None,
    by: Sequence[str] = (),
    mapping: str | Path | None = None,
) -> tuple[pd.DataFrame, str]:
    """History for :func:`forecast` from exactly one source; returns (counts, period).

    ``contacts`` are ingested into a throwaway in-memory store (same rules as ``ingest``);
    ``store`` is read as it is; ``counts`` is an aggregated-counts CSV (period inferred).
    """
    from mashdemand.store import Store

    given = [x is not None and x != [] for x in (contacts, counts, store)]
    if sum(given) != 1:
        raise ForecastError("give exactly one of --contacts, --counts or --store")
    by = list(by)
    if counts is not None:
        from mashdemand.forecast.counts import read_counts

        df, freq = read_counts(counts)
        missing = [c for c in by if c not in df.columns]
        if missing:
            raise ForecastError(f"{counts}: cannot split by {', '.join(missing)}: no such column")
        return df, freq
    if contacts:
        from mashdemand.ingest import ingest_contacts

        with Store(":memory:") as st:
            summary = ingest_contacts(list(contacts), store=st, mapping=mapping)
            if summary.rows_accepted == 0:
                raise ForecastError("no usable contacts in " + ", ".join(map(str, contacts)))
            return st.daily_counts(by=by), "day"
    with Store(store, read_only=True) as st:
        if st.count() == 0:
            raise ForecastError(f"{store}: the store holds no contacts; run ingest first")
        return st.daily_counts(by=by), "day"
