"""Settings: every knob is a `STUDIO_*` environment variable (or the OpenAI client's own names)."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STUDIO_", env_file=None, extra="ignore")

    home: Path = Field(default=Path("~/.creator-studio"), description="Workspace directory (databases, memory).")
    workspace: str = Field(default="default", description="Workspace id used when none is given.")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite in `home`.")

    # "offline" or "openai:<model name>". Unset: openai when an endpoint or key is configured, else offline.
    model: str | None = None
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "STUDIO_OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "STUDIO_OPENAI_BASE_URL")
    )
    openai_model: str = "gpt-4o-mini"
    model_timeout_s: float = 60.0
    model_max_retries: int = 2
    model_temperature: float = 0.2

    # The embedding pre-router answers without a model call when its confidence reaches this.
    router_threshold: float = 0.5
    # Below this similarity a goal is out of scope for every agent.
    out_of_scope_floor: float = 0.3

    max_model_calls: int = Field(default=24, ge=1, description="Model calls one run may make.")
    max_tool_calls: int = Field(default=40, ge=1, description="Tool calls one run may make.")
    max_agent_steps: int = Field(default=8, ge=1, description="Model turns one agent may take per sub-task.")

    # Vector memory (creator_studio/memory): a persistent client in `home` unless a Chroma server is given.
    chroma_url: str | None = Field(default=None, description="Chroma server URL, e.g. http://127.0.0.1:8000.")
    # Embeddings: the shipped MiniLM model unless an OpenAI-compatible embeddings model is named.
    embedding_model: str | None = Field(default=None, description="OpenAI-compatible embeddings model name.")

    # Connections (creator_studio/providers): "sandbox" or "real"; OAuth tokens are Fernet-encrypted at rest.
    providers: str = Field(default="sandbox", description="sandbox or real platform, email and payment adapters.")
    secret_key: SecretStr | None = Field(default=None, description="Fernet key for tokens at rest.")
    stripe_api_key: SecretStr | None = None
    stripe_api_base: str | None = Field(default=None, description="Stripe API base (localstripe in tests).")
    stripe_webhook_secret: SecretStr | None = None
    smtp_url: str | None = Field(default=None, description="smtp://user:pass@host:port for outgoing email.")

    # Events and jobs (creator_studio/events, creator_studio/automation): in-process unless Redis is given.
    redis_url: str | None = Field(default=None, description="Redis URL: events on Redis Streams, job leases.")
    events_stream: str = Field(
        default="studio:events", pattern=r"^[A-Za-z0-9][A-Za-z0-9:._-]{0,99}$",
        description="The Redis stream of this deployment's events (its consumer groups and dedupe keys are named "
                    "after it): deployments sharing one Redis need one each, e.g. studio:shop-a:events.")

    # Media (creator_studio/providers/media): offline renderers unless an OpenAI image/speech model is named.
    image_model: str | None = Field(default=None, description="OpenAI Images model, e.g. gpt-image-1.")
    image_cost_usd: float = Field(default=0.04, ge=0, description="Price per generated image, recorded per asset.")
    speech_model: str | None = Field(default=None, description="OpenAI text-to-speech model, e.g. gpt-4o-mini-tts.")
    speech_voice: str = "alloy"

    # HTTP API and dashboard (creator_studio/api).
    api_host: str = "127.0.0.1"
    api_port: int = 8400

    log_level: str = "WARNING"
    log_json: bool = True

    @field_validator("home", mode="after")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    @property
    def resolved_model(self) -> str:
        if self.model:
            return self.model
        if self.openai_base_url or self.openai_api_key:
            return f"openai:{self.openai_model}"
        return "offline"

    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'studio.db'}"

    def checkpoint_path(self) -> Path:
        return self.home / "checkpoints.db"

