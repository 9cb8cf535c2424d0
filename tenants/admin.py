from django.contrib import admin

from tenants.models import Cooperative, Domain


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Cooperative)
class CooperativeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "is_active", "created_at")
    search_fields = ("code", "name")
    inlines = [DomainInline]
    exclude = ("schema_name",)
