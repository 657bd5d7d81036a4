"""The three cross-module workflows of the integration map, run in the simulated world (see run.py)."""

# The side-effect tools the workflows use: the demo's workspace policy approves exactly these.
AUTO_APPROVE = ["publish_post", "reply_to_comment", "hide_comment", "start_email_sequence", "invite_to_community",
                "start_ab_test", "send_email_campaign", "create_product", "create_payment_link"]
