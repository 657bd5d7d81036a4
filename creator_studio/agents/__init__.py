"""The agents: one module each. `AGENTS` maps an agent id to its spec."""

from creator_studio.agents.automation import AUTOMATION
from creator_studio.agents.base import AgentSpec
from creator_studio.agents.command_center import COMMAND_CENTER
from creator_studio.agents.content import CONTENT
from creator_studio.agents.engagement import ENGAGEMENT
from creator_studio.agents.revenue import REVENUE

AGENTS: dict[str, AgentSpec] = {spec.name: spec for spec in (CONTENT, ENGAGEMENT, REVENUE, AUTOMATION,
                                                             COMMAND_CENTER)}
SPECIALISTS = ("content", "engagement", "revenue", "automation")

__all__ = ["AGENTS", "SPECIALISTS", "AgentSpec"]
