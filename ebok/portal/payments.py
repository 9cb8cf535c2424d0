"""Payment QR codes after the Polish Bank Association's 2D recommendation.

``NIP|PL|NRB|amount in grosze (6 digits)|recipient (≤20)|title (≤32)|||``,
UTF-8, error correction level L. A banking app scanning it fills in the
transfer form; the payer only confirms.
"""

import re
from decimal import Decimal
from functools import lru_cache

import segno

MAX_AMOUNT = Decimal("9999.99")  # six digits of grosze
RECIPIENT_LENGTH = 20
TITLE_LENGTH = 32
_COOPERATIVE = re.compile(r"spółdzielnia\s+mieszkaniowa", re.IGNORECASE)


def _field(text: str, limit: int) -> str:
    # The separator and line breaks cannot appear inside a field.
    cleaned = re.sub(r"[|\r\n\t]+", " ", text or "")
    return re.sub(r"\s+", " ", cleaned).strip()[:limit].rstrip()


def recipient_name(cooperative_name: str) -> str:
    """Twenty characters are few: "Spółdzielnia Mieszkaniowa" becomes "SM"."""
    return _field(_COOPERATIVE.sub("SM", cooperative_name or ""), RECIPIENT_LENGTH)


def transfer_title(account_number: str) -> str:
    return _field(f"Opłaty eksploatacyjne {account_number}", TITLE_LENGTH)


def amount_field(amount: Decimal) -> str:
    """Grosze in six digits; an amount that does not fit leaves it to the payer."""
    if amount <= 0 or amount > MAX_AMOUNT:
        return "000000"
    return f"{int((amount * 100).to_integral_value()):06d}"


def qr_payload(*, nrb: str, amount: Decimal, recipient: str, title: str, nip: str = "") -> str:
    digits = re.sub(r"\D", "", nrb or "")
    if len(digits) != 26:
        raise ValueError("An NRB has 26 digits.")
    nip_digits = re.sub(r"\D", "", nip or "")
    fields = [
        nip_digits if len(nip_digits) == 10 else "",
        "PL",
        digits,
        amount_field(amount),
        _field(recipient, RECIPIENT_LENGTH),
        _field(title, TITLE_LENGTH),
        "",
        "",
        "",
    ]
    return "|".join(fields)


def qr_code(payload: str) -> segno.QRCode:
    # Byte mode in UTF-8, level L and no ECI header, as banking apps expect.
    return segno.make(payload, error="l", boost_error=False, micro=False, encoding="utf-8")


@lru_cache(maxsize=512)
def qr_data_uri(payload: str) -> str:
    """An SVG ``data:`` URI (the CSP allows images from ``data:``); cached, as a
    resident sees the same code on every visit until the balance changes."""
    return qr_code(payload).svg_data_uri(
        scale=1, border=4, omitsize=True, dark="#000", light="#fff"
    )
