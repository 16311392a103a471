"""Django admin for the non-personal configuration of places: the checklists per kind.

Places (responsible persons' phones), sales (buyers' ID numbers) and school members are
reachable only through the scoped, masked and audited pages and API.
"""

from django.contrib import admin

from .models import ChecklistItem


@admin.register(ChecklistItem)
class ChecklistItemAdmin(admin.ModelAdmin):
    list_display = ("kind", "position", "label", "active")
    list_filter = ("kind", "active")
    list_editable = ("position", "active")
