"""Bearer tokens: obtain one with login and password, revoke it."""

from axes.helpers import get_cool_off
from django.contrib.auth import authenticate, user_logged_in, user_login_failed
from django.utils.translation import gettext_lazy as _
from django_otp import user_has_device
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from ebok.accounts import device_cookies, services, two_factor
from ebok.accounts.client_data import ON_REVOKE
from ebok.accounts.models import User
from ebok.api.authentication import BearerTokenAuthentication
from ebok.api.schema import AUTHENTICATED, WITH_BODY, errors
from ebok.api.serializers import LoginSerializer, TokenSerializer
from ebok.api.throttles import IPRateThrottle, LoginRateThrottle, TokenRateThrottle
from ebok.api.views.base import valid_body


class InvalidCredentials(exceptions.AuthenticationFailed):
    # One answer for a wrong login, a wrong password and a blocked account.
    default_detail = _("Wrong login or password, or the account may not log in.")
    default_code = "invalid_credentials"


def _second_factor_ok(user: User, otp: str) -> bool:
    """Staff always prove a second factor (enrolled in the staff console first);
    residents who turned it on prove it too. A recovery code works once."""
    if not two_factor.is_mandatory(user) and not user_has_device(user):
        return True
    return bool(otp) and two_factor.check_code(user, otp) is not None


def token_response(raw: str, token) -> Response:
    return Response(
        TokenSerializer({"token": raw, "expires": token.expires_at}).data,
        status=status.HTTP_201_CREATED,
    )


class TokenView(APIView):
    def _is_post(self) -> bool:
        # No request yet while the OpenAPI schema is generated.
        return getattr(self.request, "method", None) == "POST"

    def get_authenticators(self):
        # Obtaining a token never looks at a (possibly stale) Authorization header.
        return [] if self._is_post() else [BearerTokenAuthentication()]

    def get_authenticate_header(self, request):
        return BearerTokenAuthentication.keyword

    def get_permissions(self):
        return [AllowAny()] if self._is_post() else [IsAuthenticated()]

    def get_throttles(self):
        if self._is_post():
            return [IPRateThrottle(), LoginRateThrottle()]
        return [IPRateThrottle(), TokenRateThrottle()]

    @extend_schema(
        tags=["auth"],
        summary="Obtain a bearer token",
        description="With the account's login and password, and for staff (or a resident "
        "with two-step verification) the one-time code. Wrong credentials and a blocked "
        "account get the same 401; repeated failures lock the login out for a while (429).",
        request=LoginSerializer,
        responses={201: TokenSerializer, **errors(*WITH_BODY, 401, 406, 429)},
        auth=[],
    )
    def post(self, request):
        data = valid_body(LoginSerializer, request)
        # Django's own request, so django-axes counts failures and locks out.
        django_request = request._request
        user = authenticate(django_request, username=data["login"], password=data["password"])
        if getattr(django_request, "axes_locked_out", False):
            # Answered here in the API's error shape rather than by axes' middleware.
            django_request.axes_locked_out = False
            cool_off = get_cool_off(django_request)
            raise exceptions.Throttled(
                wait=cool_off.total_seconds() if cool_off else None,
                detail=str(_("Too many failed login attempts.")),
                code="locked_out",
            )
        if refusal := device_cookies.take_refusal(django_request):
            # The account's cap for untrusted clients: an API client never has a device cookie.
            raise exceptions.Throttled(
                wait=refusal.retry_after,
                detail=str(_("Too many failed login attempts.")),
                code="locked_out",
            )
        if user is None or user.kind not in (User.Kind.RESIDENT, User.Kind.STAFF):
            raise InvalidCredentials
        if not _second_factor_ok(user, data.get("otp", "")):
            user_login_failed.send(
                sender=__name__, credentials={"username": data["login"]}, request=django_request
            )
            raise InvalidCredentials
        raw, token = services.issue_api_token(user)
        user_logged_in.send(sender=user.__class__, request=django_request, user=user)
        return token_response(raw, token)

    @extend_schema(
        tags=["auth"],
        summary="Revoke the token of this request",
        request=None,
        responses={204: OpenApiResponse(description="Revoked."), **errors(*AUTHENTICATED)},
    )
    def delete(self, request):
        services.revoke_api_token(request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT, headers={"Clear-Site-Data": ON_REVOKE})
