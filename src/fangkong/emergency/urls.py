"""URLs of the emergency pages, mounted under /emergency/."""

from django.urls import path

from . import views

app_name = "emergency"

urlpatterns = [
    path("", views.home, name="home"),
    path("mode/", views.mode, name="mode"),
    path("mode/<int:switch_id>/", views.mode_board, name="mode_board"),
    path("zones/", views.zones, name="zones"),
    path("zones/new/", views.zone_new, name="zone_new"),
    path("zones/<int:zone_id>/", views.zone, name="zone"),
    path("zones/<int:zone_id>/lift/", views.zone_lift, name="zone_lift"),
    path("map/", views.risk_map, name="map"),
    path("plans/", views.plans, name="plans"),
    path("plans/<int:plan_id>/drill/", views.drill_new, name="drill_new"),
    path("drills/<int:drill_id>/", views.drill, name="drill"),
    path("capacity/", views.capacity, name="capacity"),
    path("volunteers/", views.volunteers, name="volunteers"),
    path("volunteers/<int:volunteer_id>/assign/", views.volunteer_assign, name="volunteer_assign"),
    path("join/", views.join, name="join"),
    path("command/", views.command, name="command"),
]
