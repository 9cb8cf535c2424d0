"""The re-authentication page of step-up (``step_up``), shared by the staff
console, the operator console and the portal; each mounts it behind its own
access check, with its ``Area``."""

from django import forms
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from ebok.accounts import step_up
from ebok.accounts.two_factor_views import Area, CodeForm
from ebok.accounts.two_factor_views import _page as area_page
from ebok.accounts.two_factor_views import _safe_next as safe_next


class ReauthenticationForm(CodeForm):
    password = forms.CharField(
        label=gettext_lazy("Your password"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    field_order = ["password", "code"]

    def __init__(self, *args, with_code: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_code:
            del self.fields["code"]


@never_cache
@sensitive_post_parameters("password", "code")
def reauthenticate(request, area: Area):
    """Password (and a code where the account has an authenticator) again, then
    back to the page that asked for it."""
    with_code = step_up.needs_code(request.user)
    form = ReauthenticationForm(request.POST or None, with_code=with_code)
    if request.method == "POST" and form.is_valid():
        if step_up.reauthenticate(
            request,
            password=form.cleaned_data["password"],
            code=form.cleaned_data.get("code", ""),
        ):
            return redirect(safe_next(request, area))
        form.add_error(None, _("The password or the code is not correct."))
    context = {"form": form, "next": request.GET.get("next", "") or request.POST.get("next", "")}
    return area_page(request, area, "accounts/reauthenticate.html", context)
