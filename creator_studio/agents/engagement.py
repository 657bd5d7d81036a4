from creator_studio.agents.base import AgentSpec

ENGAGEMENT = AgentSpec(
    name="engagement",
    title="Audience Hub",
    prompt="agents/engagement",
    description="Comments and mentions, sentiment, spam, replies, lead qualification, community, segments.",
    tool_names=("list_comments", "analyze_sentiment", "detect_spam", "get_audience_insights", "find_top_engagers",
                "qualify_leads", "segment_audience", "reply_to_comment", "hide_comment", "invite_to_community"),
)
