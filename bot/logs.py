"""Logging that never shows a secret: a filter that scrubs every configured secret from records."""

from __future__ import annotations

import logging
from collections.abc import Iterable

MASK = "[secret]"


def scrub(text: str, secrets: Iterable[str]) -> str:
    """The text with every secret value replaced."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, MASK)
    return text


class SecretFilter(logging.Filter):
    """Scrubs secrets from a record's message, arguments and traceback text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drop it."""
        message = record.getMessage()
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = scrub(record.exc_text, self.secrets)
            record.exc_info = None
        record.msg = scrub(message, self.secrets)
        record.args = ()
        return True


def setup_logging(secrets: Iterable[str], level: int = logging.INFO) -> None:
    """Root logging to standard error, with secrets scrubbed from every handler's records."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
