"""Pages and JSON endpoints of security keys (``security_keys``), shared by the
staff console and the portal; each area mounts them with its ``Area``: the login
step (instead of a code) as is, the account's own keys behind the area's access
check and step-up. The browser side is accounts/security_keys.js."""

import json
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from ebok.accounts import security_keys
from ebok.accounts.step_up import recent_authentication_required
from ebok.accounts.two_factor_views import Area, _account_of_area, _safe_next
from ebok.accounts.two_factor_views import _page as area_page

BODY_MAX_BYTES = 64 * 1024


class KeyNameForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name of the key"),
        max_length=security_keys.NAME_MAX_LENGTH,
        help_text=gettext_lazy("So that you can tell your keys apart, e.g. “blue key”."),
    )


def _json_body(request) -> dict:
    if len(request.body) > BODY_MAX_BYTES:
        return {}
    try:
        body = json.loads(request.body)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _options(options_json: str) -> HttpResponse:
    response = HttpResponse(options_json, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


def _refused(message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=400)


def _account_url(request) -> str:
    return reverse(f"{request.resolver_match.namespace}:account")


# --- At login, instead of a code -----------------------------------------------------------


def login_step(view):
    """For the account whose login waits for its second factor and has keys (as the
    code page: anonymous → login, another area's account → 404); POST only."""

    @wraps(view)
    def wrapped(request, area: Area):
        user = _account_of_area(request, area)
        if user is None:
            return redirect_to_login(request.get_full_path(), reverse(area.login))
        if user.is_verified() or not security_keys.has_keys(user):
            raise Http404
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        return view(request, area)

    return never_cache(wrapped)


@login_step
def login_options(request, area: Area):
    return _options(security_keys.authentication_options(request))


@login_step
def login_verify(request, area: Area):
    credential = json.dumps(_json_body(request).get("credential"))
    if not security_keys.verify(request, credential):
        return _refused(_("The security key was not accepted. Try again or type a code."))
    return JsonResponse({"next": _safe_next(request, area)})


# --- The account's own keys ------------------------------------------------------------------


def _registering_account(request):
    user = request.user
    if not security_keys.may_register(user):
        raise Http404
    return user


@never_cache
@recent_authentication_required
def add(request, area: Area):
    """The page that names a new key and asks the browser to register it."""
    _registering_account(request)
    context = {"form": KeyNameForm(), "account_url": _account_url(request)}
    return area_page(request, area, "accounts/security_keys/add.html", context)


@never_cache
@require_POST
@recent_authentication_required
def registration_options(request, area: Area):
    _registering_account(request)
    return _options(security_keys.registration_options(request))


@never_cache
@require_POST
@recent_authentication_required
def register(request, area: Area):
    _registering_account(request)
    body = _json_body(request)
    form = KeyNameForm({"name": body.get("name")})
    if not form.is_valid():
        return _refused(_("Give the key a name of at most 64 characters."))
    try:
        security_keys.register(
            request, name=form.cleaned_data["name"], credential=json.dumps(body.get("credential"))
        )
    except security_keys.Refused:
        return _refused(_("The security key could not be registered. Try again."))
    messages.success(request, _("The security key was added."))
    return JsonResponse({"next": _account_url(request)})


@require_POST
@recent_authentication_required
def remove(request, area: Area, pk: int):
    if security_keys.remove(request, pk):
        messages.success(request, _("The security key was removed."))
    else:
        messages.error(request, _("There is no such security key any more."))
    return redirect(_account_url(request))


def own_key_paths(guard, area: str, routes: dict[str, str]) -> list:
    """The routes of a person's own keys in an area: its ``guard`` around each view and
    its words in ``routes`` (keys add, options, register, remove; remove takes a pk)."""
    views = {"add": add, "options": registration_options, "register": register, "remove": remove}
    return [
        path(routes[name], guard(view), {"area": area}, name=f"security_key_{name}")
        for name, view in views.items()
    ]
