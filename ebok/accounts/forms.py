"""Forms shared by the residents' portal and the staff console."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ebok.accounts import services


class PasswordChangeForm(forms.Form):
    current = forms.CharField(
        label=_("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new = forms.CharField(
        label=_("New password"),
        strip=False,
        max_length=128,
        help_text=_("At least 12 characters. A few unrelated words make a good password."),
        widget=forms.PasswordInput(
            attrs={"autocomplete": "new-password", "data-strength-meter": ""}
        ),
    )
    confirm = forms.CharField(
        label=_("New password again"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("new") and data.get("confirm") and data["new"] != data["confirm"]:
            self.add_error("confirm", _("The two new passwords differ."))
        return data

    def save(self, *, user, request) -> bool:
        """Change the password through the service; its objections become form errors."""
        try:
            services.change_password(
                user=user,
                current=self.cleaned_data["current"],
                new=self.cleaned_data["new"],
                request=request,
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
            return False
        return True
