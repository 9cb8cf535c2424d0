from django.http import HttpResponse
from django.utils.translation import gettext as _


def lockout_response(request, credentials, *args, **kwargs):
    return HttpResponse(
        _("Too many failed login attempts. Try again in 15 minutes."),
        status=429,
        content_type="text/plain; charset=utf-8",
    )
