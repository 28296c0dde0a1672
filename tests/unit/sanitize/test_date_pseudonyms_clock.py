"""A birth date's pseudonym is the value's and the key's alone: sanitized on another
day, the same date gets the same fake. A date near today once depended on the clock
(kept "not in the future" against today, a two-digit year's century and an invented
date counted back from today), so a stub changed with the day: dedup saw a new
response, drift alerts fired, mocks churned.

The clock is moved by handing fake_dates a ``datetime`` whose today is another day:
whatever the module would read from it, the pseudonyms must not change.
"""

from __future__ import annotations

import ast
import datetime
import importlib
import inspect
import types
from datetime import UTC, date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize import fake_dates
from ext_proc_server.sanitize.pseudonym import Replacer
from ext_proc_server.sanitize.run import is_token
from tests.unit.sanitize.sanitize_helpers import sanitized_note, sanitizer

REPLACER = Replacer(key=b"k" * 32)
PT_MONTHS = ("janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto",
             "setembro", "outubro", "novembro", "dezembro")  # fmt: skip
TODAY = datetime.datetime.now(UTC).date()
# Days the clock is moved by: tomorrow, a year on, two years back (another century
# pivot for a two-digit year), and well past a recent birth's 400-day window.
CLOCK_DAYS = (1, 365, -800, 900)


def clock_moved_by(days: int) -> types.SimpleNamespace:
    """A stand-in for the ``datetime`` module whose now and today are ``days`` away."""

    class MovedDate(datetime.date):
        @classmethod
        def today(cls) -> datetime.date:
            return datetime.date.today() + timedelta(days=days)

    class MovedDateTime(datetime.datetime):
        @classmethod
        def now(cls, tz: datetime.tzinfo | None = None) -> datetime.datetime:
            return datetime.datetime.now(tz) + timedelta(days=days)

        @classmethod
        def utcnow(cls) -> datetime.datetime:
            return datetime.datetime.now(UTC).replace(tzinfo=None) + timedelta(days=days)

    return types.SimpleNamespace(
        date=MovedDate,
        datetime=MovedDateTime,
        timedelta=datetime.timedelta,
        timezone=datetime.timezone,
        UTC=UTC,
    )


def recent_births() -> list[str]:
    """Dates of the last months, in each layout the replacer reads."""
    values = []
    for days_ago in range(0, 420, 7):
        born = TODAY - timedelta(days=days_ago)
        values += [
            born.isoformat(),
            born.strftime("%d/%m/%Y"),
            born.strftime("%Y%m%d"),
            f"{born.day} de {PT_MONTHS[born.month - 1]} de {born.year}",
            born.strftime("%B ") + f"{born.day}, {born.year}",
        ]
    return values


# A value that is no date gets an invented one; a two-digit year's century is read.
OTHER_VALUES = ["31/02/1985", "1985-02-30", "31 de fevereiro de 1985", "05/06/26", "14/03/25"]


@pytest.mark.parametrize("days", CLOCK_DAYS)
def test_a_recent_birth_dates_pseudonym_is_the_same_on_another_day(
    monkeypatch: pytest.MonkeyPatch, days: int
) -> None:
    values = recent_births() + OTHER_VALUES
    today = [REPLACER("birth_date", value) for value in values]
    monkeypatch.setattr(fake_dates, "datetime", clock_moved_by(days))
    other_day = [REPLACER("birth_date", value) for value in values]
    changed = [(v, a, b) for v, a, b in zip(values, today, other_day, strict=True) if a != b]
    assert changed == []


@pytest.mark.parametrize("days", CLOCK_DAYS)
def test_a_birth_date_in_text_reads_the_same_on_another_day(
    monkeypatch: pytest.MonkeyPatch, days: int
) -> None:
    pseudonyms = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-clock")
    born = TODAY - timedelta(days=20)
    text = f"Paciente nascida em {born.strftime('%d/%m/%Y')}, retorno em 30 dias"
    before = sanitized_note(pseudonyms, text)
    monkeypatch.setattr(fake_dates, "datetime", clock_moved_by(days))
    assert sanitized_note(pseudonyms, text) == before
    assert born.strftime("%d/%m/%Y") not in before


CLOCK_READS = frozenset({"now", "today", "utcnow", "time", "time_ns", "monotonic", "localtime"})


@pytest.mark.parametrize("name", ["fake_dates", "month_names"])
def test_the_date_pseudonym_modules_read_no_clock(name: str) -> None:
    module = importlib.import_module(f"ext_proc_server.sanitize.{name}")
    tree = ast.parse(inspect.getsource(module))
    reads = sorted(
        {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)} & CLOCK_READS
    )
    imports = sorted(
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
        if alias.name in {"time", *CLOCK_READS}
    )
    assert (reads, imports) == ([], [])


@settings(max_examples=300, deadline=None)
@given(
    born=st.dates(min_value=TODAY - timedelta(days=3 * 365), max_value=TODAY),
    layout=st.sampled_from(["%Y-%m-%d", "%d/%m/%Y", "%Y%m%d", "%d.%m.%Y"]),
)
def test_a_recent_birth_dates_pseudonym_is_never_in_the_future(born: date, layout: str) -> None:
    value = born.strftime(layout)
    fake = REPLACER("birth_date", value)
    assert not is_token(fake)
    faked = datetime.datetime.strptime(fake, layout).date()
    assert faked <= TODAY, (value, fake)
    assert 30 <= abs((faked - born).days) <= 400, (value, fake)
