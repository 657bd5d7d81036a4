"""Reads and changes workspace settings. Other modules ask this service, never the table."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field
from sqlalchemy import select

from creator_studio.errors import InvalidInput, NotFound
from creator_studio.store.db import Database
from creator_studio.workspaces.models import WorkspaceRow


class FAQEntry(BaseModel):
    question: str
    answer: str


HEX_COLOUR = r"^#[0-9A-Fa-f]{6}$"
LOGO_POSITIONS = ("top-left", "top-right", "bottom-left", "bottom-right")


class BrandVisual(BaseModel):
    """How the brand looks on images and video slides; media generation enforces it."""

    background: str = Field(default="#1E3A8A", pattern=HEX_COLOUR)
    foreground: str = Field(default="#F9FAFB", pattern=HEX_COLOUR)
    accent: str = Field(default="#F59E0B", pattern=HEX_COLOUR)
    # Colours media may use; the three above are always allowed.
    palette: list[str] = Field(default_factory=list)
    font: str = Field(default="DejaVu Sans", description="A font family installed on the machine, or a .ttf path.")
    logo_path: str | None = Field(default=None, description="A PNG logo; without it the creator's name is the mark.")
    logo_position: str = Field(default="bottom-right", pattern="^(top|bottom)-(left|right)$")

    def allowed_colours(self) -> set[str]:
        return {c.upper() for c in [self.background, self.foreground, self.accent, *self.palette]}


class BrandVoice(BaseModel):
    creator_name: str = "the creator"
    niche: str = ""
    tone: str = "friendly, clear, practical"
    audience: str = ""
    vocabulary: list[str] = Field(default_factory=list, description="Words and phrases the creator likes.")
    banned_words: list[str] = Field(default_factory=list)
    signature: str = ""
    call_to_action: str = ""
    offers: list[str] = Field(default_factory=list)
    hashtags: list[str] = Field(default_factory=list)
    faq: list[FAQEntry] = Field(default_factory=list)
    visual: BrandVisual = Field(default_factory=BrandVisual)


class Workspace(BaseModel):
    id: str
    name: str
    timezone: str
    brand_voice: BrandVoice
    auto_approve: list[str]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def validate_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"Unknown time zone {name!r}: use an IANA name such as 'Europe/Berlin'.") from exc
    return name


class WorkspaceService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, workspace_id: str) -> Workspace:
        with self._db.transaction() as session:
            row = session.get(WorkspaceRow, workspace_id)
            if row is None:
                raise NotFound(f"Workspace {workspace_id!r} does not exist: run `studio init` first.")
            return _to_model(row)

    def ids(self) -> list[str]:
        with self._db.transaction() as session:
            return list(session.scalars(select(WorkspaceRow.id).order_by(WorkspaceRow.id)))

    def exists(self, workspace_id: str) -> bool:
        with self._db.transaction() as session:
            return session.get(WorkspaceRow, workspace_id) is not None

    def create(self, workspace_id: str, name: str, timezone: str, brand_voice: BrandVoice) -> Workspace:
        validate_timezone(timezone)
        with self._db.transaction() as session:
            if session.get(WorkspaceRow, workspace_id) is not None:
                raise InvalidInput(f"Workspace {workspace_id!r} already exists.")
            row = WorkspaceRow(id=workspace_id, name=name, timezone=timezone,
                               brand_voice=brand_voice.model_dump(), auto_approve=[])
            session.add(row)
            session.flush()
            return _to_model(row)

    def update(self, workspace_id: str, *, timezone: str | None = None, brand_voice: BrandVoice | None = None,
               auto_approve: list[str] | None = None) -> Workspace:
        with self._db.transaction() as session:
            row = session.get(WorkspaceRow, workspace_id)
            if row is None:
                raise NotFound(f"Workspace {workspace_id!r} does not exist.")
            if timezone is not None:
                row.timezone = validate_timezone(timezone)
            if brand_voice is not None:
                row.brand_voice = brand_voice.model_dump()
            if auto_approve is not None:
                row.auto_approve = sorted(set(auto_approve))
            session.flush()
            return _to_model(row)


def _to_model(row: WorkspaceRow) -> Workspace:
    return Workspace(id=row.id, name=row.name, timezone=row.timezone,
                     brand_voice=BrandVoice.model_validate(row.brand_voice or {}),
                     auto_approve=list(row.auto_approve or []))
