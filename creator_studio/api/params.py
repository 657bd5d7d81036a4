"""Parameter types shared by the routers, as strict as their OpenAPI description says."""

from __future__ import annotations

import re
from typing import Annotated, Any
from zoneinfo import available_timezones

from pydantic import AwareDatetime, BeforeValidator, Field

_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _iso_only(value: Any) -> Any:
    """Pydantic would read "2156" as a Unix timestamp; the API promises ISO 8601 date-times only."""
    if isinstance(value, str) and not _ISO_DATETIME.match(value.strip()):
        raise ValueError("give an ISO 8601 date-time with a time zone, e.g. 2026-12-01T09:00:00+01:00")
    return value


IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_only)]

# The IANA zones this machine knows, listed in the OpenAPI description so a client (or a fuzzer) can tell a valid
# zone from the schema alone; the route still checks the name itself.
TimeZoneName = Annotated[str, Field(max_length=64, json_schema_extra={"enum": sorted(available_timezones())})]
