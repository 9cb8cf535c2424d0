"""Residents' endpoints: only the caller's current premises and their documents.
Anything else is 404, never 403: the API does not say what exists."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from ebok import selectors
from ebok.api.schema import AUTHENTICATED, errors
from ebok.api.serializers import (
    ChargeSerializer,
    DocumentQuerySerializer,
    DocumentSerializer,
    LedgerEntrySerializer,
    LedgerQuerySerializer,
    MeterReadingSerializer,
    ParameterSerializer,
    PremisesSerializer,
)
from ebok.api.views.base import Pagination, ResidentAPIMixin, valid_query
from ebok.files import document_attachment

PREMISES_ID = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The premises' `id`."
)
NOT_FOUND = (*AUTHENTICATED, 404)


def _with_freshness(premises_list):
    freshness = selectors.data_freshness()
    for premises in premises_list:
        premises.refreshed_at = freshness.applied_at if freshness else None
    return premises_list


class PremisesListView(ResidentAPIMixin, APIView):
    @extend_schema(
        tags=["residents"],
        summary="The caller's current premises with their balances",
        responses={200: PremisesSerializer(many=True), **errors(*AUTHENTICATED)},
    )
    def get(self, request):
        premises = _with_freshness(list(selectors.current_premises(request.user)))
        return Response(PremisesSerializer(premises, many=True).data)


class PremisesDetailView(ResidentAPIMixin, APIView):
    @extend_schema(
        tags=["residents"],
        summary="One of the caller's current premises",
        parameters=[PREMISES_ID],
        responses={200: PremisesSerializer, **errors(*NOT_FOUND)},
    )
    def get(self, request, pk):
        premises = selectors.premises_of(request.user, pk)
        return Response(PremisesSerializer(_with_freshness([premises])[0]).data)


class LedgerView(ResidentAPIMixin, ListAPIView):
    serializer_class = LedgerEntrySerializer
    pagination_class = Pagination

    def get_queryset(self):
        premises = selectors.premises_of(self.request.user, self.kwargs["pk"])
        query = valid_query(LedgerQuerySerializer, self.request)
        return selectors.ledger(
            premises,
            date_from=query.get("from"),
            date_to=query.get("to"),
            kinds=query.get("kind"),
        )

    @extend_schema(
        tags=["residents"],
        summary="The premises' ledger: charges, payments, corrections",
        description="In posting order, each entry with the balance after it.",
        parameters=[PREMISES_ID, LedgerQuerySerializer],
        responses={200: LedgerEntrySerializer(many=True), **errors(*NOT_FOUND, 400)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class _PremisesListView(ResidentAPIMixin, APIView):
    """A list of one kind of the premises' data, read by ``selector``."""

    serializer_class = None
    selector = None

    def get(self, request, pk):
        premises = selectors.premises_of(request.user, pk)
        rows = type(self).selector(premises)
        return Response(self.serializer_class(rows, many=True).data)


def _premises_list_schema(serializer, summary):
    return extend_schema(
        tags=["residents"],
        summary=summary,
        parameters=[PREMISES_ID],
        responses={200: serializer(many=True), **errors(*NOT_FOUND)},
    )


@_premises_list_schema(ChargeSerializer, "The current monthly charge, by component")
class ChargesView(_PremisesListView):
    serializer_class = ChargeSerializer
    selector = selectors.charges


@_premises_list_schema(ParameterSerializer, "The premises' parameters (area, persons, meters)")
class ParametersView(_PremisesListView):
    serializer_class = ParameterSerializer
    selector = selectors.parameters


@_premises_list_schema(MeterReadingSerializer, "Meter readings, newest first per meter")
class ReadingsView(_PremisesListView):
    serializer_class = MeterReadingSerializer
    selector = selectors.readings


class DocumentListView(ResidentAPIMixin, ListAPIView):
    serializer_class = DocumentSerializer
    pagination_class = Pagination

    def get_queryset(self):
        kind = valid_query(DocumentQuerySerializer, self.request).get("kind")
        return selectors.documents(self.request.user, kind=kind).select_related("premises")

    @extend_schema(
        tags=["residents"],
        summary="Documents of the caller's premises and for every resident, newest first",
        parameters=[DocumentQuerySerializer],
        responses={200: DocumentSerializer(many=True), **errors(*NOT_FOUND, 400)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class JSONErrorsOnly(BaseContentNegotiation):
    """The file endpoint answers a PDF whatever the Accept header; its errors in JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None


class DocumentFileView(ResidentAPIMixin, APIView):
    content_negotiation_class = JSONErrorsOnly

    @extend_schema(
        tags=["residents"],
        summary="A document's PDF, as an attachment",
        parameters=[
            OpenApiParameter(
                "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The document's `id`."
            )
        ],
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF."),
            **errors(*NOT_FOUND),
        },
    )
    def get(self, request, pk):
        return document_attachment(selectors.document_of(request.user, pk))
