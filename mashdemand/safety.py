"""Safe output paths and private files: the store and reports hold safeguarding data.

Two promises, kept in one place so every command keeps them the same way:

* **An output never overwrites the store or an input.** :func:`check_outputs` compares each
  output path with the store (and its ``.wal``) and with every input file, by resolved path and,
  when both exist, by device and inode (so a symlink or hard link is caught too), and refuses
  with one line naming the option and the path.
* **A signal stops a write cleanly.** :func:`stop_on_signals` turns SIGINT and SIGTERM into
  :class:`Interrupted`, raised after the transaction has been rolled back, so that Ctrl-C or a
  ``kill`` never leaves half a run in the store (and never lets it commit).
* **What we write is private.** Files are created ``0600`` and folders ``0700`` whatever the
  user's umask: :func:`private_umask` for a block of code (the CLI sets the same umask for the
  whole process), :func:`make_private` for a file or folder that already exists.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import FrameType

from mashdemand.errors import MashdemandError

PRIVATE_UMASK = 0o077
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700

__all__ = [
    "PRIVATE_UMASK",
    "Interrupted",
    "SignalGuard",
    "UnsafePathError",
    "check_outputs",
    "make_private",
    "private_umask",
    "same_file",
    "stop_on_signals",
]


class UnsafePathError(MashdemandError, ValueError):
    """An output path would overwrite the store or an input (one-line message)."""


def _resolved(path: Path | str) -> Path:
    return Path(path).expanduser().resolve()


def same_file(a: Path | str, b: Path | str) -> bool:
    """True when ``a`` and ``b`` name the same file.

    Compared by resolved path, and by device and inode when both exist (a hard link or a
    path through a differently named mount is the same file too).

    Examples
    --------
    >>> same_file("reports/../x.csv", "x.csv")
    True
    """
    if _resolved(a) == _resolved(b):
        return True
    try:
        sa, sb = os.stat(a), os.stat(b)
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def _store_files(store: Path | str) -> list[Path]:
    """The store file and the side files DuckDB writes beside it."""
    p = Path(store)
    return [p, p.with_name(p.name + ".wal")]


def check_outputs(
    outputs: Iterable[Path | str | None],
    *,
    store: Path | str | None = None,
    inputs: Iterable[Path | str] = (),
    names: Iterable[str] | None = None,
) -> None:
    """Refuse output paths that are the store (or its WAL) or one of the inputs.

    Parameters
    ----------
    outputs : iterable of path or None
        Files a command is about to write; ``None`` entries (options not given) are skipped.
    store : path, optional
        The DuckDB store the command uses (``":memory:"`` is ignored).
    inputs : iterable of path
        Files the command reads.
    names : iterable of str, optional
        The option name for each output, for the message (default ``output``).

    Raises
    ------
    UnsafePathError
        ``"--summary-json s.duckdb is the store; choose another path"`` or
        ``"--out a.csv is an input file; choose another path"``.

    Examples
    --------
    >>> check_outputs(["summary.json", None], store="s.duckdb", inputs=["a.csv"])
    >>> check_outputs(["a.csv"], inputs=["a.csv"])
    Traceback (most recent call last):
    ...
    mashdemand.safety.UnsafePathError: output a.csv is an input file; choose another path
    """
    outs = list(outputs)
    labels = list(names) if names is not None else ["output"] * len(outs)
    labels += ["output"] * (len(outs) - len(labels))
    protected: list[tuple[Path, str]] = []
    if store is not None and str(store) != ":memory:":
        protected += [(p, "the store") for p in _store_files(store)]
    protected += [(Path(p), "an input file") for p in inputs]
    for out, label in zip(outs, labels, strict=True):
        if out is None:
            continue
        for path, what in protected:
            if same_file(out, path):
                raise UnsafePathError(f"{label} {out} is {what}; choose another path")


@contextlib.contextmanager
def private_umask(mask: int = PRIVATE_UMASK) -> Iterator[None]:
    """Create files ``0600`` and folders ``0700`` inside the block; restore the umask after.

    The umask is per process: this is for a command or a library call, not for threads
    that write files of their own at the same time.

    Examples
    --------
    >>> with private_umask():
    ...     pass
    """
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def make_private(path: Path | str) -> None:
    """Make an existing file ``0600`` or folder ``0700``, when the current user owns it.

    Missing paths and paths owned by someone else are left alone (no error): a shared folder
    such as ``/tmp`` must not be changed.
    """
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        return
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return
    mode = PRIVATE_DIR_MODE if stat.S_ISDIR(st.st_mode) else PRIVATE_FILE_MODE
    if stat.S_IMODE(st.st_mode) != mode:
        with contextlib.suppress(OSError):
            p.chmod(mode)


# -- signals ----------------------------------------------------------------------------------
STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)


class Interrupted(MashdemandError):
    """A stop signal arrived; the work was rolled back (or, if ``stored``, had just committed).

    ``exit_code`` follows the shell convention, 128 + signal number (130 for SIGINT, 143 for
    SIGTERM).
    """

    def __init__(self, signum: int, what: str = "nothing was stored, the store is as it was"):
        self.signum = int(signum)
        self.name = signal.Signals(signum).name
        self.exit_code = 128 + self.signum
        super().__init__(f"interrupted ({self.name}); {what}")


class SignalGuard:
    """What :func:`stop_on_signals` yields: the first stop signal received, if any.

    Attributes
    ----------
    signum : int or None
        The first SIGINT or SIGTERM received inside the block.
    on_signal : callable or None
        Called (with no arguments) when a signal arrives, e.g. ``store.interrupt`` to stop the
        running query; not called after :meth:`hold` (a COMMIT must finish, not half-stop).
    """

    def __init__(self, on_signal: Callable[[], None] | None = None) -> None:
        self.signum: int | None = None
        self.on_signal = on_signal
        self._held = False

    def handle(self, signum: int, frame: FrameType | None = None) -> None:
        if self.signum is None:
            self.signum = signum
        if self.on_signal is not None and not self._held:
            self.on_signal()

    def check(self) -> None:
        """Raise :class:`Interrupted` if a signal has arrived (call before committing)."""
        if self.signum is not None:
            raise Interrupted(self.signum)

    def hold(self) -> None:
        """From now on record signals without acting on them: a COMMIT must run to its end."""
        self._held = True


@contextlib.contextmanager
def stop_on_signals(on_signal: Callable[[], None] | None = None) -> Iterator[SignalGuard]:
    """Record SIGINT and SIGTERM for the duration of the block instead of dying or raising
    ``KeyboardInterrupt`` at an arbitrary point; the previous handlers are restored after.

    The handlers are installed even if the signal was ignored when the process started (a
    shell starts background jobs with SIGINT ignored, and a ``kill -INT`` must still stop an
    ingest). Outside the main thread (where Python cannot install handlers) the guard records
    nothing.

    Any error raised inside the block after a signal arrived (DuckDB's ``InterruptException``,
    ``KeyboardInterrupt`` from a library, ...) is replaced by :class:`Interrupted`, so callers
    roll back first and then see one kind of error.
    """
    guard = SignalGuard(on_signal)
    installed: dict[signal.Signals, object] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in STOP_SIGNALS:
            installed[sig] = signal.signal(sig, guard.handle)
    try:
        yield guard
    except Interrupted:
        raise
    except BaseException as exc:
        # pyarrow's CSV reader installs its own SIGINT handler while it reads and raises
        # KeyboardInterrupt itself, so our handler never sees that signal.
        if guard.signum is None and isinstance(exc, KeyboardInterrupt):
            guard.signum = signal.SIGINT
        if guard.signum is not None:
            raise Interrupted(guard.signum) from None
        raise
    finally:
        for sig, previous in installed.items():
            signal.signal(sig, previous)  # type: ignore[arg-type]
