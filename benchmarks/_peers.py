"""Peer forecasters for the forecast benchmark, set up as a competent user would, and their cache.

Every peer takes the same history (``unique_id, ds, y``, one regular series per id, no gaps)
and returns ``unique_id, ds, yhat, lo80, hi80, lo95, hi95`` for ``h`` periods after each
series' last date, with its own intervals:

- ``SeasonalNaive``, ``AutoETS``, ``AutoARIMA``, ``MSTL``: statsforecast with
  ``level=[80, 95]`` (daily: season 7; MSTL seasons (7, 365) with its default trend model;
  AutoARIMA on the latest :data:`ARIMA_DAYS` days to keep it affordable);
- ``Prophet``: yearly and weekly seasonality (none for annual data) and the country's holidays
  (``add_country_holidays``), intervals from its predictive samples.

Peers do not change when mashdemand changes, so :func:`cached_forecast` keeps each forecast in a
parquet file keyed by a hash of the method, its settings and the exact history it was given.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

UID, DS, Y, YHAT = "unique_id", "ds", "y", "yhat"
LEVELS: tuple[int, ...] = (80, 95)
INTERVALS: tuple[str, ...] = ("lo80", "hi80", "lo95", "hi95")
FORECAST_COLUMNS: tuple[str, ...] = (UID, DS, YHAT, *INTERVALS)
PEERS: tuple[str, ...] = ("SeasonalNaive", "AutoETS", "AutoARIMA", "MSTL", "Prophet")
#: Daily AutoARIMA fits on at most this many latest days [days]: its season-7 search on a
#: full history takes minutes per series.
ARIMA_DAYS = 730
#: Bump when a peer's set-up changes, so the cache refits it.
PEER_VERSION = 1
#: statsforecast frequency and season per period of the data.
FREQS: dict[str, str] = {"day": "D", "fy": "YS-APR"}
SEASON: dict[str, int] = {"day": 7, "fy": 1}


def _statsforecast_model(method: str, freq: str):
    """The statsforecast model object for ``method`` at ``freq`` ('day' or 'fy')."""
    from statsforecast.models import MSTL, AutoARIMA, AutoETS, Naive, SeasonalNaive

    m = SEASON[freq]
    if method == "SeasonalNaive":
        return SeasonalNaive(season_length=m) if m > 1 else Naive()
    if method == "AutoETS":
        return AutoETS(season_length=m)
    if method == "AutoARIMA":
        return AutoARIMA(season_length=m)
    if method == "MSTL" and freq == "day":
        return MSTL(season_length=[7, 365])
    raise ValueError(f"no statsforecast peer {method!r} for {freq} data")


def statsforecast_peer(history: pd.DataFrame, method: str, h: int, freq: str) -> pd.DataFrame:
    """Forecast every series of ``history`` ``h`` periods ahead with one statsforecast model.

    Parameters
    ----------
    history : DataFrame
        ``unique_id, ds, y``, regular and gap-free per series [contacts/period].
    method : str
        SeasonalNaive, AutoETS, AutoARIMA or MSTL.
    h : int
        Horizon [periods].
    freq : {'day', 'fy'}
        Period of the data.

    Returns
    -------
    DataFrame
        :data:`FORECAST_COLUMNS`; non-finite bounds fall back to the point forecast.
    """
    from statsforecast import StatsForecast

    df = history[[UID, DS, Y]].sort_values([UID, DS])
    if method == "AutoARIMA" and freq == "day":
        df = df.groupby(UID, sort=False).tail(ARIMA_DAYS)
    model = _statsforecast_model(method, freq)
    sf = StatsForecast(models=[model], freq=FREQS[freq], n_jobs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fc = sf.forecast(df=df.reset_index(drop=True), h=h, level=list(LEVELS))
    fc = fc.reset_index() if UID not in fc.columns else fc
    name = [c for c in fc.columns if c not in (UID, DS) and "-lo-" not in c and "-hi-" not in c]
    out = pd.DataFrame({UID: fc[UID].astype(str).to_numpy(), DS: pd.to_datetime(fc[DS])})
    out[YHAT] = fc[name[0]].to_numpy(dtype=float)
    for lv in LEVELS:
        for side in ("lo", "hi"):
            out[f"{side}{lv}"] = fc[f"{name[0]}-{side}-{lv}"].to_numpy(dtype=float)
    return _finite(out)


def prophet_peer(history: pd.DataFrame, h: int, freq: str, country: str | None) -> pd.DataFrame:
    """Prophet per series with the country's holidays; intervals from predictive samples.

    Daily: yearly and weekly seasonality, ``add_country_holidays(country)``. Annual (fy): no
    seasonality, no holidays. The 80% and 95% bounds are the 10/90% and 2.5/97.5% quantiles
    of 1,000 predictive samples (trend and noise uncertainty), so one fit gives both levels.
    """
    from prophet import Prophet

    logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
    logging.getLogger("prophet").setLevel(logging.WARNING)
    daily = freq == "day"
    out = []
    for uid, g in history.groupby(UID, sort=True):
        model = Prophet(
            yearly_seasonality=daily,
            weekly_seasonality=daily,
            daily_seasonality=False,
            uncertainty_samples=1000,
        )
        if daily and country:
            model.add_country_holidays(country_name=country)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(g[[DS, Y]].dropna())
        future = pd.DataFrame({DS: _future_dates(g[DS].max(), h, freq)})
        point = model.predict(future)[YHAT].to_numpy(dtype=float)
        draws = model.predictive_samples(future)[YHAT]
        q = np.quantile(draws, [0.025, 0.1, 0.9, 0.975], axis=1)
        frame = pd.DataFrame({UID: uid, DS: future[DS], YHAT: point})
        frame["lo95"], frame["lo80"], frame["hi80"], frame["hi95"] = q
        out.append(frame)
    return _finite(pd.concat(out, ignore_index=True))


def peer_forecast(
    history: pd.DataFrame, method: str, h: int, freq: str, country: str | None
) -> pd.DataFrame:
    """Forecast with the peer ``method`` (one of :data:`PEERS`); see the module docstring."""
    if method == "Prophet":
        return prophet_peer(history, h, freq, country)
    return statsforecast_peer(history, method, h, freq)


def history_key(history: pd.DataFrame, method: str, h: int, freq: str, country: str | None) -> str:
    """A hash of everything a peer's forecast depends on: method, settings and history.

    Examples
    --------
    >>> df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024-01-01", periods=3),
    ...     "y": [1.0, 2.0, 3.0]})
    >>> history_key(df, "AutoETS", 7, "day", "UK") == history_key(df, "AutoETS", 7, "day", "UK")
    True
    >>> history_key(df, "AutoETS", 7, "day", "UK") == history_key(df, "AutoETS", 8, "day", "UK")
    False
    """
    d = history[[UID, DS, Y]].sort_values([UID, DS]).reset_index(drop=True)
    digest = hashlib.sha256()
    digest.update(f"{method}|{h}|{freq}|{country}|{PEER_VERSION}|{ARIMA_DAYS}".encode())
    digest.update(pd.util.hash_pandas_object(d, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:20]


def cache_path(cache_dir: Path, label: str, method: str, key: str) -> Path:
    """Where the forecast of ``method`` for ``label`` (data set and cutoff) with ``key`` lives."""
    return cache_dir / f"{label}_{method}_{key}.parquet"


def cached_forecast(
    history: pd.DataFrame,
    method: str,
    h: int,
    freq: str,
    country: str | None,
    path: Path | None,
) -> pd.DataFrame:
    """:func:`peer_forecast`, read from ``path`` when it exists and written there otherwise."""
    if path is not None and path.exists():
        return pd.read_parquet(path)
    fc = peer_forecast(history, method, h, freq, country)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fc.to_parquet(tmp, index=False)
        tmp.replace(path)
    return fc


def _future_dates(last: pd.Timestamp, h: int, freq: str) -> pd.DatetimeIndex:
    if freq == "day":
        return pd.date_range(last + pd.Timedelta(days=1), periods=h, freq="D")
    return pd.date_range(last + pd.DateOffset(years=1), periods=h, freq=FREQS[freq])


def _finite(fc: pd.DataFrame, columns: Sequence[str] = INTERVALS) -> pd.DataFrame:
    fc = fc.replace([np.inf, -np.inf], np.nan)
    fc[YHAT] = fc[YHAT].fillna(0.0)
    for c in columns:
        fc[c] = fc[c].fillna(fc[YHAT])
    return fc[list(FORECAST_COLUMNS)].reset_index(drop=True)
