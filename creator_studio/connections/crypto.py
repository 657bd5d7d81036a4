"""Fernet encryption of tokens at rest, with key rotation through MultiFernet.

The key comes from `STUDIO_SECRET_KEY`, else from `home/secret.key` (created with 0600 permissions on first
use). The key file may hold several keys, newest first: the first encrypts, all decrypt, which is what lets
`studio connections rotate-key` re-encrypt every token without a moment where one can't be read.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from creator_studio.errors import ConfigurationError
from creator_studio.settings import Settings

KEY_FILE = "secret.key"


class TokenCipher:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ConfigurationError("No encryption key for connection tokens: set STUDIO_SECRET_KEY.")
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        except ValueError as exc:
            raise ConfigurationError("STUDIO_SECRET_KEY is not a Fernet key (32 url-safe base64 bytes); create one "
                                     "with `python -c 'from cryptography.fernet import Fernet; "
                                     "print(Fernet.generate_key().decode())'`.") from exc
        self.keys = keys

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise ConfigurationError("A stored connection token cannot be decrypted with the current key: was "
                                     "STUDIO_SECRET_KEY or home/secret.key changed? Restore it, or remove and "
                                     "reconnect the account.") from exc

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt with the first (newest) key."""
        try:
            return self._fernet.rotate(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise ConfigurationError("A stored token cannot be decrypted with any known key.") from exc


def key_file(settings: Settings) -> Path:
    return settings.home / KEY_FILE


def load_keys(settings: Settings) -> list[str]:
    """The keys in use, newest first; generates the key file when there is no key at all."""
    if settings.secret_key is not None:
        return [k.strip() for k in settings.secret_key.get_secret_value().split(",") if k.strip()]
    path = key_file(settings)
    if not path.exists():
        write_keys(path, [Fernet.generate_key().decode()])
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def write_keys(path: Path, keys: Sequence[str]) -> None:
    """Write atomically with 0600 permissions: the file is created private, never chmod-ed after the fact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(keys) + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def cipher_for(settings: Settings) -> TokenCipher:
    return TokenCipher(load_keys(settings))
