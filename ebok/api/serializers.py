"""Shapes of the API: money as decimal strings, dates and times in ISO 8601.

Input fields are strict about JSON types (a number is not a string, a string
is not a boolean), so what the schema calls invalid is refused with 400.
"""

import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from connectors.models import SyncRun
from ebok.accounts.models import User
from ebok.accounts.selectors import issued_password_expired
from ebok.models import Charge, Document, LedgerEntry, MeterReading, Parameter, Premises

DATE_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
INTEGER_PATTERN = re.compile(r"-?[0-9]+")


def money(**kwargs):
    return serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True, **kwargs)


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictDateField(serializers.DateField):
    """Only ``YYYY-MM-DD`` (Python alone would also take ``20260101`` or ``2026-W01-1``)."""

    def to_internal_value(self, value):
        if not isinstance(value, str) or not DATE_PATTERN.fullmatch(value):
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(value)


class QueryIntegerField(serializers.IntegerField):
    """An integer in a query string: digits only (no ``2.0``, no spaces)."""

    def to_internal_value(self, data):
        if not isinstance(data, str) or not INTEGER_PATTERN.fullmatch(data):
            self.fail("invalid")
        return super().to_internal_value(data)


# --- Authentication and the account ----------------------------------------------


class LoginSerializer(serializers.Serializer):
    login = StrictCharField(max_length=64, trim_whitespace=False)
    password = StrictCharField(max_length=128, trim_whitespace=False)
    otp = StrictCharField(
        max_length=16,
        required=False,
        help_text="The one-time code (or a recovery code): required for staff, and for "
        "residents who turned on two-step verification.",
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Bearer <token>`.")
    expires = serializers.DateTimeField()


class PasswordChangeSerializer(serializers.Serializer):
    current = StrictCharField(max_length=128, trim_whitespace=False)
    new = StrictCharField(max_length=128, trim_whitespace=False)


class RulesAcceptanceSerializer(serializers.Serializer):
    version = StrictIntegerField(min_value=1, max_value=2**31 - 1)


class MeSerializer(serializers.ModelSerializer):
    email = serializers.CharField(read_only=True, help_text="May be empty.")
    role = serializers.ChoiceField(
        choices=User.Role.choices, allow_blank=True, read_only=True, help_text="Staff only."
    )
    pending_steps = serializers.SerializerMethodField(
        help_text="What the account must still do: password_change_required, "
        "rules_acceptance_required (empty when ready)."
    )

    class Meta:
        model = User
        fields = [
            "login",
            "kind",
            "role",
            "display_name",
            "email",
            "phone",
            "must_change_password",
            "rules_accepted_version",
            "pending_steps",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_pending_steps(self, user):
        return self.context["pending_steps"]


class CooperativeSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    contact_room = serializers.CharField()
    contact_address = serializers.CharField()
    contact_phone = serializers.CharField()
    contact_email = serializers.CharField()
    contact_hours = serializers.CharField()
    rules_version = serializers.IntegerField()
    rules_text = serializers.CharField()


# --- Residents ---------------------------------------------------------------------


class PremisesSerializer(serializers.ModelSerializer):
    source_id = serializers.CharField(read_only=True, help_text="ID_LOKALU in the accounting.")
    kind_name = serializers.CharField(source="get_kind_display", read_only=True)
    address = serializers.CharField(read_only=True)
    balance = money(
        source="balance.amount",
        allow_null=True,
        help_text="Greater than 0: owed; less than 0: overpaid. Null: no balance delivered.",
    )
    as_of = serializers.DateField(
        source="balance.as_of", read_only=True, allow_null=True, help_text="The balance's date."
    )
    refreshed_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When the accounting data were last applied."
    )
    monthly_charge = money(help_text="The current monthly charge, all components.")

    class Meta:
        model = Premises
        fields = [
            "id",
            "source_id",
            "account_number",
            "kind",
            "kind_name",
            "address",
            "area",
            "balance",
            "as_of",
            "refreshed_at",
            "bank_account",
            "monthly_charge",
        ]
        read_only_fields = fields


class LedgerEntrySerializer(serializers.ModelSerializer):
    source_id = serializers.CharField(read_only=True, help_text="ID_ZAPISU in the accounting.")
    kind_name = serializers.CharField(source="get_kind_display", read_only=True)
    running_balance = serializers.DecimalField(
        max_digits=16,
        decimal_places=2,
        read_only=True,
        help_text="The balance after this entry (all earlier entries, whatever the filters).",
    )

    class Meta:
        model = LedgerEntry
        fields = [
            "source_id",
            "posted_on",
            "document_date",
            "due_on",
            "kind",
            "kind_name",
            "component",
            "description",
            "debit",
            "credit",
            "running_balance",
        ]
        read_only_fields = fields


class LedgerQuerySerializer(serializers.Serializer):
    kind = serializers.ListField(
        child=serializers.ChoiceField(choices=LedgerEntry.Kind.choices),
        required=False,
        help_text="Only entries of these kinds (repeat the parameter for several).",
    )

    def get_fields(self):
        # "from" is a Python keyword: declared here rather than as class attributes.
        fields = super().get_fields()
        fields["from"] = StrictDateField(
            required=False, help_text="Posted on or after this day (YYYY-MM-DD)."
        )
        fields["to"] = StrictDateField(
            required=False, help_text="Posted on or before this day (YYYY-MM-DD)."
        )
        return fields


class ChargeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Charge
        fields = ["component", "name", "base", "unit", "rate", "amount", "valid_from"]
        read_only_fields = fields


class ParameterSerializer(serializers.ModelSerializer):
    class Meta:
        model = Parameter
        fields = ["code", "name", "value", "unit", "valid_from"]
        read_only_fields = fields


class MeterReadingSerializer(serializers.ModelSerializer):
    class Meta:
        model = MeterReading
        fields = ["meter", "read_on", "value", "unit"]
        read_only_fields = fields


class DocumentQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=Document.Kind.choices, required=False, help_text="Only documents of this kind."
    )


class DocumentSerializer(serializers.ModelSerializer):
    source_id = serializers.CharField(read_only=True, help_text="ID_DOKUMENTU in the accounting.")
    kind_name = serializers.CharField(source="get_kind_display", read_only=True)
    premises = serializers.IntegerField(
        source="premises.id",
        read_only=True,
        allow_null=True,
        help_text="The premises it concerns; null for a document for every resident.",
    )
    file = serializers.SerializerMethodField(help_text="Where to download the PDF.")

    class Meta:
        model = Document
        fields = [
            "id",
            "source_id",
            "kind",
            "kind_name",
            "title",
            "issued_on",
            "premises",
            "file_name",
            "sha256",
            "file",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_file(self, document) -> str:
        return reverse("api:document-file", args=[document.pk], request=self.context["request"])


# --- Staff ---------------------------------------------------------------------------


class PersonSearchSerializer(serializers.Serializer):
    q = StrictCharField(
        max_length=100,
        trim_whitespace=False,
        help_text="Words matched against the name, e-mail, person id and the account "
        "number and address of the person's premises; every word must match.",
    )


class HeldPremisesSerializer(serializers.ModelSerializer):
    kind_name = serializers.CharField(source="get_kind_display", read_only=True)
    address = serializers.CharField(read_only=True)

    class Meta:
        model = Premises
        fields = ["id", "source_id", "account_number", "kind", "kind_name", "address"]
        read_only_fields = fields


ACCOUNT_STATES = ["active", "pending", "expired", "blocked"]


class AccountStateSerializer(serializers.ModelSerializer):
    block_reason = serializers.ChoiceField(
        choices=User.BlockReason.choices, allow_blank=True, read_only=True
    )
    state = serializers.SerializerMethodField(
        help_text="active; pending: the issued password not yet replaced; expired: the "
        "issued password was not used in time; blocked."
    )

    class Meta:
        model = User
        fields = [
            "login",
            "state",
            "blocked_at",
            "block_reason",
            "block_note",
            "password_issued_at",
            "rules_accepted_version",
            "last_login",
            "date_joined",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=ACCOUNT_STATES))
    def get_state(self, user) -> str:
        if user.blocked_at is not None:
            return "blocked"
        if issued_password_expired(user):
            return "expired"
        return "pending" if user.must_change_password else "active"


class PersonSerializer(serializers.Serializer):
    """A person of the accounting data, their current premises and e-BOK account."""

    id = serializers.CharField(source="person.source_id", help_text="ID_OSOBY.")
    first_name = serializers.CharField(source="person.first_name")
    last_name = serializers.CharField(source="person.last_name")
    email = serializers.CharField(source="person.email")
    phone = serializers.CharField(source="person.phone")
    correspondence_address = serializers.CharField(source="person.correspondence_address")
    premises = HeldPremisesSerializer(many=True)
    account = AccountStateSerializer(allow_null=True, help_text="Null: no e-BOK account.")
    erased_at = serializers.SerializerMethodField(
        help_text="When an earlier account was erased on the owner's request (the latest)."
    )

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_erased_at(self, card):
        if not card.erasures:
            return None
        return serializers.DateTimeField().to_representation(card.erasures[0].erased_at)


class GrantSerializer(serializers.Serializer):
    confirm_after_erasure = StrictBooleanField(
        required=False,
        default=False,
        help_text="Required as true when an earlier account of the person was erased on "
        "request: a new written request was received.",
    )


class CredentialsSerializer(serializers.Serializer):
    person = serializers.CharField(help_text="ID_OSOBY.")
    login = serializers.CharField()
    password = serializers.CharField(
        help_text="The issued password, shown this once: it is stored only as a hash."
    )


class BlockSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=User.BlockReason.choices)
    note = StrictCharField(max_length=300, required=False, allow_blank=True, default="")


class EraseSerializer(serializers.Serializer):
    reference = StrictCharField(
        max_length=100,
        trim_whitespace=False,  # the service trims, and refuses an empty reference (409)
        help_text="The reference of the owner's written request.",
    )
    request_date = StrictDateField(help_text="The date of the written request.")


class ErasureSerializer(serializers.Serializer):
    person = serializers.CharField(source="person_source_id")
    reference = serializers.CharField(source="request_reference")
    request_date = serializers.DateField()
    erased_at = serializers.DateTimeField()
    erased_by = serializers.CharField()


class SyncRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = SyncRun
        fields = [
            "id",
            "started_at",
            "finished_at",
            "connector",
            "trigger",
            "source",
            "package_number",
            "checksum",
            "as_of",
            "mode",
            "counts",
            "duration_ms",
            "outcome",
            "errors",
        ]
        read_only_fields = fields


class SyncRunQuerySerializer(serializers.Serializer):
    limit = QueryIntegerField(
        min_value=1, max_value=200, required=False, default=50, help_text="How many, newest first."
    )


class SyncStartedSerializer(serializers.Serializer):
    task_id = serializers.CharField(help_text="The queued sync task.")
