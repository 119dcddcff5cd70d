"""The project's URLs plus one view that fails, to see the 500 page as people would."""

from django.urls import path

from config.urls import urlpatterns as project_urlpatterns


def broken(request):
    raise RuntimeError("a bug")


urlpatterns = [path("panne/", broken), *project_urlpatterns]
