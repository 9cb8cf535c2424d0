from django.contrib import admin
from django_otp.admin import OTPAdminSite

from tenants.models import Cooperative, Domain

# The Django admin asks for the operator's second factor too (docs/decisions/0701).
admin.site.__class__ = OTPAdminSite


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Cooperative)
class CooperativeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "is_active", "created_at")
    search_fields = ("code", "name")
    inlines = [DomainInline]
    # The logo is set in the panel, where it is checked and scanned (decision 0782).
    exclude = ("schema_name", "logo")
