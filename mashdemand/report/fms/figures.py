"""The FMS appendix's charts: the projection by financial year and the workforce required."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["appendix_figures", "workforce_figure"]


def appendix_figures(
    projection: pd.DataFrame, history: pd.DataFrame, workforce: pd.DataFrame
) -> dict[str, Any]:
    """The charts by name: ``projection`` (the principal financial-year forecast frame against
    the daily ``history`` of ``hub, date, contacts``) and ``fte`` (:func:`workforce_figure`)."""
    from mashdemand.forecast.plots import plot_fy_projection

    return {
        "projection": plot_fy_projection(projection, history=history),
        "fte": workforce_figure(workforce),
    }


def workforce_figure(workforce: pd.DataFrame) -> Any:
    """FTE required against establishment by financial year, as bars (a matplotlib figure),
    from :func:`mashdemand.report.fms.tables.workforce_table`."""
    import matplotlib.pyplot as plt

    from mashdemand.style import PALETTE, house_style

    with house_style():
        fig, ax = plt.subplots(figsize=(8, 3.4))
        x = np.arange(len(workforce))
        ax.bar(
            x - 0.2, workforce["fte_required"], width=0.4, color=PALETTE[0], label="FTE required"
        )
        if workforce["establishment_fte"].notna().any():
            ax.bar(
                x + 0.2,
                workforce["establishment_fte"],
                width=0.4,
                color=PALETTE[3],
                hatch="//",
                label="establishment",
            )
        ax.set_xticks(x, workforce["financial_year"])
        ax.set_xlabel("financial year (April to March)")
        ax.set_ylabel("FTE")
        ax.set_title("Workforce required against establishment")
        ax.legend(loc="upper left")
        fig.tight_layout()
    return fig
