from creator_studio.agents.base import AgentSpec

CONTENT = AgentSpec(
    name="content",
    title="Content Studio",
    prompt="agents/content",
    description="Drafts, repurposing, newsletters, images and video, brand compliance, calendar, publishing.",
    tool_names=("draft_post", "repurpose_content", "create_variants", "draft_newsletter", "generate_image",
                "generate_video", "check_brand_compliance", "suggest_topics", "get_content_calendar",
                "get_content_performance", "schedule_post", "publish_post"),
)
