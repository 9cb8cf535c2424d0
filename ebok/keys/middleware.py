"""A key service that does not answer is an outage, not a programming error."""

import logging

from django.template.response import TemplateResponse

from ebok.keys.transit import TransitError

security_log = logging.getLogger("ebok.security")
RETRY_AFTER_SECONDS = 60


class KeyServiceUnavailableMiddleware:
    """Vault Transit down while a request needs a key (a TOTP code to check, a connector
    secret to seal): 503 with a page that says so and a Retry-After, instead of the
    generic error page. The operation that needed the key did not happen."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, TransitError):
            return None
        security_log.error("Key service unavailable for %s: %s", request.path, exception)
        response = TemplateResponse(request, "keys/unavailable.html", status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
