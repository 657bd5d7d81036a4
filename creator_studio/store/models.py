"""Imports every module's tables so that `Base.metadata` is complete (for Alembic and tests)."""

from creator_studio.automation import models as automation_models
from creator_studio.command_center import models as command_center_models
from creator_studio.content import models as content_models
from creator_studio.engagement import models as engagement_models
from creator_studio.providers.email import sandbox as email_sandbox
from creator_studio.providers.payments import sandbox as payments_sandbox
from creator_studio.providers.social import sandbox as social_sandbox
from creator_studio.revenue import models as revenue_models
from creator_studio.runs import models as runs_models
from creator_studio.store.db import Base
from creator_studio.workspaces import models as workspace_models

__all__ = [
    "Base",
    "automation_models",
    "command_center_models",
    "content_models",
    "email_sandbox",
    "engagement_models",
    "payments_sandbox",
    "revenue_models",
    "runs_models",
    "social_sandbox",
    "workspace_models",
]
