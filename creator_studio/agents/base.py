"""What an agent is: a name, a prompt, the tools it owns, and which of them need approval."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from creator_studio.tools.base import ToolSpec, load_all_tools
from creator_studio.tools.types import AgentName

# Tools whose input (an id) usually comes from another tool's result: the tool -> the tools that produce it.
# A producer's result is rarely the end of a sub-task, so an agent does not stop at it (graphs/agent_node.py).
TOOL_INPUTS: dict[str, tuple[str, ...]] = {
    "schedule_post": ("draft_post", "repurpose_content", "create_variants"),
    "publish_post": ("draft_post", "repurpose_content", "create_variants"),
    "check_brand_compliance": ("draft_post", "draft_newsletter", "create_variants"),
    "create_variants": ("draft_post", "draft_newsletter"),
    "repurpose_content": ("draft_post", "draft_newsletter"),
    "create_payment_link": ("create_product",),
    "create_discount": ("create_product",),
    "reply_to_comment": ("list_comments",),
    "hide_comment": ("list_comments", "detect_spam"),
    "analyze_sentiment": ("list_comments",),
    "detect_spam": ("list_comments",),
    "invite_to_community": ("find_top_engagers", "qualify_leads", "segment_audience"),
    "pause_workflow": ("list_workflows",),
    "resume_workflow": ("list_workflows",),
    "run_workflow": ("list_workflows",),
    "send_email_campaign": ("draft_newsletter",),
}


@dataclass(frozen=True)
class AgentSpec:
    name: AgentName
    title: str
    prompt: str
    description: str
    tool_names: tuple[str, ...]

    def tools(self) -> list[ToolSpec[Any, Any]]:
        registry = load_all_tools()
        missing = [name for name in self.tool_names if name not in registry]
        if missing:
            raise LookupError(f"agent {self.name} declares unknown tools: {', '.join(missing)}")
        return [registry[name] for name in self.tool_names]

    def tools_for(self, needed: list[str]) -> list[str]:
        """The tools to send for a sub-task that needs `needed`: those, transitively the ones of this agent that
        can produce their input (a draft for schedule_post), and the ones that use what a needed producer makes
        (a payment link for a new product: "create a membership and a link" may be planned as the product
        alone). Empty `needed` (unknown): every tool."""
        if not needed or any(name not in self.tool_names for name in needed):
            return list(self.tool_names)
        wanted = set(needed)
        wanted.update(consumer for consumer, producers in TOOL_INPUTS.items()
                      if consumer in self.tool_names and wanted & set(producers))
        pending = list(wanted)
        while pending:
            for producer in TOOL_INPUTS.get(pending.pop(), ()):
                if producer in self.tool_names and producer not in wanted:
                    wanted.add(producer)
                    pending.append(producer)
        return [name for name in self.tool_names if name in wanted]

    def approval_tools(self) -> tuple[str, ...]:
        """Side-effect tools pause for approval unless the workspace policy auto-approves them."""
        return tuple(spec.name for spec in self.tools() if spec.side_effect)


PRODUCER_TOOLS: frozenset[str] = frozenset(p for producers in TOOL_INPUTS.values() for p in producers)
