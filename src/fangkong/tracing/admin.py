"""Django admin for the non-personal part of tracing: investigation teams.

Cases, exposure events, tracing tasks and cross-region notices carry names, ID numbers and
phones, and are reachable only through the scoped, masked and audited pages and API, never
through an unscoped admin list (as for persons in core).
"""

from django.contrib import admin

from .models import InvestigationTeam


@admin.register(InvestigationTeam)
class InvestigationTeamAdmin(admin.ModelAdmin):
    list_display = ("name", "region", "is_reserve", "on_call")
    list_filter = ("is_reserve", "on_call")
    filter_horizontal = ("members",)
