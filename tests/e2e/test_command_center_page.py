"""A creator in a real browser: log in with a token, send a goal in the chat, approve the action, see it on
the calendar, and watch a tile change live (no reload), on a laptop and a phone width."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from tests.e2e.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]
GOAL = "Draft a LinkedIn post about my course launch and schedule it for Friday 9am"


def test_login_chat_approve_calendar_and_a_live_tile(live_server: LiveServer, tmp_path: Path) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 1366, "height": 900})
        try:
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{live_server.url}/dashboard")
            expect(page).to_have_url(f"{live_server.url}/login")
            page.get_by_label("API token").fill(live_server.editor_token)
            page.keyboard.press("Enter")  # the keyboard alone is enough
            expect(page.get_by_role("heading", name="Chat with the Command Center")).to_be_visible()
            cookie = next(c for c in context.cookies() if c["name"] == "studio_session")
            assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
            page.screenshot(path=str(ARTIFACTS / "01-dashboard.png"), full_page=True)
            # Every live update below must arrive without a reload: this marker would vanish on one.
            page.evaluate("window.__notReloaded = true")
            page.wait_for_function("document.querySelector('[sse-connect]') && "
                                   "htmx.find('#live')['htmx-internal-data'].sseEventSource?.readyState === 1")

            page.get_by_label("Your goal").fill(GOAL)
            page.get_by_role("button", name="Send").click()
            chat_approve = page.locator("#chat-log").get_by_role("button", name="Approve schedule_post")
            expect(chat_approve).to_be_visible(timeout=60_000)
            expect(page.locator("#approvals").get_by_role("button", name="Approve schedule_post")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "02-approval-requested.png"), full_page=True)

            page.locator("#approvals").get_by_role("button", name="Approve schedule_post").click()
            # The queue empties and the copy in the chat follows the decision made in the queue, both live.
            expect(page.locator("#approvals")).to_contain_text("Nothing waits for a decision", timeout=60_000)
            expect(page.locator("#chat-log").get_by_text("Approved")).to_be_visible()
            scheduled = page.locator("#calendar .entry.scheduled")
            expect(scheduled).to_have_count(1)
            expect(scheduled).to_contain_text("linkedin")
            expect(page.locator("#timeline")).to_contain_text("content → draft_post")
            page.screenshot(path=str(ARTIFACTS / "03-approved-on-calendar.png"), full_page=True)

            # Something changes elsewhere (another tool, over the API): the tile follows, live.
            tile = page.get_by_test_id("tile-workflows-value")
            before = int(tile.inner_text())
            created = httpx.post(f"{live_server.url}/api/workflows", headers={
                "Authorization": f"Bearer {live_server.owner_token}"}, json={
                "name": "Weekly plan", "definition": {"trigger": {"type": "cron", "cron": "0 9 * * 1"},
                                                      "steps": [{"type": "goal", "goal": "Plan next week"}]}})
            assert created.status_code == 201, created.text
            expect(tile).to_have_text(str(before + 1))
            live_server.studio.events.publish("audience.follower_gained", "default",
                                              {"platform": "x", "count": 120}, source="e2e")
            expect(page.get_by_test_id("tile-followers-value").locator("xpath=..")).to_contain_text("+120 in 30 days")
            assert page.evaluate("window.__notReloaded === true")
            page.screenshot(path=str(ARTIFACTS / "04-live-tiles.png"), full_page=True)

            # Every form control has a label a screen reader can announce.
            unlabelled = page.evaluate("""[...document.querySelectorAll('input, textarea, button')]
                .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                              && !el.textContent.trim()).length""")
            assert unlabelled == 0

            # A phone: nothing wider than the screen.
            page.set_viewport_size({"width": 390, "height": 844})
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.screenshot(path=str(ARTIFACTS / "05-phone.png"), full_page=True)
        finally:
            context.close()
