"""URLs of the isolation pages, mounted under /quarantine/."""

from django.urls import path

from . import views

app_name = "quarantine"

urlpatterns = [
    path("", views.board, name="board"),
    path("round/", views.round_today, name="round"),
    path("round/<int:order_id>/", views.round_record, name="round_record"),
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/<int:alert_id>/outcome/", views.alert_handle, name="alert_handle"),
    path("orders/", views.order_list, name="orders"),
    path("orders/new/", views.order_create, name="order_create"),
    path("orders/<int:order_id>/", views.order_detail, name="order"),
    path("orders/<int:order_id>/release-notice.docx", views.release_notice, name="release_notice"),
    path("orders/<int:order_id>/agreement-scan/", views.agreement_scan, name="agreement_scan"),
    path("orders/<int:order_id>/<slug:action>/", views.order_action, name="order_action"),
    path("sites/", views.site_list, name="sites"),
    path("rooms/", views.room_plan, name="room_plan"),
    path("sites/<int:site_id>/", views.site_detail, name="site"),
    path("supplies/", views.supply_list, name="supplies"),
    path("me/<str:token>/", views.self_report, name="self_report"),
]
