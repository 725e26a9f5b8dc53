"""secret: encrypted at rest with Fernet; reads show a mask, `reveal` gives the plain text.

The key is derived (HKDF-SHA256) from `settings.SECRET_KEY`; tokens written under
a key listed in `settings.SECRET_KEY_FALLBACKS` still decrypt, so the Django way of
rotating the secret key keeps secrets readable.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from apps.fieldtypes.base import PRESENCE_OPS, FieldType, FieldValueError
from apps.fieldtypes.checks import check_length, expect_str
from apps.fieldtypes.registry import register

if TYPE_CHECKING:
    from apps.artifact.models import Field

MASK = "••••••"
_SALT = b"objectos.fieldtypes.secret"
_INFO = b"secret field encryption v1"


def _fernet_key(secret_key: str) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(
        secret_key.encode()
    )
    return base64.urlsafe_b64encode(derived)


@lru_cache(maxsize=8)
def _cipher(secret_key: str, fallbacks: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(_fernet_key(key)) for key in (secret_key, *fallbacks)])


def cipher() -> MultiFernet:
    """Encrypts with the current SECRET_KEY, decrypts with it or any fallback key."""
    fallbacks = tuple(getattr(settings, "SECRET_KEY_FALLBACKS", ()) or ())
    return _cipher(settings.SECRET_KEY, fallbacks)


def mask(plain: str) -> str:
    """The wire form: the mask, plus the last 4 characters when there are at least 8."""
    return MASK + plain[-4:] if len(plain) >= 8 else MASK


@register
class SecretType(FieldType):
    name = "secret"
    storage = "secret"
    operators = PRESENCE_OPS
    needs_wire_conversion = True
    sortable = False

    def clean(self, field: Field, value: Any) -> str | None:
        if value is None:
            return None
        plain = check_length(field, expect_str(field, value))
        if plain.startswith(MASK):
            raise FieldValueError(
                "masked_value", f"{field.name}: send the new secret, not its masked form"
            )
        return cipher().encrypt(plain.encode()).decode()

    def to_wire(self, field: Field, value: Any) -> str | None:
        if value is None:
            return None
        try:
            return mask(self.reveal(field, value))
        except FieldValueError:
            return MASK

    def reveal(self, field: Field, stored: str) -> str:
        """The plain text of a stored token (server-side use only)."""
        try:
            return cipher().decrypt(stored.encode()).decode()
        except (InvalidToken, UnicodeError):
            raise FieldValueError(
                "undecryptable", f"{field.name}: the stored secret cannot be decrypted"
            )

    def openapi_schema(self, field: Field) -> dict[str, Any]:
        return {"type": "string", "description": f"masked on read ({MASK} + last 4)"}
