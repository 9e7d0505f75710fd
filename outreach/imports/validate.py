"""Turning one spreadsheet cell into one clean value, or a reason it can't be.

Each function takes a cell as the reader gives it (text from a CSV; text,
number, bool or datetime from an XLSX) and raises RowError with a sentence a
person can act on. Blank cells are the caller's business: these functions are
only called with something in the cell.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from links.verification.urls import (
    InvalidURL,
    host_of,
    normalize_url,
    normalize_with_key,
    registrable_domain,
)
from outreach.imports.reader import Cell

MAX_URL_LENGTH = 2000
# A URL cell is refused unread past this: the stored URL is at most 2,000
# characters, and a cell can only be longer by what normalizing drops or
# shrinks (a fragment, dot segments); 8 KB is also the longest request line
# common servers accept (Apache's LimitRequestLine is 8,190).
MAX_URL_CELL = 8 * 1024
# The longest date or date-time written in any format read here is under 40
# characters ("September 30, 2025", "2025-09-30T12:00:00.000000+00:00").
MAX_DATE_CELL = 64
# A name a browser would resolve on the internet: dot-separated labels of
# letters, digits and inner hyphens, ending in an alphabetic (or IDNA) TLD.
# normalize_url has already lower-cased the host and turned IDN into ASCII.
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$"
)
_TRUE = {"true", "yes", "y", "1", "x", "✓", "on"}
_FALSE = {"false", "no", "n", "0", "off", "-"}
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y")
_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")


class RowError(Exception):
    """One problem with one cell: the field it is about and why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


class RowErrors(Exception):
    """Every problem found in one row, so a person fixes them all at once."""

    def __init__(self, errors: Iterable[RowError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(e.reason for e in self.errors))


def text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def limited_text(value: Cell, *, field: str, max_length: int) -> str:
    result = text(value)
    if len(result) > max_length:
        raise RowError(field, f"is {len(result)} characters long; at most {max_length} fit")
    return result


def web_url(value: Cell, *, field: str, bare_domain: bool = False) -> str:
    """The normalized http(s) URL in the cell; with ``bare_domain``, a domain
    without a scheme ("example.com") means its https home page."""
    return _web_url_and_host(value, field=field, bare_domain=bare_domain)[0]


def web_url_and_domain(value: Cell, *, field: str, bare_domain: bool = False) -> tuple[str, str]:
    """``web_url`` and the site it belongs to (its registrable domain, as
    ``domain_of`` gives it), the host parsed once."""
    url, host = _web_url_and_host(value, field=field, bare_domain=bare_domain)
    return url, registrable_domain(host)


def web_url_domain_and_key(
    value: Cell, *, field: str, bare_domain: bool = False
) -> tuple[str, str, str]:
    """``web_url_and_domain`` and the URL's ``url_key``, the URL parsed once."""
    raw = _url_text(value, field=field, bare_domain=bare_domain)
    try:
        url, host, key = normalize_with_key(raw)
    except InvalidURL as exc:
        raise RowError(field, f"{_short(raw)}: {exc}") from exc
    _check_host_and_length(raw, url, host, field=field)
    return url, registrable_domain(host), key


def _url_text(value: Cell, *, field: str, bare_domain: bool) -> str:
    raw = text(value)
    if len(raw) > MAX_URL_CELL:
        raise RowError(field, f"the URL is longer than {MAX_URL_LENGTH} characters")
    if bare_domain and "://" not in raw:
        raw = "https://" + raw.removeprefix("//")
    if "://" not in raw:
        raise RowError(field, f"{_short(raw)} is not a full URL: it must start with https://")
    return raw


def _check_host_and_length(raw: str, url: str, host: str, *, field: str) -> None:
    if not _HOSTNAME.match(host):
        raise RowError(field, f"{_short(raw)}: {host!r} is not a domain name")
    if len(url) > MAX_URL_LENGTH:
        raise RowError(field, f"the URL is longer than {MAX_URL_LENGTH} characters")


def _web_url_and_host(value: Cell, *, field: str, bare_domain: bool) -> tuple[str, str]:
    raw = _url_text(value, field=field, bare_domain=bare_domain)
    try:
        url = normalize_url(raw)
        host = host_of(url)
    except InvalidURL as exc:
        raise RowError(field, f"{_short(raw)}: {exc}") from exc
    _check_host_and_length(raw, url, host, field=field)
    return url, host


def email(value: Cell, *, field: str) -> str:
    address = text(value)
    if address.lower().startswith("mailto:"):
        address = address[7:]
    try:
        validate_email(address)
    except ValidationError as exc:
        raise RowError(field, f"{_short(address)} is not a valid email address") from exc
    if len(address) > 254:
        raise RowError(field, "the email address is longer than 254 characters")
    return address


def integer(value: Cell, *, field: str, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise RowError(field, f"must be a whole number from {low} to {high}, not {value}")
    number: float
    if isinstance(value, int | float):
        number = value
    else:
        raw = text(value)
        try:
            number = float(raw)
        except ValueError as exc:
            raise RowError(
                field, f"{_short(raw)} is not a whole number from {low} to {high}"
            ) from exc
    if number != number or not float(number).is_integer():  # NaN or a fraction
        raise RowError(field, f"{value} is not a whole number from {low} to {high}")
    if not low <= number <= high:
        raise RowError(field, f"{int(number)} is out of range: it must be from {low} to {high}")
    return int(number)


def boolean(value: Cell, *, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    raw = text(value).lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise RowError(field, f"{_short(raw)} is not yes/no (true/false, 1/0)")


def a_date(value: Cell, *, field: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = text(value)
    if len(raw) > MAX_DATE_CELL:
        raise RowError(field, f"{_short(raw)} is not a date: write it as YYYY-MM-DD")
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            pass
    moment = _parse_datetime(raw)
    if moment is not None:
        return moment.date()
    raise RowError(field, f"{_short(raw)} is not a date: write it as YYYY-MM-DD")


def a_datetime(value: Cell, *, field: str, date_only_at: time) -> datetime:
    """An aware datetime. A bare date means ``date_only_at`` on that day, in the
    project's time zone; a naive time also means the project's time zone."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, date_only_at)
    else:
        raw = text(value)
        if len(raw) > MAX_DATE_CELL:
            raise RowError(field, f"{_short(raw)} is not a date: write it as YYYY-MM-DD")
        parsed = _parse_datetime(raw)
        if parsed is None:
            moment = datetime.combine(a_date(raw, field=field), date_only_at)
        else:
            moment = parsed
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _parse_datetime(raw: str) -> datetime | None:
    candidate = raw.replace("Z", "+00:00") if raw.endswith("Z") else raw
    if "T" in candidate or "+" in candidate[10:]:
        try:
            return datetime.fromisoformat(candidate)
        except ValueError:
            return None
    for fmt in _DATETIME_FORMATS:
        try:
            return datetime.strptime(raw, fmt)
        except ValueError:
            pass
    return None


def _short(raw: str, limit: int = 60) -> str:
    shown = raw if len(raw) <= limit else raw[: limit - 1] + "…"
    return repr(shown)
