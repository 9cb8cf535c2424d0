"""Rows of the portal's lists, formatted once in Python: the template prints
ready strings instead of resolving a filter and a translation per cell (the
ledger's 25 rows × 8 cells were most of its rendering time)."""

from django.urls import reverse

from ebok.portal import labels
from ebok.portal.formatting import format_date, format_money


def _translated(choices: dict) -> dict[str, str]:
    return {code: str(text) for code, text in choices.items()}


def ledger_rows(entries) -> list[dict]:
    """Entries annotated with ``running_balance`` (``selectors.ledger``)."""
    kinds = _translated(labels.LEDGER_KINDS)
    return [
        {
            "posted_on": format_date(entry.posted_on),
            "kind": kinds.get(entry.kind, entry.kind),
            "component": entry.component,
            "description": entry.description,
            "due_on": format_date(entry.due_on),
            "debit": format_money(entry.debit) if entry.debit else "",
            "credit": format_money(entry.credit) if entry.credit else "",
            "balance": format_money(entry.running_balance),
        }
        for entry in entries
    ]


def document_rows(documents) -> list[dict]:
    """Documents with their premises selected (``select_related("premises")``)."""
    kinds = _translated(labels.DOCUMENT_KINDS)
    return [
        {
            "url": reverse("portal:document", args=[document.pk]),
            "title": document.title,
            "kind": kinds.get(document.kind, document.kind),
            "issued_on": format_date(document.issued_on),
            "premises": document.premises.address if document.premises_id else "",
        }
        for document in documents
    ]
