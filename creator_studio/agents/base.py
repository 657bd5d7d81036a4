"""What an agent is: a name, a prompt, the tools it owns, and which of them need approval."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from creator_studio.tools.base import ToolSpec, load_all_tools
from creator_studio.tools.types import AgentName


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

    def approval_tools(self) -> tuple[str, ...]:
        """Side-effect tools pause for approval unless the workspace policy auto-approves them."""
        return tuple(spec.name for spec in self.tools() if spec.side_effect)
