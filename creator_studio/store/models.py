"""Imports every module's tables so that `Base.metadata` is complete (for Alembic and tests)."""

from creator_studio.analytics import models as analytics_models
from creator_studio.api import models as api_models
from creator_studio.automation import models as automation_models
from creator_studio.command_center import models as command_center_models
from creator_studio.connections import models as connections_models
from creator_studio.content import models as content_models
from creator_studio.engagement import models as engagement_models
from creator_studio.events import models as events_models
from creator_studio.providers.email import models as email_models
from creator_studio.providers.email import sandbox as email_sandbox
from creator_studio.providers.payments import sandbox as payments_sandbox
from creator_studio.providers.payments import seen_events as payments_seen_events
from creator_studio.providers.social import models as social_models
from creator_studio.providers.social import sandbox as social_sandbox
from creator_studio.revenue import models as revenue_models
from creator_studio.runs import models as runs_models
from creator_studio.store.db import Base
from creator_studio.workspaces import models as workspace_models

__all__ = [
    "Base",
    "analytics_models",
    "api_models",
    "automation_models",
    "command_center_models",
    "connections_models",
    "content_models",
    "email_models",
    "email_sandbox",
    "engagement_models",
    "events_models",
    "payments_sandbox",
    "payments_seen_events",
    "revenue_models",
    "runs_models",
    "social_models",
    "social_sandbox",
    "workspace_models",
]
