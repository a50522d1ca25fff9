"""Native thread limits for small model fits.

Our fits are small (a few thousand rows per series, a few series per force): one OpenBLAS,
OpenMP (scikit-learn's ``HistGradientBoostingRegressor``) or Stan thread finishes them fastest.
With a thread per core each, two fits side by side, or a fit beside any busy process, spend
their time waiting on each other (measured on 2 cores: a small gradient-boosting fit took 0.4 s
on one thread and 2-33 s on two while the CPU was busy). So every model's ``fit`` and
``predict`` runs single-threaded (:func:`single_threaded_fit`), and parallelism, where wanted,
comes from processes across series and backtest cutoffs (``n_jobs`` / ``--jobs``, or a Dask
cluster: :mod:`mashdemand.engine`), never from
threads inside a fit.

:func:`limit_threads` caps the thread pools already loaded in this process with
``threadpoolctl`` (BLAS, OpenMP) and, while it is active, sets the usual environment variables
(:data:`THREAD_ENV`) so that child processes started meanwhile, such as the CmdStan optimiser
that Prophet runs, start single-threaded too. Both are restored on exit.

:func:`init_worker` sets the same variables as defaults in a worker process (the
``initializer`` of a ``ProcessPoolExecutor``); :func:`init_engine_worker` sets them outright
in the workers of :mod:`mashdemand.engine` (local processes and Dask workers alike).

Examples
--------
>>> from threadpoolctl import threadpool_info
>>> with single_threaded():
...     all(pool["num_threads"] == 1 for pool in threadpool_info())
True
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from threadpoolctl import threadpool_limits

__all__ = [
    "FIT_THREADS",
    "THREAD_ENV",
    "init_worker",
    "limit_threads",
    "single_threaded",
    "single_threaded_fit",
]

#: Native threads a model fit or prediction may use (see the module docstring for why 1).
FIT_THREADS = 1

#: Environment variables that size native thread pools, read when a library (or a child
#: process) starts: OpenMP, OpenBLAS, MKL, Apple Accelerate, numexpr and CmdStan's TBB.
THREAD_ENV: tuple[str, ...] = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "STAN_NUM_THREADS",
)

T = TypeVar("T")


@contextmanager
def _thread_env(n: int) -> Iterator[None]:
    """Set :data:`THREAD_ENV` to ``n`` for child processes; restore the old values on exit."""
    saved = {k: os.environ.get(k) for k in THREAD_ENV}
    os.environ.update({k: str(n) for k in THREAD_ENV})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def limit_threads(n: int = FIT_THREADS) -> Iterator[None]:
    """Run the block with at most ``n`` native threads per pool, here and in child processes.

    Parameters
    ----------
    n : int
        Threads per pool (BLAS, OpenMP) in this process, and the value of every
        :data:`THREAD_ENV` variable for processes started inside the block.

    Notes
    -----
    The limits are process-wide while the block runs (that is how the native libraries
    work) and are restored on exit, also on an exception. Libraries first loaded inside the
    block are sized by the environment variables only if they read them on load.
    """
    if n < 1:
        raise ValueError(f"threads must be >= 1; got {n}")
    with _thread_env(n), threadpool_limits(limits=n):
        yield


def single_threaded() -> Any:
    """:func:`limit_threads` with one thread: ``with single_threaded(): model.fit(df)``."""
    return limit_threads(1)


def _limited(method: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(method)
    def run(*args: Any, **kwargs: Any) -> T:
        with limit_threads(FIT_THREADS):
            return method(*args, **kwargs)

    run.__single_threaded__ = True  # type: ignore[attr-defined]
    return run


def single_threaded_fit(cls: type[T]) -> type[T]:
    """Class decorator: the forecaster's ``fit`` and ``predict`` run under :func:`limit_threads`.

    Wraps the methods the class has, its own or inherited, so a subclass of a decorated class
    stays limited; decorating it again is harmless.

    Parameters
    ----------
    cls : type
        A :class:`~mashdemand.forecast.base.Forecaster` subclass.

    Returns
    -------
    type
        ``cls`` itself, with ``fit`` and ``predict`` wrapped.
    """
    for name in ("fit", "predict"):
        method = getattr(cls, name)
        if not getattr(method, "__single_threaded__", False):
            setattr(cls, name, _limited(method))
    return cls


def init_worker(n: int = FIT_THREADS, keep_env: bool = True) -> None:
    """Start a worker process with ``n`` native threads per pool.

    Use as a ``ProcessPoolExecutor(initializer=init_worker)``. The :data:`THREAD_ENV`
    values reach libraries loaded later and child processes; pools already loaded are limited
    to ``n``.

    Parameters
    ----------
    n : int
        Threads per pool.
    keep_env : bool
        Keep a value already set in the environment (a user's own setting in the main
        process). The engine's workers pass ``False``: the parallelism is across them, so each
        runs ``n`` threads whatever the process that started it allowed.
    """
    for k in THREAD_ENV:
        if keep_env:
            os.environ.setdefault(k, str(n))
        else:
            os.environ[k] = str(n)
    threadpool_limits(limits=n)


def init_engine_worker() -> None:
    """:func:`init_worker` for a worker of :mod:`mashdemand.engine`: :data:`FIT_THREADS`
    threads per pool, the inherited environment overridden."""
    init_worker(FIT_THREADS, keep_env=False)
