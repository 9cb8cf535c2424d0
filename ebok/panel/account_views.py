"""The staff member's own account page: active sessions and API tokens, each
one to end after re-entering the password (step-up)."""

from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from ebok.accounts import session_views
from ebok.accounts.step_up import recent_authentication_required
from ebok.panel.access import viewer_required

BACK = "panel:account"


@never_cache
@viewer_required
@require_GET
def account(request):
    context = session_views.sessions_context(request, "panel", "end_other_sessions")
    return render(request, "panel/account.html", context)


@viewer_required
@require_POST
@recent_authentication_required
def end_session(request, pk):
    return session_views.end_one(request, pk, BACK)


@viewer_required
@require_POST
@recent_authentication_required
def end_other_sessions(request):
    return session_views.end_others(request, BACK)


@viewer_required
@require_POST
@recent_authentication_required
def revoke_token(request, pk):
    return session_views.revoke(request, pk, BACK)
