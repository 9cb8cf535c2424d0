"""The printable letter handed to a resident with their issued password.

Made in memory from the password held by the request that issued it; the
bytes go to the response (or the command's file) and nowhere else.
"""

import logging
from pathlib import Path

from django.conf import settings
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from fpdf import FPDF

from tenants.subdomains import portal_url

FONTS = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVuSans"

# fontTools logs the glyphs it keeps when subsetting the font: for a letter that
# is the set of the password's characters. Never let that reach a log.
logging.getLogger("fontTools").setLevel(logging.ERROR)


def portal_address(cooperative) -> str:
    return portal_url(cooperative.get_primary_domain().domain)


def _contact_lines(cooperative) -> list[str]:
    lines = [
        cooperative.contact_room,
        cooperative.contact_address,
        _("phone: %(phone)s") % {"phone": cooperative.contact_phone}
        if cooperative.contact_phone
        else "",
        _("e-mail: %(email)s") % {"email": cooperative.contact_email}
        if cooperative.contact_email
        else "",
        _("office hours: %(hours)s") % {"hours": cooperative.contact_hours}
        if cooperative.contact_hours
        else "",
    ]
    return [line for line in lines if line]


def _new_document() -> FPDF:
    pdf = FPDF(format="A4")
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_title("e-BOK")
    pdf.set_creator("e-BOK")
    pdf.add_page()
    return pdf


def _credential(pdf: FPDF, label: str, value: str, size: int = 12) -> None:
    pdf.set_font(FONT, "", 11)
    pdf.cell(45, 9, label)
    pdf.set_font(FONT, "B", size)
    pdf.cell(0, 9, value, new_x="LMARGIN", new_y="NEXT")


def access_letter(*, cooperative, user, password: str) -> bytes:
    """The letter: who issues it, to whom, the login, the password, where and how to start."""
    address = portal_address(cooperative)
    pdf = _new_document()

    pdf.set_font(FONT, "B", 14)
    pdf.multi_cell(0, 7, cooperative.name, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    for line in [_("Rent department"), *_contact_lines(cooperative)]:
        pdf.multi_cell(0, 5, line, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    issued = formats.date_format(timezone.localdate(), "d.m.Y")
    pdf.cell(0, 5, _("Issued on %(date)s") % {"date": issued}, align="R")
    pdf.ln(12)

    pdf.set_font(FONT, "B", 16)
    pdf.cell(0, 10, _("Your access to e-BOK"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 11)
    if user.display_name:
        pdf.cell(0, 7, _("For: %(name)s") % {"name": user.display_name})
        pdf.ln(9)

    pdf.set_fill_color(240, 240, 240)
    top = pdf.get_y()
    pdf.rect(pdf.l_margin, top, pdf.epw, 31, style="F")
    pdf.set_y(top + 2)
    pdf.set_x(pdf.l_margin + 3)
    _credential(pdf, _("Portal address:"), address, size=11)
    pdf.set_x(pdf.l_margin + 3)
    _credential(pdf, _("Login:"), user.login, size=13)
    pdf.set_x(pdf.l_margin + 3)
    _credential(pdf, _("Password:"), password, size=15)
    pdf.set_y(top + 36)

    pdf.set_font(FONT, "B", 12)
    pdf.cell(0, 8, _("First steps"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 11)
    days = settings.ISSUED_PASSWORD_VALID_DAYS
    steps = [
        _("Open %(address)s in any web browser.") % {"address": address},
        _(
            "Log in with the login and the password above. The password is valid for "
            "%(days)s days; past that, ask the rent department for a new one."
        )
        % {"days": days},
        _(
            "Choose your own password. From then on only you know it: the cooperative "
            "cannot read or recover it."
        ),
        _("Read and accept the rules of use of e-BOK."),
    ]
    for number, step in enumerate(steps, start=1):
        pdf.multi_cell(0, 6, f"{number}. {step}", align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    pdf.ln(4)
    pdf.set_font(FONT, "", 9)
    pdf.multi_cell(
        0,
        5,
        _(
            "Keep this letter away from others and destroy it once you have chosen your own "
            "password. If you lose your password, the cooperative can only issue a new random "
            "one, which ends the earlier access. The data in e-BOK are informational; in case "
            "of discrepancies contact the rent department."
        ),
        align="L",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())
