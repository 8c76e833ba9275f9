"""Personal data at rest: the keyed hash that makes "one entry per person" a unique constraint without
an ID number in any index, and the encrypted ID number itself (only organisers ever see it whole).

Both keys derive from CONTESTDAY_SECRET_KEY: changing the key makes stored numbers unreadable and
breaks duplicate detection against older entries, so keep it (the data dir keeps a generated one).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import unicodedata

from cryptography.fernet import Fernet, InvalidToken

__all__ = ["PersonalData", "normalise_phone", "normalise_unit"]


class PersonalData:
    def __init__(self, secret_key: str):
        self._hash_key = hashlib.sha256(b"contestday/person-hash/" + secret_key.encode()).digest()
        fernet_key = hashlib.sha256(b"contestday/id-number/" + secret_key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(fernet_key))

    def person_hash(self, id_number: str) -> str:
        """HMAC-SHA256 of the normalised ID number: equal for the same person, useless without the key."""
        return hmac.new(self._hash_key, id_number.encode(), hashlib.sha256).hexdigest()

    def encrypt(self, id_number: str) -> str:
        return self._fernet.encrypt(id_number.encode()).decode()

    def decrypt(self, token: str) -> str | None:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            return None


def normalise_phone(raw: str) -> str:
    """Digits only, without the +86 / 0086 country prefix."""
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", raw))
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix):]
    return digits


def normalise_unit(raw: str) -> str:
    """The key two spellings of one unit share: NFKC, no spaces, full-width brackets made half-width."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", raw)).lower()
