from django.contrib import admin

from .models import Case, ExposureEvent, InvestigationTeam, Notice, TracingTask


@admin.register(InvestigationTeam)
class InvestigationTeamAdmin(admin.ModelAdmin):
    list_display = ("name", "region", "is_reserve", "on_call")
    list_filter = ("is_reserve", "on_call")
    filter_horizontal = ("members",)


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("id", "external_id", "name", "status", "region_code", "confirmation_date")
    list_filter = ("status", "found_via")
    raw_id_fields = ("person", "infected_by", "investigator", "team", "created_by")
    search_fields = ("external_id", "name")


@admin.register(ExposureEvent)
class ExposureEventAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "starts_at", "region_code", "reported")
    raw_id_fields = ("organiser", "created_by")


@admin.register(TracingTask)
class TracingTaskAdmin(admin.ModelAdmin):
    list_display = ("person", "level", "status", "assignee", "created_at")
    list_filter = ("status", "level")
    raw_id_fields = ("person", "assignee", "reached_by")


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = ("id", "from_region_code", "to_region_code", "status", "sent_at")
    list_filter = ("status",)
    raw_id_fields = ("case", "subject_person", "sent_by")
