"""The Thames Valley hubs used by the sample force: slug, local authority name and ONS codes.

One MASH per local authority (DOMAIN.md). Codes are ONS GSS codes (April 2023 geography);
Buckinghamshire became a unitary authority in April 2020 (E06000060, formerly county E10000002
with districts E07000004-E07000007), and Oxfordshire is a county council whose population is
the sum of its five districts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Hub:
    """One MASH: its slug (as in the contact log), its authority's name and ONS codes."""

    slug: str
    name: str
    code: str
    former_codes: tuple[str, ...] = ()
    district_codes: tuple[str, ...] = ()


TVP_HUBS: tuple[Hub, ...] = (
    Hub("bracknell-forest", "Bracknell Forest", "E06000036"),
    Hub("reading", "Reading", "E06000038"),
    Hub("slough", "Slough", "E06000039"),
    Hub("west-berkshire", "West Berkshire", "E06000037"),
    Hub("windsor-and-maidenhead", "Windsor and Maidenhead", "E06000040"),
    Hub("wokingham", "Wokingham", "E06000041"),
    Hub(
        "buckinghamshire",
        "Buckinghamshire",
        "E06000060",
        former_codes=("E10000002",),
        district_codes=("E07000004", "E07000005", "E07000006", "E07000007"),
    ),
    Hub("milton-keynes", "Milton Keynes", "E06000042"),
    Hub(
        "oxfordshire",
        "Oxfordshire",
        "E10000025",
        district_codes=("E07000177", "E07000178", "E07000179", "E07000180", "E07000181"),
    ),
)

HUB_SLUGS: tuple[str, ...] = tuple(h.slug for h in TVP_HUBS)
