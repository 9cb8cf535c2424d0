import json

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from connectors.registry import available_connectors
from connectors.schedule import ScheduleError, parse_schedule
from ebok.accounts.models import User
from ebok.accounts.services import STAFF_LOGIN_PATTERN
from tenants.services import CODE_PATTERN


class OperatorLoginForm(AuthenticationForm):
    """Only platform operators log in to the console (same answer otherwise)."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if user.kind != User.Kind.OPERATOR:
            raise self.get_invalid_login_error()


def _connector_choices():
    return [(name, name) for name in sorted(available_connectors())]


class OnboardingForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        help_text=_("As used by its accounting system: 2–20 capital letters and digits."),
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    domain = forms.CharField(
        label=_("Domain"),
        max_length=253,
        required=False,
        help_text=_("Empty: <code>.<base domain>."),
    )
    connector = forms.ChoiceField(label=_("Connector"), choices=_connector_choices)
    config = forms.CharField(
        label=_("Connector settings (JSON)"),
        widget=forms.Textarea(attrs={"rows": 5}),
        initial="{}",
        help_text=_('e.g. {"inbox": "/srv/zsi/odra/inbox"} or {"url": "…", "token": "…"}'),
    )
    schedule = forms.CharField(
        label=_("Schedule"),
        max_length=60,
        initial="daily 02:30",
        help_text=_("'every 15m', 'every 2h', 'daily 02:30' or a cron expression."),
    )
    enabled = forms.BooleanField(label=_("Scheduled syncs enabled"), required=False, initial=True)
    admin_login = forms.CharField(label=_("First administrator's login"), max_length=64)
    admin_name = forms.CharField(
        label=_("First administrator's name"), max_length=200, required=False
    )

    def clean_code(self):
        code = self.cleaned_data["code"].strip().upper()
        if not CODE_PATTERN.match(code):
            raise ValidationError(_("2–20 letters and digits, starting with a letter."))
        return code

    def clean_domain(self):
        return self.cleaned_data["domain"].strip().lower()

    def clean_config(self):
        try:
            config = json.loads(self.cleaned_data["config"] or "{}")
        except json.JSONDecodeError as error:
            raise ValidationError(_("Not valid JSON: %(error)s") % {"error": error}) from error
        if not isinstance(config, dict):
            raise ValidationError(_("The settings must be a JSON object."))
        return config

    def clean_schedule(self):
        try:
            return parse_schedule(self.cleaned_data["schedule"]).text
        except ScheduleError as error:
            raise ValidationError(str(error)) from error

    def clean_admin_login(self):
        login = self.cleaned_data["admin_login"].strip().lower()
        if not STAFF_LOGIN_PATTERN.match(login):
            raise ValidationError(
                _("2–64 characters: small letters, digits, dot, dash or underscore.")
            )
        return login


class SuspendForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)
