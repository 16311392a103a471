"""URLs of the places pages, mounted under /places/."""

from django.urls import path

from . import views

app_name = "places"

urlpatterns = [
    path("", views.home, name="home"),
    path("list/", views.place_list, name="place_list"),
    path("new/", views.place_new, name="place_new"),
    path("campaign/", views.campaign, name="campaign"),
    path("<int:place_id>/", views.place_detail, name="place_detail"),
    path("<int:place_id>/status/", views.place_status, name="place_status"),
    path("<int:place_id>/inspect/", views.inspect, name="inspect"),
    path("<int:place_id>/disinfect/", views.disinfect, name="disinfect"),
    path("results/<int:result_id>/rectify/", views.rectify, name="rectify"),
    path("gatherings/", views.gatherings, name="gatherings"),
    path(
        "gatherings/<int:gathering_id>/outcome/", views.gathering_outcome, name="gathering_outcome"
    ),
    path("enterprises/", views.enterprises, name="enterprises"),
    path("<int:place_id>/resumption/", views.resumption_new, name="resumption_new"),
    path(
        "resumptions/<int:resumption_id>/decide/", views.resumption_decide, name="resumption_decide"
    ),
    path("schools/", views.schools, name="schools"),
    path("<int:place_id>/classes/new/", views.class_new, name="class_new"),
    path("classes/<int:class_id>/", views.class_detail, name="class_detail"),
    path("check/<str:token>/", views.class_check, name="class_check"),
    path("cold-chain/", views.cold_chain, name="cold_chain"),
    path("<int:place_id>/batches/new/", views.batch_new, name="batch_new"),
    path("batches/<int:batch_id>/", views.batch_step, name="batch_step"),
    path("pharmacy/", views.pharmacy, name="pharmacy"),
    path("pharmacy/import/", views.sales_import, name="sales_import"),
    path("sales/<int:sale_id>/follow-up/", views.sale_follow_up, name="sale_follow_up"),
]
