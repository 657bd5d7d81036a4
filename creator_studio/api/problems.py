"""Every error is an RFC 9457 problem details document (`application/problem+json`).

Studio errors map to statuses by kind (not found 404, invalid input 422, conflict 409); request validation
errors list each bad field in `errors`; anything unexpected is a 500 whose detail hides the internals (the
traceback goes to the log).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from creator_studio.errors import Conflict, InvalidInput, NotFound, StudioError
from creator_studio.logs import get_logger

log = get_logger("api")
PROBLEM_TYPE_BASE = "https://creator-studio.dev/problems/"
MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    field: str = Field(description="Where the bad value is, e.g. body.goal or query.limit.")
    message: str


class Problem(BaseModel):
    type: str = Field(description="A URI naming the kind of problem.")
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = Field(default=None, description="The fields that were wrong (422).")
    current: dict[str, Any] | None = Field(default=None, description="409 on a stale write: the stored version.")
    yours: dict[str, Any] | None = Field(default=None, description="409 on a stale write: what you sent.")


class ApiProblem(Exception):
    """Raised by routes for errors that are not studio errors (auth, stale writes)."""

    def __init__(self, status: int, title: str, detail: str, *, kind: str | None = None,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.kind = kind or title.lower().replace(" ", "-")
        self.headers = headers
        self.extra = extra


_TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
           406: "Not acceptable", 409: "Conflict", 412: "Precondition failed", 413: "Content too large",
           415: "Unsupported media type", 422: "Invalid input", 428: "Precondition required",
           500: "Internal server error", 503: "Service unavailable"}


def problem_response(status: int, detail: str, *, request: Request | None = None, title: str | None = None,
                     kind: str | None = None, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    title = title or _TITLES.get(status, "Error")
    body = Problem(type=PROBLEM_TYPE_BASE + (kind or title.lower().replace(" ", "-")), title=title, status=status,
                   detail=detail, instance=request.url.path if request is not None else None, **extra)
    return JSONResponse(body.model_dump(mode="json", exclude_none=True), status_code=status, media_type=MEDIA_TYPE,
                        headers=headers)


def _field_of(message: str) -> str | None:
    """Studio errors name the field first ("name: keep it short"); use it when it looks like one."""
    match = re.match(r"([a-z_][a-z0-9_.]*): ", message)
    return match.group(1) if match else None


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiProblem)
    async def _api_problem(request: Request, exc: ApiProblem) -> JSONResponse:
        return problem_response(exc.status, exc.detail, request=request, title=exc.title, kind=exc.kind,
                                headers=exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [FieldError(field=".".join(str(p) for p in e.get("loc", ())),
                             message=str(e.get("msg", "invalid")).removeprefix("Value error, "))
                  for e in exc.errors()]
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or "The request is not valid."
        return problem_response(422, detail, request=request, kind="validation",
                                errors=[e.model_dump() for e in errors])

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {t.lower() for t in _TITLES.values()}
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail.lower() not in titles else {
            404: f"Nothing at {request.url.path}: see /docs for the API.",
            405: f"{request.method} is not allowed on {request.url.path}.",
        }.get(exc.status_code, str(exc.detail))
        return problem_response(exc.status_code, detail, request=request, headers=getattr(exc, "headers", None))

    @app.exception_handler(StudioError)
    async def _studio(request: Request, exc: StudioError) -> JSONResponse:
        if isinstance(exc, NotFound):
            return problem_response(404, exc.message, request=request)
        if isinstance(exc, Conflict):
            return problem_response(409, exc.message, request=request)
        if isinstance(exc, InvalidInput):
            field = _field_of(exc.message)
            errors = [FieldError(field=field, message=exc.message).model_dump()] if field else None
            return problem_response(422, exc.message, request=request, kind="invalid-input", errors=errors)
        return problem_response(400, exc.message, request=request, kind=exc.code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error in the API", extra={"path": request.url.path})
        return problem_response(500, "Something went wrong on our side; it has been logged.", request=request)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the given error statuses, each a problem document (400, a body that is not
    JSON, can happen anywhere)."""
    return {status: {"model": Problem, "description": _TITLES.get(status, "Error"),
                     "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
            for status in sorted({400, *statuses})}
