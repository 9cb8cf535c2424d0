"""Every API error has one shape: ``{"error": {"code", "message", "fields"}}``."""

from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    fields = {}
    if isinstance(exc, exceptions.ValidationError) and isinstance(response.data, dict):
        fields = {
            key: [str(m) for m in (value if isinstance(value, list) else [value])]
            for key, value in response.data.items()
        }
        message = "Invalid input."
        code = "invalid"
    else:
        detail = getattr(exc, "detail", None)
        message = str(detail) if detail is not None else str(exc)
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
    extra = getattr(exc, "extra", None) or {}
    response.data = {"error": {"code": code, "message": message, "fields": fields, **extra}}
    return response
