"""Slack files as the coach's uploads: an audio clip or an audio file in the DM or the question's thread is an answer.

The adapter describes each file (name, MIME type, size, a clip's length) and how to download it with the bot token
(`files:read`); the coach decides whether it is a recording, checks the limits before anything is downloaded, shows
the transcript and grades it (bot/core/voice.py). The token is only ever sent to Slack's own hosts.
"""

from __future__ import annotations

import logging
import urllib.request
from typing import Any
from urllib.parse import urlparse

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.replies import Upload

log = logging.getLogger(__name__)
DOWNLOAD_SECONDS = 60.0
CHUNK = 1 << 16


class DownloadRefused(Exception):
    """Slack did not hand over the file (no `files:read` scope, or not one of Slack's hosts)."""


def trusted(url: str, client: WebClient) -> bool:
    """Whether the bot token may be sent to this URL: Slack's hosts over https, or the configured Web API's host."""
    target, api = urlparse(url), urlparse(client.base_url)
    slack = target.scheme == "https" and (target.hostname or "").endswith(".slack.com")
    return slack or (target.scheme, target.netloc) == (api.scheme, api.netloc)


def download(url: str, client: WebClient, limit: int) -> bytes:
    """A private file's bytes (at most limit + 1), fetched with the bot token."""
    if not url or not trusted(url, client):
        raise DownloadRefused(f"not a Slack file URL: {urlparse(url).netloc or url[:40]!r}")
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {client.token}"})
    with urllib.request.urlopen(request, timeout=DOWNLOAD_SECONDS) as response:
        if "text/html" in (response.headers.get("Content-Type") or ""):
            # Slack answers a download it refuses with its sign-in page, not an error status.
            raise DownloadRefused("Slack sent its sign-in page: does the app have the files:read scope?")
        chunks, total = [], 0
        while total <= limit and (chunk := response.read(min(CHUNK, limit + 1 - total))):
            chunks.append(chunk)
            total += len(chunk)
    return b"".join(chunks)


def described(file: dict[str, Any], client: WebClient) -> dict[str, Any]:
    """The file's full description: some events only carry its id (`file_access: check_file_info`)."""
    if file.get("file_access") != "check_file_info" or not file.get("id"):
        return file
    try:
        return dict(client.files_info(file=file["id"])["file"])
    except SlackApiError as exc:
        log.warning("files.info failed for %s: %s", file["id"], exc.response.get("error"))
        return file


def upload(file: dict[str, Any], client: WebClient) -> Upload:
    """One Slack file as an upload whose `read` downloads it with the bot token."""
    file = described(file, client)
    url = str(file.get("url_private_download") or file.get("url_private") or "")
    millis = file.get("duration_ms")

    def read(limit: int) -> bytes:
        return download(url, client, limit)

    return Upload(read=read, filename=file.get("name") or file.get("title"), mime=file.get("mimetype"),
                  size=file.get("size"), seconds=millis / 1000 if isinstance(millis, int | float) else None)


def uploads_of(event: dict[str, Any], client: WebClient) -> tuple[Upload, ...]:
    """The message's files as uploads (nothing is downloaded here)."""
    return tuple(upload(file, client) for file in event.get("files") or [] if isinstance(file, dict))
