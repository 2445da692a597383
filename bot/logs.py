"""Logging that never shows a secret: a filter that scrubs every configured secret from records."""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import Iterable
from pathlib import Path

MASK = "[secret]"
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:(//)?")
_QUERY_SECRET = re.compile(r"((?:password|passwd|pwd|secret|token)=)[^&#]*", re.IGNORECASE)


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


def url_password(url: str) -> str | None:
    """The password of a URL's user part (`scheme://user:pw@host`, also without `//`), or None."""
    rest = _SCHEME.sub("", url.strip(), count=1)
    userinfo, at, _ = rest.rpartition("@")
    if not at or ":" not in userinfo:
        return None
    return userinfo.split(":", 1)[1] or None


def hide_password(url: str) -> str:
    """The URL with its password replaced by ***, whatever its shape (no `//`, no host, in the query)."""
    url = _QUERY_SECRET.sub(r"\1***", url.strip())
    scheme = _SCHEME.match(url)
    head = scheme.group(0) if scheme else ""
    rest = url[len(head):]
    userinfo, at, host = rest.rpartition("@")
    if at:
        return f"{head}{userinfo.split(':', 1)[0]}:***@{host}" if ":" in userinfo else url
    # No user part: a colon not followed by a port number may be a password typed without its '@'.
    return head + re.sub(r":(?!\d+(/|$))[^/?#]*", ":***", rest)


def write_crash(exc: BaseException, path: Path | None, secrets: Iterable[str], *, echo: bool = False) -> bool:
    """Append the scrubbed traceback to path (and to standard error when echo); False if it was not written."""
    text = scrub("".join(traceback.format_exception(exc)), list(secrets))
    if echo:
        sys.stderr.write(text)
    if path is None:
        return False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(text + "\n")
    except OSError:
        return False
    return True
