from . import database  # noqa: F401  (connects the connection tuning)
from .celery import app as celery_app

__all__ = ("celery_app",)
