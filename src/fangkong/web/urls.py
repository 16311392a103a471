"""URLs of the web UI. Every page but the login page requires a logged-in user."""

from django.urls import path

from . import field, notices, pickers, views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("sw.js", field.service_worker, name="service_worker"),
    path("manifest.webmanifest", field.manifest, name="manifest"),
    path("overview/", views.overview, name="overview"),
    path("pick/regions/", pickers.pick_regions, name="pick_regions"),
    path("pick/persons/", pickers.pick_persons, name="pick_persons"),
    path("notices/", notices.inbox, name="notices"),
    path("notices/new/", notices.notice_create, name="notice_create"),
    path("notices/<int:notice_id>/", notices.notice_detail, name="notice_detail"),
    path("notices/<int:notice_id>/confirm/", notices.notice_confirm, name="notice_confirm"),
    path("notices/<int:notice_id>/receipts/", notices.notice_receipts, name="notice_receipts"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("account/tokens/", views.account_tokens, name="account_tokens"),
    path("account/devices/", views.account_devices, name="account_devices"),
    path("regions/", views.regions, name="regions"),
    path("regions/<str:code>/", views.region_children, name="region"),
    path("persons/", views.person_list, name="persons"),
    path("persons/new/", views.person_create, name="person_create"),
    path("persons/<int:person_id>/", views.person_detail, name="person_detail"),
    path("persons/<int:person_id>/edit/", views.person_edit, name="person_edit"),
    path("households/", views.household_list, name="households"),
    path("households/new/", views.household_create, name="household_create"),
    path("households/<int:household_id>/", views.household_detail, name="household_detail"),
    path("households/<int:household_id>/edit/", views.household_edit, name="household_edit"),
    path("tasks/", views.task_list, name="tasks"),
    path("tasks/<int:task_id>/", views.task_detail, name="task_detail"),
    path("tasks/<int:task_id>/progress/", views.task_progress, name="task_progress"),
    path("tasks/<int:task_id>/retry/", views.task_retry, name="task_retry"),
    path("modules/<slug:slug>/", views.module_unavailable, name="module"),
]
