"""What every API view shares: who may call it and how lists are paged."""

from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated

from ebok.api.permissions import FirstLoginComplete, IsResident, IsStaff, StaffMayAct


class Pagination(PageNumberPagination):
    page_size = 50


class ResidentAPIMixin:
    """Residents' endpoints: a ready resident account (first-login steps done)."""

    permission_classes = [IsAuthenticated, FirstLoginComplete, IsResident]


class StaffAPIMixin:
    """Staff endpoints: viewers read, operators and administrators act."""

    permission_classes = [IsAuthenticated, FirstLoginComplete, IsStaff, StaffMayAct]


def valid_query(serializer_class, request) -> dict:
    """The query string, validated (400 in the error shape when invalid)."""
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def valid_body(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
