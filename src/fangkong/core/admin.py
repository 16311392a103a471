"""Django admin for administrators: regions, users, area assignments, audit (read-only).

Persons and households are deliberately absent: personal data is only reachable through the
scoped, masked and audited views and API, never through an unscoped admin list. A user's
phone is shown masked, as the administrator role sees phones everywhere else; background
tasks are listed without their messages and results (which may quote rows of an import).
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from . import phones
from .models import AreaAssignment, AuditEvent, Region, TaskRecord, User


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "generated")
    list_filter = ("level", "generated")
    search_fields = ("code", "name")
    raw_id_fields = ("parent",)


@admin.register(User)
class FangkongUserAdmin(UserAdmin):
    list_display = ("username", "display_name", "role", "is_active", "last_login")
    list_filter = ("role", "is_active")
    fieldsets = (
        *UserAdmin.fieldsets,
        ("Fangkong", {"fields": ("role", "display_name", "masked_phone", "regions")}),
    )
    readonly_fields = ("masked_phone",)
    filter_horizontal = ("regions",)

    @admin.display(description=_("Phone"))
    def masked_phone(self, obj):
        return phones.mask(obj.phone) if obj.phone else ""


@admin.register(AreaAssignment)
class AreaAssignmentAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "region", "starts_on", "ends_on")
    list_filter = ("kind",)
    raw_id_fields = ("user", "region")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "username", "kind", "object_type", "object_id", "channel", "client_ip")
    list_filter = ("kind", "object_type", "channel")
    search_fields = ("username", "object_id")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TaskRecord)
class TaskRecordAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "status", "done", "total", "created_at")
    list_filter = ("status", "kind")
    fields = ("title", "kind", "status", "done", "total", "created_at", "finished_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
