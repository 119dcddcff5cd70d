"""API keys at rest: MultiFernet, so keys can be rotated (newest first in SOURCIER_FERNET_KEYS)."""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


@lru_cache(maxsize=4)
def _newest(key: str) -> Fernet:
    return Fernet(key.encode())


def _current() -> MultiFernet:
    return _fernet(tuple(settings.SOURCIER_FERNET_KEYS))


def encrypt(secret: str) -> str:
    return _current().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    """The secret, or raise ValueError when no configured key opens it."""
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("API key cannot be decrypted with the configured keys") from exc


def is_current(token: str) -> bool:
    """Whether the newest key alone opens the token (a Fernet token does not name its key)."""
    try:
        _newest(settings.SOURCIER_FERNET_KEYS[0]).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def rotate(token: str) -> str:
    """Re-encrypt with the newest key (after adding one at the front of SOURCIER_FERNET_KEYS).

    Raises ValueError when no configured key opens the token.
    """
    try:
        return _current().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("API key cannot be decrypted with the configured keys") from exc
