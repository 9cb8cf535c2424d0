"""``{% load audit_events %}``: how an audit event reads in the panel."""

from django import template
from django.utils.translation import gettext_lazy as _

from ebok.accounts import audit, denials

register = template.Library()

LABELS = {
    (denials.DENIED, denials.FORBIDDEN): _("Access refused: the role does not allow it"),
    (denials.DENIED, denials.NOT_YOURS): _("Access refused: another person's data"),
    (denials.DENIED, denials.WRONG_AREA): _("Access refused: an account of another kind"),
    (denials.DENIED, denials.METHOD): _("Refused: an HTTP method the address does not take"),
    (denials.DENIED, denials.TOKEN_REFUSED): _("Refused: an invalid or foreign API token"),
    (audit.READ, "panel.person"): _("Personal data viewed: a person's card"),
    (audit.READ, "panel.people"): _("Personal data viewed: search results"),
    (audit.READ, "panel.staff_member"): _("Personal data viewed: a staff account"),
    (audit.READ, "panel.audit_export"): _("Personal data viewed: audit log export"),
    (audit.READ, "api.person"): _("Personal data viewed: a person (API)"),
    (audit.READ, "api.persons"): _("Personal data viewed: search results (API)"),
}


@register.filter
def event_label(event) -> str:
    """The readable name of a denial or a read; other events show their code only."""
    detail = event.details.get("kind") or event.details.get("view")
    return LABELS.get((event.action, detail), "")
