"""The caller's own account: who am I, replace the password, accept the rules;
and the cooperative's public contact data and rules of use."""

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from ebok.accounts import services
from ebok.accounts.selectors import pending_first_login_steps
from ebok.api.permissions import FirstLoginComplete
from ebok.api.schema import AUTHENTICATED, WITH_BODY, errors
from ebok.api.serializers import (
    CooperativeSerializer,
    MeSerializer,
    PasswordChangeSerializer,
    RulesAcceptanceSerializer,
    TokenSerializer,
)
from ebok.api.views.auth import token_response
from ebok.api.views.base import valid_body


def me_data(request) -> dict:
    steps = pending_first_login_steps(request.user, request.tenant.rules_version)
    return MeSerializer(request.user, context={"pending_steps": steps}).data


class MeView(APIView):
    permission_classes = [IsAuthenticated, FirstLoginComplete]

    @extend_schema(
        tags=["account"],
        summary="The account of this token",
        responses={200: MeSerializer, **errors(*AUTHENTICATED)},
    )
    def get(self, request):
        return Response(me_data(request))


class PasswordView(APIView):
    # Open before the first-login steps are done: this is one of them.
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["account"],
        summary="Replace the password",
        description="Every session and token of the account ends, this one included; "
        "the answer carries a new token for this client.",
        request=PasswordChangeSerializer,
        responses={201: TokenSerializer, **errors(*AUTHENTICATED, *WITH_BODY)},
    )
    def post(self, request):
        data = valid_body(PasswordChangeSerializer, request)
        # Django's request, not DRF's: the API has no session to keep.
        services.change_password(
            user=request.user, current=data["current"], new=data["new"], request=request._request
        )
        return token_response(*services.issue_api_token(request.user))


class RulesView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["account"],
        summary="Accept the cooperative's current rules of use",
        description="`version` must be the current one (GET /api/v1/cooperative/).",
        request=RulesAcceptanceSerializer,
        responses={200: MeSerializer, **errors(*AUTHENTICATED, *WITH_BODY)},
    )
    def post(self, request):
        data = valid_body(RulesAcceptanceSerializer, request)
        services.accept_rules(
            user=request.user,
            version=data["version"],
            current_version=request.tenant.rules_version,
            request=request._request,
        )
        return Response(me_data(request))


class CooperativeView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["cooperative"],
        summary="The cooperative: contact data of the rent department and rules of use",
        auth=[],
        responses={200: CooperativeSerializer, **errors(406, 429)},
    )
    def get(self, request):
        return Response(CooperativeSerializer(request.tenant).data)
