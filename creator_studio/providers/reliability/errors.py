"""Typed errors a creator understands, and the classification of platform responses into them.

Four kinds, each saying what to do: reconnect (the token is expired or revoked and could not be refreshed),
fix the input (the platform rejected a field), try again later (rate limited or the platform is failing), and
disconnected (the account is gone, suspended or no longer lets Studio act for it).
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from creator_studio.errors import StudioError

PLATFORM_NAMES = {"bluesky": "Bluesky", "mastodon": "Mastodon", "x": "X", "linkedin": "LinkedIn",
                  "threads": "Threads", "kit": "Kit", "listmonk": "Listmonk", "smtp": "the mail server",
                  "stripe": "Stripe"}


def display_name(platform: str) -> str:
    return PLATFORM_NAMES.get(platform, platform)


class ProviderError(StudioError):
    """A platform call failed in a way the creator can act on."""

    code = "provider_error"

    def __init__(self, message: str, *, platform: str, status: int | None = None) -> None:
        super().__init__(message)
        self.platform = platform
        self.status = status


class ReauthorizeRequired(ProviderError):
    """The access token is expired or revoked and refreshing it did not work."""

    code = "reauthorize"

    def __init__(self, platform: str, detail: str = "", *, status: int | None = 401) -> None:
        tail = f" ({detail})" if detail else ""
        super().__init__(f"Your {display_name(platform)} connection needs to be renewed{tail}: run "
                         f"`studio connect {platform}` again.", platform=platform, status=status)


class BadRequest(ProviderError):
    """The platform rejected the content or a parameter; `field` names it when the platform said which."""

    code = "bad_request"

    def __init__(self, platform: str, detail: str, *, field: str | None = None, status: int | None = 400) -> None:
        where = f" (field `{field}`)" if field else ""
        super().__init__(f"{display_name(platform)} rejected the request{where}: {detail}. Change it and try "
                         f"again.", platform=platform, status=status)
        self.field = field
        self.detail = detail


class RetryLater(ProviderError):
    """Rate limited, or the platform is failing; nothing was done. `retry_after` is in seconds when known."""

    code = "retry_later"

    def __init__(self, platform: str, detail: str, *, retry_after: float | None = None,
                 status: int | None = None) -> None:
        when = f" in about {_human_seconds(retry_after)}" if retry_after else " later"
        super().__init__(f"{display_name(platform)} is not accepting this right now ({detail}); nothing was "
                         f"done. Try again{when}.", platform=platform, status=status)
        self.retry_after = retry_after


class Disconnected(ProviderError):
    """The account is not connected, was removed, suspended, or no longer grants the permission needed."""

    code = "disconnected"

    def __init__(self, platform: str, detail: str, *, status: int | None = 403) -> None:
        super().__init__(f"Studio can no longer act for your {display_name(platform)} account ({detail}). Check "
                         f"the account, then run `studio connect {platform}`.", platform=platform, status=status)


class OutcomeUnknown(ProviderError):
    """A write may or may not have happened and the platform gave no way to find out: it was NOT repeated."""

    code = "outcome_unknown"

    def __init__(self, platform: str, what: str) -> None:
        super().__init__(f"{display_name(platform)} did not confirm {what} and Studio could not check whether it "
                         f"happened, so it was not sent again (to avoid a duplicate). Look at your "
                         f"{display_name(platform)} account before trying again.", platform=platform)


def _human_seconds(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} seconds"
    if seconds < 5400:
        return f"{round(seconds / 60)} minutes"
    return f"{round(seconds / 3600)} hours"


def response_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return response.text[:500]


def error_detail(body: Any) -> str:
    """The human message in the error shapes of the platforms' API references."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):  # Meta Graph (Threads): {"error": {"message", "type", "code"}}
            return str(error.get("error_user_msg") or error.get("message") or error)
        for key in ("detail", "message", "error_description"):  # X problem+json, atproto, LinkedIn, OAuth
            if isinstance(body.get(key), str) and body[key]:
                return str(body[key])
        if isinstance(error, str):  # Mastodon {"error": "..."}; atproto {"error": "InvalidRequest"}
            return error
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("message") or errors[0].get("detail") or errors[0])
        if isinstance(body.get("title"), str):
            return str(body["title"])
    return str(body)[:300] if body else "no details given"


_MASTODON_FIELD = re.compile(r"Validation failed: ([A-Za-z_ ]+?) (?:can't|is|must|are|has|contains|cannot)")


def error_field(body: Any) -> str | None:
    """The field the platform blamed, when its error body says (X parameters, LinkedIn inputPath, Mastodon text)."""
    if not isinstance(body, dict):
        return None
    for key in ("field", "parameter", "param"):
        if isinstance(body.get(key), str):
            return str(body[key])
    errors = body.get("errors")
    if isinstance(errors, list):
        for item in errors:
            if isinstance(item, dict) and isinstance(item.get("parameters"), dict) and item["parameters"]:
                return str(next(iter(item["parameters"])))
            if isinstance(item, dict) and isinstance(item.get("parameter"), str):
                return str(item["parameter"])
    details = body.get("errorDetails")
    if isinstance(details, dict):
        for item in details.get("inputErrors") or []:
            path = ((item or {}).get("input") or {}).get("inputPath") or {}
            if isinstance(path.get("fieldPath"), str):
                return str(path["fieldPath"])
    details_list = body.get("details")
    if isinstance(details_list, dict) and details_list:  # Mastodon 422 {"details": {"text": [...]}}
        return str(next(iter(details_list)))
    error = body.get("error")
    if isinstance(error, str):
        match = _MASTODON_FIELD.search(error)
        if match:
            return match.group(1).strip().lower().replace(" ", "_")
    if isinstance(error, dict) and isinstance(error.get("error_data"), dict):
        return None
    return None


# Meta Graph error codes: 190 expired/invalid token, 4/17/32/613 and 80001..80014 rate limits, 10/200 permission.
_GRAPH_AUTH = {190, 102, 463, 467}
_GRAPH_RATE = {4, 17, 32, 613, *range(80001, 80015)}
_GRAPH_PERMISSION = {10, 200, 230}


def classify(platform: str, response: httpx.Response, *, retry_after: float | None = None) -> ProviderError:
    """The typed error for a non-success response (after retries and refreshes were tried)."""
    body = response_body(response)
    detail = error_detail(body)
    status = response.status_code
    graph_code = body["error"].get("code") if isinstance(body, dict) and isinstance(body.get("error"), dict) else None
    if graph_code in _GRAPH_AUTH:
        return ReauthorizeRequired(platform, detail, status=status)
    if graph_code in _GRAPH_RATE:
        return RetryLater(platform, detail, retry_after=retry_after, status=status)
    if graph_code in _GRAPH_PERMISSION:
        return Disconnected(platform, detail, status=status)
    if status == 401 or (isinstance(body, dict) and body.get("error") in {"ExpiredToken", "InvalidToken"}):
        return ReauthorizeRequired(platform, detail, status=status)
    if status == 403:
        return Disconnected(platform, detail, status=status)
    if status in (404, 410) and isinstance(body, dict) and body.get("error") in {"AccountTakedown",
                                                                                 "AccountDeactivated",
                                                                                 "RepoNotFound"}:
        return Disconnected(platform, detail, status=status)
    if status == 429 or status >= 500 or status == 408:
        return RetryLater(platform, f"HTTP {status}: {detail}", retry_after=retry_after, status=status)
    return BadRequest(platform, detail, field=error_field(body), status=status)
