"""OpenAPI description helpers: the bearer scheme and the documented errors."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "ebok.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from POST /api/v1/auth/token/, valid for its cooperative only.",
        }


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Machine-readable reason, e.g. invalid, not_authenticated, "
        "authentication_failed, invalid_credentials, password_change_required, "
        "rules_acceptance_required, permission_denied, not_found, conflict, throttled."
    )
    message = serializers.CharField(help_text="Human-readable, in the request's language.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="For invalid input: the messages of each field (empty otherwise).",
    )
    version = serializers.IntegerField(
        required=False,
        help_text="With password_change_required and rules_acceptance_required: "
        "the version of the current rules of use.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


# The schema is documentation for developers: in English.
ERROR_DESCRIPTIONS = {
    400: "Invalid input: `fields` names what is wrong.",
    401: "No token, an invalid or expired token, or (for POST /auth/token/) wrong "
    "credentials or a blocked account.",
    403: "The account may not use this endpoint (another kind of account or a role that may "
    "only read), or must first replace its issued password (`password_change_required`) "
    "or accept the current rules (`rules_acceptance_required`, with `version`).",
    404: "Not found, or not one of yours (the API never says which).",
    406: "The Accept header asks for a format this endpoint does not produce.",
    409: "The account's state does not allow this (e.g. already has an account).",
    415: "The body is not JSON.",
    429: "Too many requests or login attempts; retry after Retry-After seconds.",
}


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    return {
        code: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code])
        for code in statuses
    }


# Every endpoint behind a token can answer these.
AUTHENTICATED = (401, 403, 406, 429)
# And those that take a JSON body these.
WITH_BODY = (400, 415)
