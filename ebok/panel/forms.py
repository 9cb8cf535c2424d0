import re

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from connectors.schedule import ScheduleError, parse_schedule
from ebok.accounts.models import User
from ebok_platform import antivirus

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
LOGO_MAX_BYTES = 512 * 1024
LOGO_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}


class PanelLoginForm(AuthenticationForm):
    """Only cooperative staff log in here; anyone else gets the same answer as
    for a wrong password, so the form reveals nothing about accounts."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if user.kind != User.Kind.STAFF:
            raise self.get_invalid_login_error()


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Name, account number, address or e-mail"), max_length=100, required=False
    )


class GrantForm(forms.Form):
    confirm_after_erasure = forms.BooleanField(
        label=_("A new written request of this person was received"), required=False
    )


class BlockForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=User.BlockReason.choices)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class EraseForm(forms.Form):
    request_date = forms.DateField(
        label=_("Date of the written request"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    request_reference = forms.CharField(label=_("Reference of the letter"), max_length=100)
    confirm = forms.BooleanField(
        label=_("I understand that the account and its personal data will be removed for good")
    )

    def clean_request_date(self):
        value = self.cleaned_data["request_date"]
        if value > timezone.localdate():
            raise ValidationError(_("The date cannot be in the future."))
        return value


class StaffForm(forms.Form):
    login = forms.CharField(label=_("Login"), max_length=64)
    display_name = forms.CharField(label=_("Name"), max_length=200, required=False)
    email = forms.EmailField(
        label=_("E-mail"),
        required=False,
        help_text=_("Notices about the account's password and sign-ins go here."),
    )
    role = forms.ChoiceField(label=_("Role"), choices=User.Role.choices)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=User.Role.choices)


class CooperativeSettingsForm(forms.Form):
    contact_room = forms.CharField(label=_("Room"), max_length=100, required=False)
    contact_address = forms.CharField(
        label=_("Rent department address"), max_length=300, required=False
    )
    contact_phone = forms.CharField(label=_("Phone"), max_length=50, required=False)
    contact_email = forms.EmailField(label=_("E-mail"), required=False)
    contact_hours = forms.CharField(label=_("Office hours"), max_length=300, required=False)
    rules_text = forms.CharField(
        label=_("Rules of use"),
        widget=forms.Textarea(attrs={"rows": 12}),
        required=False,
        help_text=_("Saving a changed text makes every resident accept the rules again."),
    )
    accent_color = forms.CharField(
        label=_("Accent colour"),
        max_length=7,
        widget=forms.TextInput(attrs={"type": "color"}),
        help_text=_("A colour as #rrggbb."),
    )
    logo = forms.ImageField(
        label=_("Logo"),
        required=False,
        help_text=_("PNG, JPEG, GIF or WebP, at most 512 KB."),
    )
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)

    def clean_accent_color(self):
        value = self.cleaned_data["accent_color"].strip()
        if not HEX_COLOUR.match(value):
            raise ValidationError(_("Enter a colour as #rrggbb."))
        return value.lower()

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if logo is None:
            return None
        if logo.size > LOGO_MAX_BYTES:
            raise ValidationError(_("The logo may have at most 512 KB."))
        if getattr(logo, "image", None) is None or logo.image.format not in LOGO_FORMATS:
            raise ValidationError(_("Upload a PNG, JPEG, GIF or WebP image."))
        _refuse_if_infected(logo)
        return logo


def _refuse_if_infected(upload) -> None:
    """Scan an uploaded file when a scanner is configured (ASVS 12.4.2); fail closed."""
    if not antivirus.configured():
        return
    upload.seek(0)
    try:
        signature = antivirus.scan(upload)
    except antivirus.ScannerUnavailable as exc:
        raise ValidationError(
            _("The file could not be scanned for viruses; try again later.")
        ) from exc
    finally:
        upload.seek(0)
    if signature:
        raise ValidationError(
            _("The antivirus scanner found %(signature)s in this file."),
            params={"signature": signature},
        )


class ScheduleForm(forms.Form):
    schedule = forms.CharField(
        label=_("Schedule"),
        max_length=60,
        help_text=_("'every 15m', 'every 2h', 'daily 02:30' or a cron expression."),
    )
    enabled = forms.BooleanField(label=_("Scheduled syncs enabled"), required=False)

    def clean_schedule(self):
        try:
            return parse_schedule(self.cleaned_data["schedule"]).text
        except ScheduleError as error:
            raise ValidationError(str(error)) from error


class AuditFilterForm(forms.Form):
    login = forms.CharField(label=_("Login"), max_length=64, required=False)
    action = forms.CharField(
        label=_("Action"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"list": "actions"}),
    )
    date_from = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {key: value for key, value in self.cleaned_data.items() if value}
