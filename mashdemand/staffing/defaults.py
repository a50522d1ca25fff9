"""The staffing stage's code defaults, defined once.

Domain values (deadlines, targets, minutes per contact, replications, warm-up days, ...) are
in ``mashdemand/defaults/staffing.toml`` and reach the code only through
:class:`~mashdemand.staffing.config.StaffingConfig`. The few defaults of the calls themselves
are here, read by :func:`~mashdemand.staffing.plan.plan_staffing`, :class:`StaffingPlan
<mashdemand.staffing.plan.StaffingPlan>` and ``mashdemand staffing``. This module imports
nothing, so the command line can read it without loading pandas.
"""

from __future__ import annotations

__all__ = ["N_JOBS", "QUANTILE", "SEED"]

#: Planning quantile of the forecast when none is given (P80): each day is planned at
#: ``yhat + z(0.8) x (hi80 - yhat) / z(0.9)``.
QUANTILE: float = 0.8

#: Seed of a plan's random replications (:meth:`StaffingPlan.verify
#: <mashdemand.staffing.plan.StaffingPlan.verify>` derives its stream from it).
SEED: int = 0

#: Worker processes for planning, verification and RPA scenarios when none are given.
N_JOBS: int = 1
