"""Signed webhooks (Standard Webhooks 1.0): signing and the address guard are pure; events,
endpoints and deliveries are work rows in the database, delivered by Celery."""
