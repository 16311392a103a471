"""Django admin for the non-personal parts of isolation: check schedules, sites and rooms.

Orders, readings and alerts carry personal data and are reachable only through the scoped
views and API, never through an unscoped admin list (as for persons in core).
"""

from django.contrib import admin

from .models import CheckSchedule, CheckWindow, IsolationSite, Room


class CheckWindowInline(admin.TabularInline):
    model = CheckWindow
    extra = 0


@admin.register(CheckSchedule)
class CheckScheduleAdmin(admin.ModelAdmin):
    list_display = ("name",)
    inlines = [CheckWindowInline]


class RoomInline(admin.TabularInline):
    model = Room
    extra = 0
    readonly_fields = ("occupants", "party")


@admin.register(IsolationSite)
class IsolationSiteAdmin(admin.ModelAdmin):
    list_display = ("name", "region_code", "active")
    list_filter = ("active",)
    search_fields = ("name", "region_code")
    filter_horizontal = ("staff",)
    inlines = [RoomInline]
