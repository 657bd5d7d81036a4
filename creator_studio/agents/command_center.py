from creator_studio.agents.base import AgentSpec

COMMAND_CENTER = AgentSpec(
    name="command_center",
    title="Command Center",
    prompt="agents/command_center",
    description="The dashboard summary across modules, and growth targets.",
    tool_names=("get_dashboard_summary", "set_target"),
)
