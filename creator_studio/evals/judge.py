"""An optional LLM judge of content quality: does the text a trial produced fit the creator's brand voice?

It runs only with a real model (the offline planner writes from templates; grading itself would be circular),
reports a 1–5 score per trial and a mean per group, and never decides pass or fail: the case format has no
key for it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage

from creator_studio.evals.results import JudgeVerdict, Observation
from creator_studio.prompts import quote_untrusted, render
from creator_studio.workspaces.service import BrandVoice

PROMPT = "evals/judge"
# Trials that wrote something for the creator's audience; their text is what gets graded.
WRITING_TOOLS = frozenset({"draft_post", "repurpose_content", "create_variants", "draft_newsletter",
                           "reply_to_comment", "schedule_post", "publish_post", "send_email_campaign",
                           "invite_to_community", "generate_video"})
TEXT_ARGUMENTS = ("subject", "text", "body", "message", "script")
_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)
MAX_CONTENT_CHARS = 6000


def judged_text(observation: Observation) -> str | None:
    """The text to grade: the final answer plus any text the agent sent through a writing tool, or None."""
    writing = [c for c in observation.calls if c.tool in WRITING_TOOLS and c.status == "ok"]
    if not writing:
        return None
    parts = [observation.answer or ""]
    for call in writing:
        parts.extend(str(call.arguments[key]) for key in TEXT_ARGUMENTS if call.arguments.get(key))
    text = "\n\n".join(p for p in parts if p.strip())
    return text[:MAX_CONTENT_CHARS] or None


def judge_brand_fit(model: BaseChatModel, brand: BrandVoice, goal: str, content: str) -> JudgeVerdict:
    prompt = render(PROMPT, creator_name=brand.creator_name, niche=brand.niche or "their niche",
                    audience=brand.audience or "their audience", tone=brand.tone,
                    vocabulary=", ".join(brand.vocabulary) or "(none listed)",
                    banned_words=", ".join(brand.banned_words) or "(none listed)",
                    goal=quote_untrusted(goal, label="goal"), content=quote_untrusted(content, label="content"))
    try:
        reply = model.invoke([HumanMessage(prompt)])
    except Exception as exc:  # a judge failure is reported on the trial, never fails the suite
        return JudgeVerdict(error=f"the judge model failed: {type(exc).__name__}: {exc}")
    return parse_verdict(reply.content)


def parse_verdict(content: Any) -> JudgeVerdict:
    text = content if isinstance(content, str) else json.dumps(content)
    match = _JSON_OBJECT.search(text)
    if match is None:
        return JudgeVerdict(error=f"the judge did not answer with JSON: {text[:200]!r}")
    try:
        data = json.loads(match.group(0))
        score = int(data["score"])
    except (ValueError, KeyError, TypeError):
        return JudgeVerdict(error=f"the judge's JSON has no integer score: {match.group(0)[:200]!r}")
    if not 1 <= score <= 5:
        return JudgeVerdict(error=f"the judge's score {score} is not between 1 and 5")
    return JudgeVerdict(score=score, reason=str(data.get("reason", ""))[:500])
