from django.urls import path

app_name = "enrichment"
urlpatterns: list = []
