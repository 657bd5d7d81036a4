from creator_studio.agents.base import AgentSpec

AUTOMATION = AgentSpec(
    name="automation",
    title="Automation Lab",
    prompt="agents/automation",
    description="Workflows, time/event/threshold triggers, scheduled autonomous runs, system health.",
    tool_names=("list_workflows", "get_workflow_runs", "get_system_health", "create_workflow", "schedule_goal",
                "pause_workflow", "resume_workflow", "run_workflow"),
)
