"""Every API error has one shape: ``{"error": {"code", "message", "fields"}}``.

DRF's own errors (400, 401, 403, 404, 405, 406, 415, 429), Django's ``Http404``
and ``ValidationError``, the account services' refusals and anything
unexpected all leave the API in that shape.
"""

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from connectors.services import SyncNotConfigured
from ebok.accounts import denials
from ebok.accounts.services import AccountError

logger = logging.getLogger("ebok.api")


class Conflict(exceptions.APIException):
    """The request is valid but the account's state does not allow it."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class FirstLoginStepRequired(exceptions.PermissionDenied):
    """The account must replace its issued password or accept the rules first."""

    denial_kind = ""  # a step the account itself must take, not a refused access

    def __init__(self, step: str, message: str, version: int):
        super().__init__(detail=message, code=step)
        self.extra = {"version": version}


def error_body(code: str, message: str, fields: dict | None = None, **extra) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}, **extra}}


def _messages(value) -> list[str]:
    if isinstance(value, dict):
        return [f"{key}: {message}" for key, item in value.items() for message in _messages(item)]
    if isinstance(value, list | tuple):
        return [message for item in value for message in _messages(item)]
    return [str(value)]


def _validation_fields(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {str(key): _messages(value) for key, value in detail.items()}
    return {"non_field_errors": _messages(detail)}


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _lazy("The request body is too large.")
    default_code = "payload_too_large"


def _translate(exc):
    """Django's and the services' exceptions, as the DRF exceptions they mean."""
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, SuspiciousOperation):  # e.g. too many fields: a bad request, not a 500
        return exceptions.ParseError()
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        return exceptions.ValidationError(detail)
    if isinstance(exc, AccountError | SyncNotConfigured):
        return Conflict(str(exc))
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied()
    return exc


def exception_handler(exc, context):
    if context.get("request") is not None:
        denials.record_exception(context["request"]._request, exc)
    exc = _translate(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("Unexpected error in %s", context.get("view"), exc_info=exc)
        return Response(
            error_body("server_error", _("Internal error. Try again later.")),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body(
            "invalid", _("Invalid input."), _validation_fields(response.data)
        )
        return response
    detail = getattr(exc, "detail", None)
    message = str(detail) if detail is not None else str(exc)
    code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
    response.data = error_body(code, message, **(getattr(exc, "extra", None) or {}))
    return response


def not_found(request, *args, **kwargs):
    """Any address under the API that names no endpoint."""
    return JsonResponse(error_body("not_found", _("Not found.")), status=404)
