from dataclasses import dataclass
from datetime import date

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from ebok.portal import labels

DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y"]


class LoginForm(AuthenticationForm):
    """Residents only: staff accounts sign in to the staff console, with their second factor."""

    error_messages = {
        "invalid_login": _(
            "The login or password is not correct, or the account is blocked, or the "
            "issued password has expired. A lost password cannot be recovered: ask the "
            "cooperative for a new one."
        ),
        "inactive": _("This account is inactive."),
        "not_resident": _(
            "This account is not a resident's account. Staff sign in to the staff console."
        ),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("Login")
        self.fields["username"].widget.attrs.update(autocapitalize="none", spellcheck="false")
        self.fields["password"].label = _("Password")

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not user.is_resident:
            raise forms.ValidationError(self.error_messages["not_resident"], code="not_resident")


class RulesForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)
    accept = forms.BooleanField(
        label=_("I have read the rules of use and I accept them."), required=True
    )


@dataclass(frozen=True)
class LedgerSelection:
    date_from: date | None
    date_to: date | None
    kinds: list[str]


class LedgerFilterForm(forms.Form):
    PERIODS = [
        ("this_year", _("This year")),
        ("last_year", _("Last year")),
        ("all", _("Everything")),
        ("custom", _("Custom dates")),
    ]
    period = forms.ChoiceField(label=_("Period"), choices=PERIODS, required=False)
    date_from = forms.DateField(
        label=_("From"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=_("To"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    kind = forms.MultipleChoiceField(
        label=_("Kind of entry"),
        required=False,
        choices=list(labels.LEDGER_KINDS.items()),
        widget=forms.CheckboxSelectMultiple,
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end of the period is before its start."))
        return data

    def selection(self, today: date) -> LedgerSelection:
        """The period and kinds asked for; this year when nothing (valid) was asked."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        period = data.get("period") or "this_year"
        kinds = data.get("kind") or []
        if period == "custom":
            return LedgerSelection(data.get("date_from"), data.get("date_to"), kinds)
        if period == "all":
            return LedgerSelection(None, None, kinds)
        year = today.year - 1 if period == "last_year" else today.year
        return LedgerSelection(date(year, 1, 1), date(year, 12, 31), kinds)


class DocumentFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind of document"),
        required=False,
        choices=[("", _("All kinds"))] + list(labels.DOCUMENT_KINDS.items()),
    )

    def selected_kind(self) -> str | None:
        if self.is_bound and self.is_valid():
            return self.cleaned_data["kind"] or None
        return None
