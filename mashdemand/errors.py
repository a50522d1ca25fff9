"""The one base of every mashdemand exception.

Each stage raises its own error (``IngestError``, ``SchemaError``, ``ForecastError``, ...), all
derived from :class:`MashdemandError`, so a notebook or a script can catch everything the
package raises on purpose with one ``except``::

    import mashdemand as md
    try:
        result = md.forecast(daily, until="2026-12-31", freq="month")
    except md.MashdemandError as exc:
        print(exc)  # one line naming the file, row, column or argument and what is wrong

Stage errors keep their other bases (``SchemaError`` is still a ``ValueError``), so existing
``except ValueError`` code keeps working. This module imports nothing from the package, so any
stage can import it without pulling in another.
"""

from __future__ import annotations

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILED", "MashdemandError"]

#: Exit code of the command line for bad input (a file, row, column or argument).
EXIT_BAD_INPUT = 2
#: Exit code of the command line when the work could not be done for another reason.
EXIT_FAILED = 1


class MashdemandError(Exception):
    """Base of every error the package raises on purpose; the message is one line.

    Attributes
    ----------
    exit_code : int
        Exit status the command line gives for this error: :data:`EXIT_BAD_INPUT` (2) unless a
        subclass says otherwise (``RenderError`` 1; ``Interrupted`` 128 + signal number).

    Examples
    --------
    >>> class DemoError(MashdemandError, ValueError):
    ...     '''A bad argument.'''
    >>> err = DemoError("freq 'fortnight': choose one of day, week")
    >>> isinstance(err, ValueError), err.exit_code
    (True, 2)
    """

    exit_code: int = EXIT_BAD_INPUT
