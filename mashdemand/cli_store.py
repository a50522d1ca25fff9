"""``mashdemand store``: look after the store (its hubs, removing a stray hub, the audit trail).

A thin Typer sub-app over :class:`~mashdemand.store.Store` methods (:meth:`~Store.hub_overview`,
:meth:`~Store.remove_hub`, :meth:`~Store.audit_log`), registered by :mod:`mashdemand.cli`.
Removing a hub is never silent: without ``--yes`` it only says what it would remove; with it,
the contacts move to quarantine (reason ``hub_removed``) and the removal is recorded in the
``audit`` table.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mashdemand.store import DEFAULT_STORE, HUB_REMOVED

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["format_audit", "format_hubs", "store_app"]

store_app = typer.Typer(
    help="Look after the store: its hubs, removing a stray hub, the audit trail.",
    no_args_is_help=True,
    add_completion=False,
)

StorePathOpt = Annotated[Path, typer.Option(help="The DuckDB store.")]


def _existing(store: Path) -> Path:
    """``store``, or a one-line error when there is no such file (never create one here)."""
    from mashdemand.store import StoreError

    if not store.exists():
        raise StoreError(f"{store}: store not found")
    return store


@store_app.command("hubs")
def hubs(store: StorePathOpt = DEFAULT_STORE) -> None:
    """Each hub in the store: contacts, first and last day received, rows quarantined."""
    from mashdemand.cli import _user_errors
    from mashdemand.store import Store

    with _user_errors(), Store(_existing(store), read_only=True) as st:
        typer.echo(format_hubs(st.hub_overview()))


@store_app.command("remove-hub")
def remove_hub(
    hub: Annotated[
        str, typer.Argument(help="The hub slug as stored (see `mashdemand store hubs`).")
    ],
    reason: Annotated[str, typer.Option(help="Why, recorded in the audit table (required).")],
    store: StorePathOpt = DEFAULT_STORE,
    yes: Annotated[
        bool, typer.Option("--yes", help="Remove; without it, only say what would be removed.")
    ] = False,
) -> None:
    """Remove every contact of a hub, e.g. a mistyped one, in one transaction.

    The contacts are kept in quarantine with reason hub_removed (so no row is lost without a
    recorded reason) and the removal is recorded in the audit table with --reason. Without
    --yes nothing changes: the command prints what it would remove and exits 0.
    """
    from mashdemand.cli import _user_errors
    from mashdemand.store import Store, StoreError

    with _user_errors():
        if not reason.strip():
            raise StoreError("--reason: say why the hub is removed (recorded in the audit table)")
        if not yes:
            with Store(_existing(store), read_only=True) as st:
                row = _hub_row(st.hub_overview(), hub, store)
            typer.echo(
                f"would remove {row['contacts']:,} contacts of hub {hub} from {store} (received "
                f"{row['first_received']:%d/%m/%Y} to {row['last_received']:%d/%m/%Y}); nothing "
                "changed: run again with --yes to remove them"
            )
            return
        with Store(_existing(store)) as st:
            row = _hub_row(st.hub_overview(), hub, store)
            n = st.remove_hub(hub, reason)
    typer.echo(
        f"removed {n:,} contacts of hub {hub} from {store} (received "
        f"{row['first_received']:%d/%m/%Y} to {row['last_received']:%d/%m/%Y}); kept in "
        f"quarantine as {HUB_REMOVED}; recorded in the audit table (reason: {reason.strip()})"
    )


@store_app.command("audit")
def audit(store: StorePathOpt = DEFAULT_STORE) -> None:
    """The audit table: housekeeping done to the store (when, what, hub, rows, reason)."""
    from mashdemand.cli import _user_errors
    from mashdemand.store import Store

    with _user_errors(), Store(_existing(store), read_only=True) as st:
        typer.echo(format_audit(st.audit_log(), store))


def _hub_row(overview: pd.DataFrame, hub: str, store: Path) -> dict:
    """The hub's row of :meth:`Store.hub_overview`; a one-line error naming the hubs if absent."""
    from mashdemand.store import StoreError

    match = overview[overview["hub"] == hub]
    if match.empty:
        known = ", ".join(overview["hub"]) or "none"
        raise StoreError(f"{store}: no hub {hub!r} in the store (hubs: {known})")
    return match.iloc[0].to_dict()


def format_hubs(overview: pd.DataFrame) -> str:
    """:meth:`Store.hub_overview` as aligned text, dates day-first."""
    if overview.empty:
        return "no contacts in the store"
    from mashdemand.hubs import display_name

    lines = [
        f"{'hub (slug)':<24} {'name':<24} {'contacts':>10}  {'first':>10}  {'last':>10}  "
        f"{'quarantined':>11}"
    ]
    for r in overview.itertuples():
        lines.append(
            f"{r.hub:<24} {display_name(r.hub):<24} {r.contacts:>10,}  "
            f"{r.first_received:%d/%m/%Y}  {r.last_received:%d/%m/%Y}  {r.quarantined:>11,}"
        )
    return "\n".join(lines)


def format_audit(log: pd.DataFrame, store: Path) -> str:
    """:meth:`Store.audit_log` as aligned text, times day-first (UTC)."""
    if log.empty:
        return f"no housekeeping recorded in {store}"
    lines = [f"{'when (UTC)':<16}  {'action':<12} {'hub':<20} {'rows':>8}  version  reason"]
    for r in log.itertuples():
        lines.append(
            f"{r.created_at:%d/%m/%Y %H:%M}  {r.action:<12} {r.hub or '':<20} "
            f"{r.rows_affected:>8,}  {r.package_version:<7}  {r.reason}"
        )
    return "\n".join(lines)
