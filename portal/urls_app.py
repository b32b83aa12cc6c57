from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("c/<int:company_id>/", views.company_home, name="company_home"),
    path("switch/", views.switch_company, name="switch_company"),
]
