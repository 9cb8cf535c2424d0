"""The cooperative's accounting copy (written only by ``connectors.apply``) and
the portal's own records. Table names are fixed: the package import writes
them with set-based SQL."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 14, "decimal_places": 2}

# Identifiers from the accounting system compare byte by byte ("C"): they are
# codes, not words, and their indexes (millions of ledger rows) sort faster so.
# Foreign keys to them inherit the collation; comparing them with a column of
# another collation needs an explicit COLLATE.
ACCOUNTING_ID = {"db_collation": "C"}


class Premises(models.Model):
    class Kind(models.TextChoices):
        FLAT = "M", _("flat")
        GARAGE = "G", _("garage")
        COMMERCIAL = "U", _("commercial unit")
        STORAGE = "P", _("storage room")

    source_id = models.CharField(max_length=20, unique=True, **ACCOUNTING_ID)  # ID_LOKALU
    account_number = models.CharField(max_length=40, db_index=True)  # NR_KARTOTEKI
    kind = models.CharField(max_length=1, choices=Kind.choices)
    street_address = models.CharField(max_length=200)
    unit_number = models.CharField(max_length=20, blank=True)
    postal_code = models.CharField(max_length=10)
    city = models.CharField(max_length=100)
    area = models.DecimalField(max_digits=10, decimal_places=2)
    bank_account = models.CharField(max_length=26)

    class Meta:
        db_table = "ebok_premises"
        verbose_name = _("premises")
        verbose_name_plural = _("premises")

    def __str__(self):
        return self.address

    @property
    def address(self) -> str:
        unit = f"/{self.unit_number}" if self.unit_number else ""
        return f"{self.street_address}{unit}, {self.postal_code} {self.city}"


class Person(models.Model):
    source_id = models.CharField(max_length=40, unique=True, **ACCOUNTING_ID)  # ID_OSOBY
    last_name = models.CharField(max_length=200)
    first_name = models.CharField(max_length=100, blank=True)
    email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    correspondence_address = models.CharField(max_length=300, blank=True)

    class Meta:
        db_table = "ebok_person"

    def __str__(self):
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Title(models.Model):
    class Kind(models.TextChoices):
        TENANT_RIGHT = "L", _("cooperative tenant's right")
        OWNERSHIP_RIGHT = "W", _("cooperative ownership right")
        SEPARATE_OWNERSHIP = "O", _("separate ownership")
        LEASE = "N", _("lease")

    person = models.ForeignKey(
        Person,
        to_field="source_id",
        on_delete=models.DO_NOTHING,
        related_name="titles",
        db_constraint=False,
    )
    premises = models.ForeignKey(
        Premises,
        to_field="source_id",
        on_delete=models.DO_NOTHING,
        related_name="titles",
        db_constraint=False,
    )
    kind = models.CharField(max_length=1, choices=Kind.choices)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)

    class Meta:
        db_table = "ebok_title"
        indexes = [models.Index(fields=["person", "premises"])]


class Balance(models.Model):
    premises = models.OneToOneField(
        Premises,
        to_field="source_id",
        on_delete=models.DO_NOTHING,
        related_name="balance",
        db_constraint=False,
    )
    amount = models.DecimalField(**MONEY)  # > 0 owed, < 0 overpaid
    as_of = models.DateField()

    class Meta:
        db_table = "ebok_balance"


LEDGER_TABLE = "ebok_ledger_entry"


class LedgerEntry(models.Model):
    class Kind(models.TextChoices):
        OPENING_BALANCE = "BO", _("opening balance")
        CHARGE = "NAL", _("charge")
        PAYMENT = "WPL", _("payment")
        CORRECTION = "KOR", _("correction")
        INTEREST = "ODS", _("interest")
        SETTLEMENT = "ROZ", _("settlement")

    # The largest table: only the indexes the import and the portal use. ID_ZAPISU
    # is the key (one index serves identity, the delta's upserts and duplicate
    # checks); the composite index below serves lookups by premises.
    source_id = models.CharField(max_length=40, primary_key=True, **ACCOUNTING_ID)  # ID_ZAPISU
    # The order entries arrived in (a package's file order, a later package's entries
    # after it): it orders the entries of one day. An identity column the database
    # numbers; the ORM never sends it.
    position = models.BigIntegerField(
        editable=False,
        db_default=models.Func(models.Value(f"{LEDGER_TABLE}_position_seq"), function="nextval"),
    )
    premises = models.ForeignKey(
        Premises,
        to_field="source_id",
        on_delete=models.DO_NOTHING,
        related_name="ledger",
        db_constraint=False,
        db_index=False,
    )
    posted_on = models.DateField()
    document_date = models.DateField(null=True, blank=True)
    due_on = models.DateField(null=True, blank=True)
    kind = models.CharField(max_length=3, choices=Kind.choices)
    component = models.CharField(max_length=20, blank=True)
    description = models.CharField(max_length=300, blank=True)
    debit = models.DecimalField(**MONEY)
    credit = models.DecimalField(**MONEY)

    class Meta:
        db_table = LEDGER_TABLE
        indexes = [
            models.Index(
                fields=["premises", "posted_on", "position"], name="ledger_premises_posted"
            )
        ]


class Charge(models.Model):
    """One component of the current monthly charge."""

    premises = models.ForeignKey(
        Premises,
        to_field="source_id",
        on_delete=models.DO_NOTHING,
        related_name="charges",
        db_constraint=False,
    )
    component = models.CharField(max_length=20)
    name = models.CharField(max_length=200)
    base = models.DecimalField(max_digits=14, decimal_places=4)
    unit = models.CharField(max_length=20, blank=True)
    rate = models.DecimalField(max_digits=14, decimal_places=4)
    amount = models.DecimalField(**MONEY)
    valid_from = models.DateField()

    class Meta:
        db_table = "ebok_charge"
        indexes = [models.Index(fields=["premises", "component"])]


class Parameter(models.Model):
    premises = models.ForeignKey(
        Premises,
        to_field="source_id",
        on_delete=models.DO_NOTHING,
        related_name="parameters",
        db_constraint=False,
    )
    code = models.CharField(max_length=40)
    name = models.CharField(max_length=200)
    value = models.CharField(max_length=200)
    unit = models.CharField(max_length=20, blank=True)
    valid_from = models.DateField(null=True, blank=True)

    class Meta:
        db_table = "ebok_parameter"
        indexes = [models.Index(fields=["premises", "code"])]


class MeterReading(models.Model):
    premises = models.ForeignKey(
        Premises,
        to_field="source_id",
        on_delete=models.DO_NOTHING,
        related_name="readings",
        db_constraint=False,
    )
    meter = models.CharField(max_length=60)
    read_on = models.DateField()
    value = models.DecimalField(max_digits=14, decimal_places=3)
    unit = models.CharField(max_length=20, blank=True)

    class Meta:
        db_table = "ebok_meter_reading"
        indexes = [models.Index(fields=["premises", "meter", "read_on"])]


class Document(models.Model):
    class Kind(models.TextChoices):
        FEE_NOTICE = "ZAW", _("fee notice")
        WATER_SETTLEMENT = "ROZ_WODA", _("water settlement")
        HEATING_SETTLEMENT = "ROZ_CO", _("heating settlement")
        PAYMENT_REMINDER = "UPO", _("payment reminder")
        RESOLUTION = "UCH", _("resolution")
        RULES = "REG", _("rules")
        REPORT = "SPR", _("report")
        OTHER = "INNE", _("other")

    source_id = models.CharField(max_length=40, unique=True, **ACCOUNTING_ID)  # ID_DOKUMENTU
    # Empty for a document addressed to every resident of the cooperative.
    premises = models.ForeignKey(
        Premises,
        to_field="source_id",
        on_delete=models.DO_NOTHING,
        related_name="documents",
        null=True,
        blank=True,
        db_constraint=False,
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    title = models.CharField(max_length=300)
    issued_on = models.DateField()
    file_name = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    # Path in the cooperative's private storage (content-addressed by sha256).
    stored_path = models.CharField(max_length=300)

    class Meta:
        db_table = "ebok_document"
        indexes = [models.Index(fields=["premises", "issued_on"])]


class DataFreshness(models.Model):
    """What residents see as "as of": the last applied package. One row."""

    package_number = models.PositiveBigIntegerField()
    as_of = models.DateField()
    applied_at = models.DateTimeField()
    checksum = models.CharField(max_length=64)

    class Meta:
        db_table = "ebok_data_freshness"


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    key_hash = models.CharField(max_length=64, unique=True)  # SHA-256 of the bearer token
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        db_table = "ebok_api_token"


class LoginRecord(models.Model):
    """A resident's or staff member's login history (removed on erasure)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="logins"
    )
    at = models.DateTimeField(auto_now_add=True)
    ip_address = models.GenericIPAddressField(null=True)
    user_agent = models.CharField(max_length=300, blank=True)
    # Lets "end every session" and erasure delete the stored sessions themselves.
    session_key = models.CharField(max_length=40, blank=True, db_index=True)

    class Meta:
        db_table = "ebok_login_record"


class AuditEvent(models.Model):
    """Who did what to which account. Never a password or a token."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor_login = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=40, db_index=True)
    target_login = models.CharField(max_length=64, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(null=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "ebok_audit_event"
        ordering = ["-at"]


class ErasureRecord(models.Model):
    """The minimal trace of an account erased on the owner's written request."""

    erased_at = models.DateTimeField(auto_now_add=True)
    erased_by = models.CharField(max_length=64)
    request_date = models.DateField()
    request_reference = models.CharField(max_length=100)
    # The accounting person it concerned, so a later grant is a conscious act.
    person_source_id = models.CharField(max_length=40, db_index=True)

    class Meta:
        db_table = "ebok_erasure_record"
