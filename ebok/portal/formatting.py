"""Polish formatting of money, numbers, dates and bank accounts.

Written out rather than left to Django's localisation: residents expect
``1 234,56 zł`` and ``24.11.2026`` whatever language the page is in, and
``USE_THOUSAND_SEPARATOR`` would also change every other number on the site.
"""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import timezone

NBSP = "\u00a0"
CENT = Decimal("0.01")


def _to_decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None


def _group_thousands(digits: str, separator: str = NBSP) -> str:
    head = len(digits) % 3 or 3
    groups = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return separator.join(groups)


def format_number(value, *, places: int | None = 2, min_places: int = 0, group=True) -> str:
    """``1234.5`` → ``1 234,50``. ``places=None`` keeps the value's own
    decimals, trimmed of trailing zeros down to ``min_places``."""
    number = _to_decimal(value)
    if number is None:
        return ""
    if places is not None:
        number = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "-" if number < 0 else ""
    text = f"{abs(number):f}"
    whole, _, fraction = text.partition(".")
    if places is None:
        fraction = fraction.rstrip("0")
        fraction = fraction.ljust(min_places, "0")
    if group:
        whole = _group_thousands(whole)
    return f"{sign}{whole},{fraction}" if fraction else f"{sign}{whole}"


def format_money(value) -> str:
    """``Decimal("1234.56")`` → ``1 234,56 zł`` (non-breaking spaces)."""
    text = format_number(value, places=2)
    return f"{text}{NBSP}zł" if text else ""


def format_plain_amount(value) -> str:
    """For spreadsheets: decimal comma, no grouping (``1234,56``)."""
    return format_number(value, places=2, group=False)


def format_date(value) -> str:
    if not value:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{value.day:02d}.{value.month:02d}.{value.year:04d}"


def format_datetime(value: datetime | None) -> str:
    if not value:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{format_date(local)} {local.hour:02d}:{local.minute:02d}"


def format_month(value: date) -> str:
    """``date(2026, 3, 31)`` → ``03.2026``."""
    return f"{value.month:02d}.{value.year:04d}"


def format_nrb(value: str) -> str:
    """A 26-digit NRB in the customary groups: ``12 3456 7890 1234 5678 9012 3456``."""
    digits = "".join(ch for ch in value or "" if ch.isdigit())
    if len(digits) != 26:
        return value or ""
    return " ".join([digits[:2]] + [digits[i : i + 4] for i in range(2, 26, 4)])
