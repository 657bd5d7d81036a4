from creator_studio.agents.base import AgentSpec

REVENUE = AgentSpec(
    name="revenue",
    title="Revenue Center",
    prompt="agents/revenue",
    description="Products, prices and payment links, MRR and churn, funnels, A/B tests, attribution, forecasts, "
                "email sequences and campaigns.",
    tool_names=("get_revenue_metrics", "analyze_funnel", "get_attribution", "forecast_revenue",
                "detect_churn_risk", "get_ab_test_results", "start_ab_test", "create_product",
                "create_payment_link", "create_discount", "start_email_sequence", "send_email_campaign"),
)
