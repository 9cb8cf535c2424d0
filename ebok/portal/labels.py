"""What residents read for the accounting codes: capitalised, in the portal's catalog."""

from django.utils.translation import gettext_lazy as _

from ebok.models import Document, LedgerEntry, Premises

PREMISES_KINDS = {
    Premises.Kind.FLAT: _("Flat"),
    Premises.Kind.GARAGE: _("Garage"),
    Premises.Kind.COMMERCIAL: _("Commercial unit"),
    Premises.Kind.STORAGE: _("Storage room"),
}

LEDGER_KINDS = {
    LedgerEntry.Kind.OPENING_BALANCE: _("Opening balance"),
    LedgerEntry.Kind.CHARGE: _("Charge"),
    LedgerEntry.Kind.PAYMENT: _("Payment"),
    LedgerEntry.Kind.CORRECTION: _("Correction"),
    LedgerEntry.Kind.INTEREST: _("Interest"),
    LedgerEntry.Kind.SETTLEMENT: _("Settlement"),
}

DOCUMENT_KINDS = {
    Document.Kind.FEE_NOTICE: _("Fee notice"),
    Document.Kind.WATER_SETTLEMENT: _("Water settlement"),
    Document.Kind.HEATING_SETTLEMENT: _("Heating settlement"),
    Document.Kind.PAYMENT_REMINDER: _("Payment reminder"),
    Document.Kind.RESOLUTION: _("Resolution"),
    Document.Kind.RULES: _("Rules"),
    Document.Kind.REPORT: _("Report"),
    Document.Kind.OTHER: _("Other"),
}


def label(labels: dict, code: str) -> str:
    return str(labels.get(code, code))
