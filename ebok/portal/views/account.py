"""Login, logout, the first-login steps (password change, rules of use) and the account page."""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render, resolve_url
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ebok import selectors
from ebok.accounts import services, session_views, two_factor
from ebok.accounts.client_data import clears_site_data
from ebok.accounts.forms import PasswordChangeForm
from ebok.accounts.step_up import recent_authentication_required
from ebok.portal.access import PASSWORD_STEP, RULES_STEP, resident_page
from ebok.portal.forms import LoginForm, RulesForm


class LoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return resolve_url("portal:dashboard")


@require_POST
@clears_site_data()
def logout_view(request):
    logout(request)
    return redirect("portal:logged_out")


@require_GET
def logged_out(request):
    """The hop after a logout: the browser wipes the site's cookies with the logout's
    answer, so the message (a cookie) is set only here, after the wipe."""
    if request.user.is_authenticated:
        return redirect("portal:dashboard")
    messages.info(request, _("You have logged out."))
    return redirect("portal:login")


@resident_page(steps=(PASSWORD_STEP, RULES_STEP))
def password_change(request):
    form = PasswordChangeForm(request.POST or None)
    if (
        request.method == "POST"
        and form.is_valid()
        and form.save(user=request.user, request=request)
    ):
        messages.success(request, _("Your password has been changed."))
        return redirect("portal:dashboard")
    forced = PASSWORD_STEP in request.pending_steps
    return render(request, "portal/password_change.html", {"form": form, "forced": forced})


@resident_page(steps=(RULES_STEP,))
def rules(request):
    cooperative = request.tenant
    pending = RULES_STEP in request.pending_steps
    form = RulesForm(request.POST or None, initial={"version": cooperative.rules_version})
    if request.method == "POST" and pending and form.is_valid():
        try:
            services.accept_rules(
                user=request.user,
                version=form.cleaned_data["version"],
                current_version=cooperative.rules_version,
                request=request,
            )
        except ValidationError:
            messages.warning(
                request,
                _("The rules changed while you were reading them. Please read the current rules."),
            )
            return redirect("portal:rules")
        messages.success(request, _("Thank you. You have accepted the rules of use."))
        return redirect("portal:dashboard")
    return render(request, "portal/rules.html", {"form": form, "pending": pending})


@resident_page
def account(request):
    context = {
        "logins": list(selectors.recent_logins(request.user)),
        "two_factor_on": two_factor.has_authenticator(request.user),
        **session_views.sessions_context(request, "portal", "logout_everywhere"),
    }
    return render(request, "portal/account.html", context)


@require_POST
@resident_page
@recent_authentication_required
def logout_everywhere(request):
    return session_views.end_others(request, "portal:account")


@require_POST
@resident_page
@recent_authentication_required
def end_session(request, pk):
    return session_views.end_one(request, pk, "portal:account")


@require_POST
@resident_page
@recent_authentication_required
def revoke_token(request, pk):
    return session_views.revoke(request, pk, "portal:account")
