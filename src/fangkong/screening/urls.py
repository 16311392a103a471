"""URLs of the screening pages, mounted under /screening/."""

from django.urls import path, re_path

from . import views

app_name = "screening"

urlpatterns = [
    path("", views.home, name="home"),
    path("risk-areas/new/", views.risk_area_create, name="risk_area_create"),
    path("risk-areas/<int:area_id>/edit/", views.risk_area_edit, name="risk_area_edit"),
    path("policies/new/", views.policy_publish, name="policy_publish"),
    path("ledgers/upload/", views.upload, name="upload"),
    path("ledgers/imports/<int:import_id>/", views.import_detail, name="import"),
    path("ledgers/imports/<int:import_id>/errors.xlsx", views.import_errors, name="errors"),
    path("ledgers/<str:kind>/template.xlsx", views.template, name="template"),
    path("ledgers/<str:kind>/export.xlsx", views.export, name="export"),
    path("reconciliation/", views.reconciliation_page, name="reconciliation"),
    re_path(
        r"^reconciliation/pairs/(?P<pair_id>[0-9]+)/(?P<decision>confirm|reject)/$",
        views.decide_pair,
        name="decide",
    ),
    path(
        "reconciliation/unregistered/<int:group_id>/register/",
        views.register_group,
        name="register_group",
    ),
    path(
        "reconciliation/unregistered/<int:group_id>/link/<int:person_id>/",
        views.link_group,
        name="link_group",
    ),
    path("visits/", views.visit_list, name="visits"),
    path("visits/<int:task_id>/", views.visit_form, name="visit"),
    path("visits/escalated/", views.escalation_list, name="escalations"),
    path(
        "visits/escalated/<int:task_id>/reassign/",
        views.escalation_reassign,
        name="escalation_reassign",
    ),
    path(
        "visits/escalated/<int:task_id>/handle/", views.escalation_handle, name="escalation_handle"
    ),
]
