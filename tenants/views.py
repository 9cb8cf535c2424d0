from functools import wraps

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_POST

from ebok.accounts import two_factor
from ebok.accounts.client_data import clears_site_data
from ebok.accounts.denials import WRONG_AREA, DeniedAsNotFound
from ebok.accounts.models import User
from ebok.accounts.step_up import recent_authentication_required
from ebok.accounts.two_factor_views import CONSOLE, second_factor_redirect
from tenants import operator_services, selectors
from tenants.forms import OnboardingForm, OperatorLoginForm, SuspendForm
from tenants.health import broker_reachable, database_reachable
from tenants.models import Cooperative, OperatorAuditEvent
from tenants.subdomains import portal_url


@require_GET
@never_cache
def healthz(request):
    checks = {
        "database": "ok" if database_reachable() else "down",
        "broker": "ok" if broker_reachable() else "down",
    }
    healthy = all(state == "ok" for state in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "down", **checks}, status=200 if healthy else 503
    )


# --- The operators' console (apex host, public schema) -------------------------------------


def operator_required(view):
    """Anonymous → the console's login page; any other kind of account → 404."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("operator:login"))
        if request.user.kind != User.Kind.OPERATOR:
            raise DeniedAsNotFound(WRONG_AREA)
        if two_factor.verification_pending(request.user):
            return second_factor_redirect(request, CONSOLE)
        return view(request, *args, **kwargs)

    return wrapped


class OperatorLoginView(auth_views.LoginView):
    """The one place where platform operators log in."""

    template_name = "tenants/console/login.html"
    authentication_form = OperatorLoginForm

    def get_default_redirect_url(self):
        return reverse("operator:home")


@require_POST
@clears_site_data()
def operator_logout(request):
    logout(request)
    return redirect("operator:login")


@require_GET
@operator_required
def console_home(request):
    return render(
        request,
        "tenants/console/home.html",
        {"health": selectors.sync_health(), "suspend_form": SuspendForm()},
    )


@never_cache
@operator_required
@recent_authentication_required
@sensitive_variables("onboarded")
def console_onboard(request):
    form = OnboardingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            onboarded = operator_services.onboard(
                **form.cleaned_data, actor=request.user, request=request
            )
        except operator_services.ConsoleError as error:
            form.add_error(None, str(error))
        else:
            domain = onboarded.cooperative.get_primary_domain().domain
            response = render(
                request,
                "tenants/console/onboarded.html",
                {
                    "onboarded": onboarded,
                    "panel_url": portal_url(domain) + "panel/",
                    "password": onboarded.admin.password,
                },
            )
            response["Cache-Control"] = "no-store"
            return response
    return render(request, "tenants/console/onboard.html", {"form": form})


def _cooperative(code: str):
    try:
        return selectors.by_code(code)
    except Cooperative.DoesNotExist as error:
        raise Http404 from error


@require_POST
@operator_required
@recent_authentication_required
def console_suspend(request, code):
    cooperative = _cooperative(code)
    form = SuspendForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason of the suspension."))
        return redirect("operator:home")
    try:
        operator_services.suspend(
            cooperative, reason=form.cleaned_data["reason"], actor=request.user, request=request
        )
    except operator_services.ConsoleError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("%(code)s is suspended.") % {"code": cooperative.code})
    return redirect("operator:home")


@require_POST
@operator_required
@recent_authentication_required
def console_resume(request, code):
    cooperative = _cooperative(code)
    try:
        operator_services.resume(cooperative, actor=request.user, request=request)
    except operator_services.ConsoleError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("%(code)s is active again.") % {"code": cooperative.code})
    return redirect("operator:home")


@require_GET
@operator_required
def console_audit(request):
    events = OperatorAuditEvent.objects.order_by("-at", "-id")
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "tenants/console/audit.html", {"page": page})
