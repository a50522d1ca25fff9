"""Where the parallel work runs: here, in local worker processes, or on a Dask cluster.

Forecast backtests and fits, staffing cells and their verification are independent tasks
(a model's fit of a chunk of series at one backtest cutoff; one hub-quarter's roster). Each
stage turns its work into a list of :class:`Task` and hands it to an :class:`Engine`, which
runs them and returns the results in task order. Which engine runs them is chosen once, by
the caller::

    import mashdemand as md
    with md.use_engine("dask", scheduler="tcp://10.0.0.5:8786"):
        result = md.forecast(daily, until="2030-03-31")

or on the command line with ``--engine local|dask`` and ``--scheduler ADDRESS``. Without a
choice, stages use a :class:`LocalEngine` of their ``n_jobs`` worker processes.

The seam
--------
An engine is a :class:`concurrent.futures.Executor` with retries and reporting around it.
The local engine is a ``ProcessPoolExecutor`` whose workers run one native thread each
(:func:`mashdemand.threads.init_engine_worker`); the Dask engine is ``distributed.Client``'s own
executor (``Client.get_executor``). Any other engine with a ``concurrent.futures`` executor
(Ray's, an MPI pool, a Kubernetes job runner) is a subclass that returns it from
:meth:`Engine.executor`. This was chosen over joblib's backends because the executor API is
the common ground of all of them, it reports each task's failure on its own future (so a
failed task is retried and then named, not lost in a batch), and results come back as they
finish (a progress bar over tasks).

What the engine guarantees
--------------------------
* Results are in task order and do not depend on the engine or the number of workers: a
  task is a pure function of its arguments (seeds travel in the arguments).
* A task that raises is retried (:attr:`Engine.retries` more times); if it still fails the
  run raises :class:`EngineError` naming every failed task (its series or hub-quarter) and
  the last error. Nothing is dropped silently. A worker process that dies is replaced.
* Warnings a task raises in a worker are raised again here, once per task, as they would be
  in one process.
* Large inputs used by many tasks are sent once (:meth:`Engine.share`): the Dask engine
  scatters them to the cluster, the local engine passes them (the pool pickles them).
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from mashdemand.errors import EXIT_FAILED, MashdemandError
from mashdemand.threads import init_engine_worker

__all__ = [
    "ENGINES",
    "DaskEngine",
    "Engine",
    "EngineError",
    "LocalEngine",
    "Task",
    "current_engine",
    "make_engine",
    "use_engine",
]

#: Engine names for ``--engine`` and :func:`make_engine`.
ENGINES: tuple[str, ...] = ("local", "dask")

#: Times a failed task is tried again before the run fails.
RETRIES = 1


class EngineError(MashdemandError, RuntimeError):
    """Tasks still failing after their retries, or an engine that cannot start; one line."""

    exit_code = EXIT_FAILED


@dataclass(frozen=True)
class Task:
    """One independent piece of work: ``fn(*args)``.

    Attributes
    ----------
    fn : callable
        A module-level function (it is pickled to the worker).
    args : tuple
        Its arguments; values from :meth:`Engine.share` may stand in for large ones.
    name : str
        What the task covers, in words, for progress and errors (e.g. ``"ets backtest
        cutoff 03/01/2024: reading, slough"``).
    cost : float
        Relative expected run time; the engine starts the costliest tasks first.
    """

    fn: Callable[..., Any]
    args: tuple = ()
    name: str = ""
    cost: float = 1.0


def _call(fn: Callable[..., Any], args: tuple) -> tuple[Any, list[tuple[type, str]], float]:
    """Run a task: its result, the warnings it raised (category, message) and its run time
    in the worker [s]."""
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn(*args)
    return result, [(w.category, str(w.message)) for w in caught], time.perf_counter() - t0


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:300]


@dataclass
class Engine:
    """Runs :class:`Task` lists (see the module docstring). Subclasses give the executor.

    Attributes
    ----------
    workers : int
        Tasks that run at once; 1 runs every task here, in order.
    retries : int
        Further attempts for a task that raises.
    log : list of (str, str, float)
        Every task run so far: the run's ``desc``, the task's name and its run time in the
        worker [s] (what ``benchmarks/scale.py`` reports and projects from).
    walls : list of (str, int, float)
        Every :meth:`run` so far: its ``desc``, number of tasks and wall time here [s].
    """

    workers: int = 1
    retries: int = RETRIES
    name: str = field(default="serial", init=False)
    log: list[tuple[str, str, float]] = field(default_factory=list, init=False, repr=False)
    walls: list[tuple[str, int, float]] = field(default_factory=list, init=False, repr=False)

    def executor(self) -> Executor | None:
        """The executor tasks are submitted to; ``None`` runs them in this process."""
        return None

    def share(self, value: Any) -> Any:
        """``value`` ready to pass to many tasks (sent to the workers once where possible)."""
        return value

    def restart(self) -> None:
        """Replace an executor whose workers died (the next :meth:`executor` is fresh)."""

    def close(self) -> None:
        """Release the workers (engines made by :func:`make_engine` are closed on exit)."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def parallelism(self) -> int:
        """Tasks that run at once (for a cluster, its workers once connected)."""
        return max(1, self.workers)

    def chunks(self, n_items: int, per_worker: int = 2) -> int:
        """How many parts to cut ``n_items`` independent items into for this engine."""
        n = self.parallelism()
        if n <= 1 or n_items <= 1:
            return 1
        return min(n_items, per_worker * n)

    def run(self, tasks: Sequence[Task], progress: bool = False, desc: str = "tasks") -> list[Any]:
        """Every task's result, in task order.

        Raises
        ------
        EngineError
            Naming each task that failed ``1 + retries`` times, with its last error.
        """
        tasks = list(tasks)
        start = time.perf_counter()
        bar = None
        if progress and tasks:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(tasks), desc=desc, unit="task")
        try:
            remote = self.parallelism() > 1 and len(tasks) > 1
            if not remote or self.executor() is None:
                outcomes = self._run_here(tasks, bar)
            else:
                outcomes = self._run_on(tasks, bar)
        finally:
            if bar is not None:
                bar.close()
        failed = [(tasks[i], err) for i, (ok, err) in outcomes.items() if not ok]
        if failed:
            shown = "; ".join(f"{t.name or t.fn.__name__}: {_short(e)}" for t, e in failed[:3])
            more = f" (and {len(failed) - 3} more)" if len(failed) > 3 else ""
            raise EngineError(
                f"{len(failed)} of {len(tasks)} {desc} task(s) failed after "
                f"{1 + self.retries} attempts on the {self.name} engine: {shown}{more}"
            )
        results = []
        for i in range(len(tasks)):
            value, caught, seconds = outcomes[i][1]
            self.log.append((desc, tasks[i].name, seconds))
            for category, message in caught:
                warnings.warn(message, category, stacklevel=2)
            results.append(value)
        self.walls.append((desc, len(tasks), time.perf_counter() - start))
        return results

    def _run_here(self, tasks: list[Task], bar: Any) -> dict[int, tuple[bool, Any]]:
        out: dict[int, tuple[bool, Any]] = {}
        for i, t in enumerate(tasks):
            for _ in range(1 + self.retries):
                try:
                    out[i] = (True, _call(t.fn, t.args))
                    break
                except Exception as exc:  # noqa: BLE001 - reported by name below
                    out[i] = (False, exc)
            if bar is not None:
                bar.update()
        return out

    def _run_on(self, tasks: list[Task], bar: Any) -> dict[int, tuple[bool, Any]]:
        order = sorted(range(len(tasks)), key=lambda i: -tasks[i].cost)
        attempts = dict.fromkeys(range(len(tasks)), 0)
        out: dict[int, tuple[bool, Any]] = {}
        todo = order
        while todo:
            ex = self.executor()
            assert ex is not None
            futures: dict[Future, int] = {}
            for i in todo:
                attempts[i] += 1
                futures[ex.submit(_call, tasks[i].fn, tasks[i].args)] = i
            todo, broken = [], False
            for fut in as_completed(futures):
                i = futures[fut]
                try:
                    out[i] = (True, fut.result())
                except Exception as exc:  # noqa: BLE001 - retried, then reported by name
                    broken = broken or isinstance(exc, BrokenProcessPool)
                    out[i] = (False, exc)
                    if attempts[i] <= self.retries:
                        todo.append(i)
                        continue
                if bar is not None:
                    bar.update()
            if broken:
                self.restart()
            todo.sort(key=lambda i: -tasks[i].cost)
        return out


#: Local worker pools by size, started on first use and kept for the process's life, so a
#: forecast, a staffing plan and its verification share workers that start once.
_POOLS: dict[int, ProcessPoolExecutor] = {}


@dataclass
class LocalEngine(Engine):
    """``workers`` processes on this machine, one native thread each (1: run here)."""

    name: str = field(default="local", init=False)

    def executor(self) -> Executor | None:
        if self.workers <= 1:
            return None
        if self.workers not in _POOLS:
            _POOLS[self.workers] = ProcessPoolExecutor(
                max_workers=self.workers, initializer=init_engine_worker
            )
        return _POOLS[self.workers]

    def restart(self) -> None:
        pool = _POOLS.pop(self.workers, None)
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


@dataclass
class DaskEngine(Engine):
    """Tasks on a Dask cluster: an existing scheduler at ``scheduler``, or a local cluster
    of ``workers`` single-threaded processes on loopback when ``scheduler`` is ``None``.

    Attributes
    ----------
    scheduler : str or None
        Scheduler address (``tcp://host:8786``), or a ``distributed.Client`` to use as it is.
    """

    scheduler: Any = None
    name: str = field(default="dask", init=False)
    _client: Any = field(default=None, init=False, repr=False)
    _cluster: Any = field(default=None, init=False, repr=False)
    _executor: Any = field(default=None, init=False, repr=False)

    def client(self) -> Any:
        """The ``distributed.Client`` (connected on first use)."""
        if self._client is not None:
            return self._client
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise EngineError(
                "the dask engine needs dask.distributed: pip install 'mashdemand[dask]'"
            ) from exc
        if self.scheduler is not None and not isinstance(self.scheduler, str):
            self._client = self.scheduler
        elif self.scheduler:
            try:
                self._client = Client(self.scheduler, timeout="20s")
            except (OSError, TimeoutError) as exc:
                raise EngineError(
                    f"scheduler {self.scheduler}: cannot connect ({_short(exc)})"
                ) from exc
        else:
            import dask

            # Without the workers' statistical profiler: it samples the running task's stack
            # every 10 ms, and tasks ran 24% slower with it (measured: docs/scaling.md).
            with dask.config.set({"distributed.worker.profile.enabled": False}):
                self._cluster = LocalCluster(
                    n_workers=max(1, self.workers),
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    silence_logs=logging.CRITICAL,  # a failed task is reported by name, once
                )
            self._client = Client(self._cluster)
        # Every worker limits native threads as the local workers do.
        self._client.run(init_engine_worker)
        return self._client

    def parallelism(self) -> int:
        """Workers of the cluster (at least 2, so that even one remote worker is used)."""
        n = len(self.client().scheduler_info().get("workers", {}))
        return max(2, n)

    def executor(self) -> Executor | None:
        if self._executor is None:
            self._executor = self.client().get_executor(pure=False)
        return self._executor

    def share(self, value: Any) -> Any:
        # On every worker: a shared input feeds tasks that should spread over all of them
        # (scattered to one worker, the scheduler keeps short tasks beside their data).
        return self.client().scatter(value, hash=False, broadcast=True)

    def close(self) -> None:
        if self._client is not None and self._cluster is not None:
            self._client.close()
            self._cluster.close()
        elif self._client is not None and isinstance(self.scheduler, str):
            self._client.close()
        self._client = self._cluster = self._executor = None


_CURRENT: ContextVar[Engine | None] = ContextVar("mashdemand_engine", default=None)


def make_engine(kind: str = "local", n_jobs: int = 2, scheduler: Any = None) -> Engine:
    """An engine by name (``--engine``).

    Parameters
    ----------
    kind : str
        ``local`` (worker processes here) or ``dask``.
    n_jobs : int
        Local worker processes; for ``dask`` without ``scheduler``, workers of the local
        cluster started.
    scheduler : str or distributed.Client, optional
        ``dask`` only: the address of an existing scheduler, or a client.

    Raises
    ------
    EngineError
        An unknown engine, or a scheduler given to the local engine.

    Examples
    --------
    >>> make_engine("local", n_jobs=1).workers
    1
    >>> make_engine("spark")
    Traceback (most recent call last):
    ...
    mashdemand.engine.EngineError: engine 'spark': choose one of local, dask
    """
    if kind not in ENGINES:
        raise EngineError(f"engine {kind!r}: choose one of {', '.join(ENGINES)}")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise EngineError(f"n_jobs {n_jobs!r}: give a whole number of workers, 1 or more")
    if kind == "local":
        if scheduler is not None:
            raise EngineError("a scheduler address needs the dask engine (--engine dask)")
        return LocalEngine(workers=n_jobs)
    return DaskEngine(workers=n_jobs, scheduler=scheduler)


@contextmanager
def use_engine(
    engine: Engine | str = "local", n_jobs: int = 2, scheduler: Any = None
) -> Iterator[Engine]:
    """Run every stage inside the block on ``engine`` (an :class:`Engine` or a name for
    :func:`make_engine`); an engine made here is closed on exit."""
    made = not isinstance(engine, Engine)
    eng = make_engine(engine, n_jobs, scheduler) if made else engine  # type: ignore[arg-type]
    token = _CURRENT.set(eng)
    try:
        yield eng
    finally:
        _CURRENT.reset(token)
        if made:
            eng.close()


def current_engine(n_jobs: int = 1) -> Engine:
    """The engine of the enclosing :func:`use_engine`, else local with ``n_jobs`` workers
    (``-1``: one per CPU, ``-2``: all but one, as joblib counts)."""
    eng = _CURRENT.get()
    if eng is not None:
        return eng
    n = int(n_jobs)
    return LocalEngine(workers=max(1, n if n > 0 else cpu_count() + 1 + n))


def cpu_count() -> int:
    """CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1
