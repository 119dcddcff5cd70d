"""What every API router shares: the error envelope, pagination, who is asking, idempotency and
rate limits. Routers import `errors`, `pagination` and `principal`; the rest is wired in
config/api.py and the API middleware."""
