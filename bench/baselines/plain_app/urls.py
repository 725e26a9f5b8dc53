from django.urls import path

from plain_app import views

urlpatterns = [
    path("api/v1/data/app_task", views.collection),
    path("api/v1/data/app_task/<str:record_id>", views.record),
]
