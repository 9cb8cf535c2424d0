"""What the dashboard shows for one premises, worked out once for the template."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext_lazy as _

from ebok.models import Premises
from ebok.portal import labels, payments

BALANCE_STATES = {
    "due": _("To pay"),
    "overpaid": _("Overpaid"),
    "settled": _("Settled"),
}


@dataclass(frozen=True)
class BalanceView:
    amount: Decimal  # > 0 owed, < 0 overpaid
    as_of: date

    @property
    def state(self) -> str:
        if self.amount > 0:
            return "due"
        return "overpaid" if self.amount < 0 else "settled"

    @property
    def label(self) -> str:
        return str(BALANCE_STATES[self.state])

    @property
    def shown_amount(self) -> Decimal:
        return abs(self.amount)


@dataclass(frozen=True)
class PremisesCard:
    premises: Premises
    kind_label: str
    balance: BalanceView | None
    qr_image: str | None  # data: URI, only when there is something to pay


def balance_of(premises: Premises) -> BalanceView | None:
    try:
        balance = premises.balance
    except ObjectDoesNotExist:
        return None
    return BalanceView(amount=balance.amount, as_of=balance.as_of)


def premises_card(premises: Premises, cooperative_name: str) -> PremisesCard:
    balance = balance_of(premises)
    qr_image = None
    if balance is not None and balance.state == "due":
        try:
            payload = payments.qr_payload(
                nrb=premises.bank_account,
                amount=balance.amount,
                recipient=payments.recipient_name(cooperative_name),
                title=payments.transfer_title(premises.account_number),
            )
        except ValueError:  # no valid NRB: no code rather than a wrong one
            payload = None
        qr_image = payments.qr_data_uri(payload) if payload else None
    return PremisesCard(
        premises=premises,
        kind_label=labels.label(labels.PREMISES_KINDS, premises.kind),
        balance=balance,
        qr_image=qr_image,
    )
