"""What every API view shares: who may call it and how lists are paged."""

from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated

from ebok.api.permissions import (
    FirstLoginComplete,
    IsResident,
    IsStaff,
    StaffMayAct,
    TokenRecentForWrites,
)
from ebok.api.serializers import INTEGER_PATTERN


class Pagination(PageNumberPagination):
    page_size = 50

    def get_page_number(self, request, paginator):
        values = request.query_params.getlist(self.page_query_param)
        if not values:
            return 1
        if len(values) > 1 or not INTEGER_PATTERN.fullmatch(values[0]):
            raise ValidationError({self.page_query_param: [_("A page number, once.")]})
        return values[0]


class ResidentAPIMixin:
    """Residents' endpoints: a ready resident account (first-login steps done)."""

    permission_classes = [IsAuthenticated, FirstLoginComplete, IsResident]


class StaffAPIMixin:
    """Staff endpoints: viewers read, operators and administrators act."""

    permission_classes = [
        IsAuthenticated,
        FirstLoginComplete,
        IsStaff,
        StaffMayAct,
        TokenRecentForWrites,
    ]


def valid_query(serializer_class, request) -> dict:
    """The query string, validated (400 in the error shape when invalid).

    Stricter than a form: a single-valued parameter given twice or empty is an
    error, not "the last one" or "not given"."""
    serializer = serializer_class(data=request.query_params)
    errors = {}
    for name, field in serializer.fields.items():
        values = request.query_params.getlist(name)
        if isinstance(field, serializers.ListField):
            continue
        if len(values) > 1:
            errors[name] = [_("Give this parameter once.")]
        elif values == [""]:
            errors[name] = [_("This field may not be blank.")]
    if errors:
        raise ValidationError(errors)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def valid_body(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
