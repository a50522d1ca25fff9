"""Staffing configuration: shipped defaults, overrides and one-line errors naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from mashdemand.staffing import StaffingError, load_config
from mashdemand.staffing.config import Role, parse_hours


def test_defaults_load_with_sourced_values():
    cfg = load_config()
    assert list(cfg.options) == ["today", "extended_0818", "long_day_0719", "seven_day"]
    assert cfg.baseline == "today"
    today = cfg.options["today"]
    assert today.hours["mon"] == (480, 960) and today.hours["fri"] == (480, 930)
    assert today.priorities["sat"] == ("urgent", "high")
    assert today.full_service("mon") and not today.full_service("sun")
    assert today.open_hours_per_week() == pytest.approx(4 * 8 + 7.5 + 2 * 4)
    assert cfg.deadlines["urgent"].unit == "working_hours" and cfg.deadlines["urgent"].amount == 4
    assert cfg.deadlines["high"].amount == 0 and cfg.deadlines["high"].cutoff_hours == 1.5
    assert cfg.working_time["bank_holiday"] is None and cfg.working_time["sat"] is None
    assert cfg.targets == {"urgent": 0.95, "high": 0.95, "medium": 0.95, "standard": 0.95}
    assert cfg.max_utilisation == 0.85
    assert sum(r.share for r in cfg.roles.values()) == pytest.approx(1.0)
    assert cfg.minutes_for("standard", "police") == 25 and cfg.minutes_for("urgent", "police") == 90


def test_productive_hours_match_practitioner_figures():
    cfg = load_config()
    police = cfg.roles["police"]
    # 40 h x 52.18 weeks = 2,087 h; less 41 days of 8 h; less 14.5% sickness and abstraction.
    assert police.productive_hours == pytest.approx((40 * 365.25 / 7 - 41 * 8) * 0.855)
    # DOMAIN.md: about 30% abstraction in policing, 70% productive time.
    assert 0.68 < police.productive_share < 0.75
    assert 0.70 < cfg.roles["social_care"].productive_share < 0.80
    fte = cfg.fte_by_role(10_000)
    assert sum(fte.values()) == pytest.approx(10_000 / cfg.hours_per_fte())
    assert fte["police"] == pytest.approx(10_000 * 0.35 / police.productive_hours)
    assert Role(1, 37, 27, 8, 5, 0.035, 0.05).productive_hours == pytest.approx(1495.6, abs=0.1)


def test_override_file_replaces_tables(tmp_path: Path):
    p = tmp_path / "s.toml"
    p.write_text(
        """
[targets]
max_utilisation = 0.8
[deadlines.high]
cutoff_hours = 2
[options.nine_to_five]
hours = { mon = "09:00-17:00", tue = "09:00-17:00" }
min_staff = 3
""",
        encoding="utf-8",
    )
    cfg = load_config(p)
    assert cfg.max_utilisation == 0.8
    assert cfg.targets["urgent"] == 0.95  # untouched keys keep their defaults
    assert cfg.deadlines["high"].cutoff_hours == 2 and cfg.deadlines["high"].amount == 0
    assert list(cfg.options) == ["nine_to_five"]  # [options] is replaced whole
    assert cfg.options["nine_to_five"].min_staff == 3
    assert cfg.options["nine_to_five"].hours["wed"] is None
    assert cfg.source == str(p)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[targets\nmax_utilisation = 1", "not valid TOML"),
        ("[targets]\nmax_utilization = 0.8", "unknown key(s) max_utilization"),
        ("[targets]\nmax_utilisation = 1.5", "targets.max_utilisation: 1.5 outside"),
        ('[deadlines.urgent]\nunit = "hours"', "deadlines.urgent.unit: 'hours'"),
        ('[options.x]\nhours = { mon = "16:00-08:00" }', "options.x.hours.mon"),
        ('[options.x]\nhours = { mon = "8am-4pm" }', "is not HH:MM-HH:MM"),
        ('[options.x]\nhours = { funday = "08:00-16:00" }', "unknown key(s) funday"),
        ('[options.x]\nhours = { sat = "08:00-12:00" }\npriorities = { sat = ["red"] }', "red"),
        ("[roles.police]\nshare = 0.5", "missing"),
        ("[work.minutes_by_source.martians]\nstandard = 5", "unknown source"),
    ],
)
def test_bad_config_is_a_value_error_naming_the_file(tmp_path: Path, text: str, fragment: str):
    p = tmp_path / "bad.toml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(StaffingError) as err:
        load_config(p)
    msg = str(err.value)
    assert isinstance(err.value, ValueError)
    assert str(p) in msg and fragment in msg and "\n" not in msg


def test_roles_must_share_all_the_work(tmp_path: Path):
    p = tmp_path / "roles.toml"
    p.write_text(
        "[roles.police]\nshare = 0.6\ncontracted_hours_per_week = 40\nannual_leave_days = 25\n"
        "bank_holiday_days = 8\ntraining_days = 8\nsickness_rate = 0.04\nother_abstraction = 0.1\n",
        encoding="utf-8",
    )
    with pytest.raises(StaffingError, match="shares add up to 0.6"):
        load_config(p)


def test_missing_file_and_unknown_option_names():
    with pytest.raises(StaffingError, match="nope.toml: cannot read"):
        load_config("nope.toml")
    with pytest.raises(StaffingError, match="unknown option.*sunday_only.*known: today"):
        load_config().with_options(["today", "sunday_only"])
    assert list(load_config().with_options(["seven_day", "today"]).options) == [
        "seven_day",
        "today",
    ]


def test_parse_hours():
    assert parse_hours("07:00-19:00") == (420, 1140)
    assert parse_hours("00:00-24:00") == (0, 1440)
    assert parse_hours("closed") is None
    with pytest.raises(StaffingError):
        parse_hours("12:00-12:00")


def test_options_have_readers_names_from_their_hours_or_a_label(tmp_path: Path):
    """Reports name options by their hours, never by key (issue 12)."""
    cfg = load_config()
    labels = {name: o.label for name, o in cfg.options.items()}
    assert labels["long_day_0719"] == "07:00-19:00 weekdays; weekend cover 09:00-17:00"
    assert labels["seven_day"] == "08:00-16:00 seven days"
    assert labels["today"] == "08:00-16:00 Mon-Thu, 08:00-15:30 Fri; weekend cover 09:00-13:00"
    p = tmp_path / "s.toml"
    p.write_text(
        '[options.today]\nlabel = "Core hours"\n'
        'hours = { mon = "08:00-16:00", tue = "08:00-16:00" }\n',
        encoding="utf-8",
    )
    assert load_config(p).options["today"].label == "Core hours"
