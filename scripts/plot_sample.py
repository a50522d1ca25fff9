"""Plot the sample force: monthly totals by hub and source, day of week, hour of day.

Usage::

    python scripts/plot_sample.py [--end 2026-09-30] [--out reports/figures/sample_force.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from mashdemand.plots import plot_sample_force  # noqa: E402
from mashdemand.sample import DEFAULT_SEED, generate_contacts  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--end", default=None, help="last day (default: last complete quarter)")
    parser.add_argument("--out", type=Path, default=REPO / "reports/figures/sample_force.png")
    args = parser.parse_args()
    contacts = generate_contacts(args.seed, end=args.end, progress=True)
    fig = plot_sample_force(contacts)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out} ({len(contacts):,} contacts)")


if __name__ == "__main__":
    main()
