"""URLs of the supplies pages, mounted under /supplies/."""

from django.urls import path

from . import views

app_name = "supplies"

urlpatterns = [
    path("", views.home, name="home"),
    path("stock.xlsx", views.stock_export, name="stock_export"),
    path("warehouses/<int:warehouse_id>/", views.warehouse, name="warehouse"),
    path("setup/", views.setup, name="setup"),
    path("units/<int:recipient_id>/ledger/", views.ledger, name="ledger"),
    path("import/", views.stock_import, name="import"),
    path("requests/", views.requests_page, name="requests"),
    path("requests/<int:request_id>/decide/", views.request_decide, name="request_decide"),
    path("orders/", views.orders, name="orders"),
    path("orders/<int:order_id>/status/", views.order_status, name="order_status"),
    path("donations/", views.donations, name="donations"),
    path("donations/<int:donation_id>/certificate/", views.certificate, name="certificate"),
    path("donations/public/<str:county>/", views.donation_list_public, name="donations_public"),
    path("funds/", views.funds, name="funds"),
    path("funds/<int:fund_id>/entries/", views.fund_entry, name="fund_entry"),
    path("prices/", views.prices, name="prices"),
]
