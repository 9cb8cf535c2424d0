"""``{% load sync_runs %}``: how a sync record reads in the panel."""

from django import template

register = template.Library()


@register.filter
def row_counts(counts: dict | None) -> list[tuple[str, int]]:
    """The rows per file of ``SyncRun.counts``; the import's diagnostics kept beside
    them (changes, timings, file keys) are nested and not for staff."""
    return [(name, value) for name, value in (counts or {}).items() if isinstance(value, int)]
