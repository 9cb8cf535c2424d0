"""Template filters for Polish money, numbers, dates and bank accounts."""

import re

from django import template

from ebok.portal import formatting, labels

register = template.Library()

UNITS = {"m2": "m²", "m3": "m³"}
HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
DEFAULT_ACCENT = "#0b5cad"


@register.filter
def pl_money(value):
    """``{{ amount|pl_money }}`` → ``1 234,56 zł``."""
    return formatting.format_money(value)


@register.filter
def pl_number(value, min_places=0):
    """A quantity with its own precision: ``48.5000`` → ``48,5``; ``|pl_number:2`` → ``48,50``."""
    return formatting.format_number(value, places=None, min_places=int(min_places))


@register.filter
def pl_date(value):
    """``24.11.2026``."""
    return formatting.format_date(value)


@register.filter
def pl_datetime(value):
    """``24.11.2026 14:05`` in the cooperative's time zone."""
    return formatting.format_datetime(value)


@register.filter
def pl_month(value):
    return formatting.format_month(value)


@register.filter
def nrb(value):
    """``12 3456 7890 1234 5678 9012 3456``."""
    return formatting.format_nrb(value)


@register.filter
def abs_value(value):
    return abs(value) if value is not None else None


@register.filter
def ledger_kind(code):
    return labels.label(labels.LEDGER_KINDS, code)


@register.filter
def document_kind(code):
    return labels.label(labels.DOCUMENT_KINDS, code)


@register.filter
def unit(value):
    """Accounting units as written by hand: ``m2`` → ``m²``."""
    return UNITS.get(value, value)


@register.filter
def accent_color(value):
    """The cooperative's colour if it is a plain ``#rrggbb``, else the default."""
    return value if isinstance(value, str) and HEX_COLOR.fullmatch(value) else DEFAULT_ACCENT
