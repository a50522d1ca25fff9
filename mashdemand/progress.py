"""Progress bars: one argument name, ``progress``, across the package.

Functions that once took ``show_progress`` still accept it for a while, with a
``DeprecationWarning``; :func:`progress_argument` resolves the two.
"""

from __future__ import annotations

import warnings

__all__ = ["progress_argument"]


def progress_argument(progress: bool, show_progress: bool | None, where: str) -> bool:
    """``progress``, or the deprecated ``show_progress`` of function ``where`` when given.

    >>> progress_argument(False, None, "f")
    False
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     progress_argument(False, True, "f"), w[0].category.__name__
    (True, 'DeprecationWarning')
    """
    if show_progress is None:
        return bool(progress)
    warnings.warn(
        f"{where}(show_progress=...) is deprecated; use progress=...",
        DeprecationWarning,
        stacklevel=3,
    )
    return bool(progress or show_progress)
