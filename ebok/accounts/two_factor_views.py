"""Pages of two-factor authentication, shared by the staff console, the operator
console and the residents' portal; each mounts them with its own ``Area``."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_POST

from ebok.accounts import security_keys, two_factor
from ebok.accounts.models import User
from ebok.accounts.step_up import recent_authentication_required


@dataclass(frozen=True)
class Area:
    kind: str
    base_template: str
    login: str
    home: str
    setup: str
    verify: str
    account: str


PANEL = Area(
    User.Kind.STAFF,
    "panel/base.html",
    "panel:login",
    "panel:home",
    "panel:otp_setup",
    "panel:otp_verify",
    "panel:account",
)
CONSOLE = Area(
    User.Kind.OPERATOR,
    "tenants/console/base.html",
    "operator:login",
    "operator:home",
    "operator:otp_setup",
    "operator:otp_verify",
    "operator:home",
)
PORTAL = Area(
    User.Kind.RESIDENT,
    "portal/base.html",
    "portal:login",
    "portal:dashboard",
    "portal:otp_setup",
    "portal:otp_verify",
    "portal:account",
)


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code from the authenticator app, or a recovery code"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )


def second_factor_redirect(request, area: Area):
    """Where a logged-in but not yet verified session goes: enrolment or the code."""
    target = area.verify if two_factor.has_authenticator(request.user) else area.setup
    return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")


def _safe_next(request, area: Area) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed else reverse(area.home)


def _account_of_area(request, area: Area):
    """The logged-in account, if it belongs to this area; anonymous → login, others → 404."""
    if not request.user.is_authenticated:
        return None
    if request.user.kind != area.kind:
        raise Http404
    return request.user


def _page(request, area: Area, template: str, context: dict, *, status=200):
    response = render(
        request, template, {"base_template": area.base_template, **context}, status=status
    )
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@sensitive_post_parameters("code")
@sensitive_variables("codes", "device")
def setup(request, area: Area):
    """Enrol an authenticator: QR code and the key in text, confirmed by a first code;
    then the recovery codes, shown this once."""
    user = _account_of_area(request, area)
    if user is None:
        return redirect_to_login(request.get_full_path(), reverse(area.login))
    if two_factor.has_authenticator(user):
        # Never a second authenticator from a session that only knows the password.
        return redirect(area.home if user.is_verified() else area.verify)
    device = two_factor.pending_authenticator(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = two_factor.confirm_authenticator(request, device, form.cleaned_data["code"])
        if codes is not None:
            return _page(
                request,
                area,
                "accounts/two_factor/recovery_codes.html",
                {"codes": codes, "continue_url": _safe_next(request, area)},
            )
        form.add_error("code", _("This code is not correct. Check the time on your phone."))
    context = {
        "form": form,
        "qr": two_factor.qr_data_uri(device),
        "secret": two_factor.secret_text(device),
        "next": request.GET.get("next", ""),
        "mandatory": two_factor.is_mandatory(user),
    }
    return _page(request, area, "accounts/two_factor/setup.html", context)


@never_cache
@sensitive_post_parameters("code")
def verify(request, area: Area):
    """The second step of every login of an account with an authenticator."""
    user = _account_of_area(request, area)
    if user is None:
        return redirect_to_login(request.get_full_path(), reverse(area.login))
    if user.is_verified():
        return redirect(_safe_next(request, area))
    if not two_factor.has_authenticator(user):
        return redirect(area.setup)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if two_factor.verify(request, form.cleaned_data["code"]):
            return redirect(_safe_next(request, area))
        form.add_error(
            "code", _("This code is not correct or was already used. Wait a moment and retry.")
        )
    context = {
        "form": form,
        "next": request.GET.get("next", "") or request.POST.get("next", ""),
        "security_key": security_keys.has_keys(user),
    }
    return _page(request, area, "accounts/two_factor/verify.html", context)


@require_POST
@recent_authentication_required
@sensitive_variables("codes")
def recovery_codes(request, area: Area):
    """New recovery codes, shown this once (e.g. when few are left, or the printed
    ones may have been seen); the earlier ones stop working."""
    user = _account_of_area(request, area)
    if user is None:
        return redirect_to_login(request.get_full_path(), reverse(area.login))
    if not user.is_verified() or not two_factor.has_authenticator(user):
        raise Http404
    codes = two_factor.renew_recovery_codes(request)
    context = {"codes": codes, "continue_url": reverse(area.account)}
    return _page(request, area, "accounts/two_factor/recovery_codes.html", context)


@require_POST
@recent_authentication_required
@sensitive_post_parameters("code")
def disable(request, area: Area):
    """A resident turns two-factor off, confirming with a current code."""
    user = _account_of_area(request, area)
    if user is None:
        return redirect_to_login(request.get_full_path(), reverse(area.login))
    if two_factor.is_mandatory(user) or not user.is_verified():
        raise Http404
    form = CodeForm(request.POST)
    if form.is_valid() and two_factor.check_code(user, form.cleaned_data["code"]):
        two_factor.remove_devices(user, request=request)
        messages.success(request, _("Two-step verification is off."))
    else:
        messages.error(request, _("This code is not correct. Two-step verification stays on."))
    return redirect("portal:account")
