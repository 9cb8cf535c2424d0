"""Staff endpoints: find people, manage their e-BOK accounts, watch the syncs.

Viewers read; operators and administrators act. Every write goes through the
account services, exactly as in the staff console.
"""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from connectors import selectors as sync_selectors
from connectors.models import SyncRun
from ebok.accounts import audit, services
from ebok.api.schema import AUTHENTICATED, WITH_BODY, errors
from ebok.api.serializers import (
    BlockSerializer,
    CredentialsSerializer,
    EraseSerializer,
    ErasureSerializer,
    GrantSerializer,
    PersonSearchSerializer,
    PersonSerializer,
    SyncRunQuerySerializer,
    SyncRunSerializer,
    SyncStartedSerializer,
)
from ebok.api.views.base import Pagination, StaffAPIMixin, valid_body, valid_query
from ebok.panel import selectors as people
from ebok.panel import services as panel_services

PERSON_ID = OpenApiParameter(
    "person_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="The person's ID_OSOBY."
)
ACTION_ERRORS = (*AUTHENTICATED, *WITH_BODY, 404, 409)


class PersonSearchView(StaffAPIMixin, GenericAPIView):
    """A POST that only reads: the words name people, and a body keeps them out of
    URLs, where access logs and proxies would keep them (ASVS 8.3.1)."""

    posted_reads = True
    serializer_class = PersonSerializer
    pagination_class = Pagination

    @extend_schema(
        operation_id="staff_persons_search",
        tags=["staff"],
        summary="Find people of the accounting data, with their premises and account",
        description="The words go in the body, never in the URL; the page number "
        "(`?page=N`) stays in the query string. It only reads: viewers may call it, "
        "and a token of any age within its lifetime will do.",
        request=PersonSearchSerializer,
        responses={200: PersonSerializer(many=True), **errors(*AUTHENTICATED, *WITH_BODY, 404)},
    )
    def post(self, request):
        found = people.search_people(valid_body(PersonSearchSerializer, request)["q"])
        self.paginate_queryset(found)
        # The page as a queryset again, so the cards' reads stay a few queries.
        page = self.paginator.page
        bottom = (page.number - 1) * page.paginator.per_page
        cards = people.people_cards(found[bottom : bottom + len(page)])
        audit.record_read("api.persons", actor=request.user, request=request, results=len(cards))
        return self.get_paginated_response(PersonSerializer(cards, many=True).data)


class PersonDetailView(StaffAPIMixin, APIView):
    @extend_schema(
        tags=["staff"],
        summary="One person, with their premises and account",
        parameters=[PERSON_ID],
        responses={200: PersonSerializer, **errors(*AUTHENTICATED, 404)},
    )
    def get(self, request, person_id):
        card = people.person_card(person_id)
        audit.record_card_read("api.person", card, actor=request.user, request=request)
        return Response(PersonSerializer(card).data)


class _AccountActionView(StaffAPIMixin, APIView):
    """An action on the e-BOK account of the person in the path."""

    def account(self, person_id):
        account = people.person_card(person_id).account
        if account is None:
            raise NotFound(_("This person has no e-BOK account."))
        return account

    def person_data(self, person_id) -> dict:
        return PersonSerializer(people.person_card(person_id)).data


def _action_schema(summary, request, response, description=""):
    return extend_schema(
        tags=["staff"],
        summary=summary,
        description=description,
        parameters=[PERSON_ID],
        request=request,
        responses={200: response, **errors(*ACTION_ERRORS)},
    )


class GrantView(_AccountActionView):
    @extend_schema(
        tags=["staff"],
        summary="Create the person's e-BOK account with an issued password",
        description="The password is in this answer only; the account must replace it at "
        "first login. 409 when the person already has an account, or had one erased on "
        "request and `confirm_after_erasure` is not true.",
        parameters=[PERSON_ID],
        request=GrantSerializer,
        responses={201: CredentialsSerializer, **errors(*ACTION_ERRORS)},
    )
    def post(self, request, person_id):
        people.person_card(person_id)  # 404 for an unknown person
        data = valid_body(GrantSerializer, request)
        issued = services.grant_access(
            person_source_id=person_id,
            confirm_after_erasure=data["confirm_after_erasure"],
            actor=request.user,
            request=request._request,
        )
        return Response(_credentials(person_id, issued.user.login, issued.password), status=201)


def _credentials(person_id, login, password) -> dict:
    return CredentialsSerializer({"person": person_id, "login": login, "password": password}).data


class RegenerateView(_AccountActionView):
    @_action_schema(
        "Issue a new random password",
        None,
        CredentialsSerializer,
        "The old password stops working and every session and token of the account ends.",
    )
    def post(self, request, person_id):
        account = self.account(person_id)
        issued = services.regenerate_password(
            user=account, actor=request.user, request=request._request
        )
        return Response(_credentials(person_id, account.login, issued.password))


class BlockView(_AccountActionView):
    @_action_schema(
        "Block the account", BlockSerializer, PersonSerializer, "Every session and token ends."
    )
    def post(self, request, person_id):
        account = self.account(person_id)
        data = valid_body(BlockSerializer, request)
        services.block_account(
            user=account,
            reason=data["reason"],
            note=data["note"],
            actor=request.user,
            request=request._request,
        )
        return Response(self.person_data(person_id))


class UnblockView(_AccountActionView):
    @_action_schema("Unblock the account", None, PersonSerializer)
    def post(self, request, person_id):
        services.unblock_account(
            user=self.account(person_id), actor=request.user, request=request._request
        )
        return Response(self.person_data(person_id))


class EraseView(_AccountActionView):
    @_action_schema(
        "Erase the account on the owner's written request",
        EraseSerializer,
        ErasureSerializer,
        "The account and its personal data leave the portal; a minimal record of the "
        "erasure stays.",
    )
    def post(self, request, person_id):
        account = self.account(person_id)
        data = valid_body(EraseSerializer, request)
        record = services.erase_account(
            user=account,
            request_reference=data["reference"],
            request_date=data["request_date"],
            actor=request.user,
            request=request._request,
        )
        return Response(ErasureSerializer(record).data)


class SyncRunListView(StaffAPIMixin, APIView):
    @extend_schema(
        tags=["staff"],
        summary="The latest syncs of the accounting data, newest first",
        parameters=[SyncRunQuerySerializer],
        responses={200: SyncRunSerializer(many=True), **errors(*AUTHENTICATED, 400)},
    )
    def get(self, request):
        limit = valid_query(SyncRunQuerySerializer, request)["limit"]
        runs = sync_selectors.recent_runs(request.tenant, limit=limit)
        return Response(SyncRunSerializer(runs, many=True).data)


class SyncRunDetailView(StaffAPIMixin, APIView):
    @extend_schema(
        tags=["staff"],
        summary="One sync, with its progress while it runs",
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={200: SyncRunSerializer, **errors(*AUTHENTICATED, 404)},
    )
    def get(self, request, pk):
        return Response(SyncRunSerializer(get_object_or_404(SyncRun, pk=pk)).data)


class SyncNowView(StaffAPIMixin, APIView):
    @extend_schema(
        tags=["staff"],
        summary="Start a sync now",
        description="Queued for the sync worker; follow it in GET /api/v1/staff/sync-runs/.",
        request=None,
        responses={
            202: OpenApiResponse(SyncStartedSerializer, description="Queued."),
            **errors(*AUTHENTICATED, 409),
        },
    )
    def post(self, request):
        task_id = panel_services.start_manual_sync(
            request.tenant, trigger="api", actor=request.user, request=request._request
        )
        return Response(SyncStartedSerializer({"task_id": task_id}).data, status=202)
