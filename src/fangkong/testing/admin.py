"""Django admin for the non-personal parts of testing: rounds, sampling points, tubes.

Samples, exemptions, recalls and suspected cases carry personal data and are reachable only
through the scoped pages and API, never through an unscoped admin list.
"""

from django.contrib import admin

from .models import Campaign, SamplingPoint, Tube


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "region_code", "starts_at", "ends_at", "pool_size", "status")
    list_filter = ("status",)
    search_fields = ("name", "region_code")


@admin.register(SamplingPoint)
class SamplingPointAdmin(admin.ModelAdmin):
    list_display = ("name", "region_code", "opens_at", "closes_at", "lanes", "active")
    list_filter = ("active",)
    search_fields = ("name", "location", "region_code")
    filter_horizontal = ("staff",)


@admin.register(Tube)
class TubeAdmin(admin.ModelAdmin):
    list_display = ("barcode", "campaign", "capacity", "sample_count", "result")
    list_filter = ("result", "capacity")
    search_fields = ("barcode",)
    readonly_fields = ("sample_count", "result", "resulted_at", "result_source")
