"""Who has the staff commands, and what staff read when Coachview fails."""

from __future__ import annotations

from datetime import UTC, datetime

from sandbox.coachview import SCOPES, CoachviewSandbox
from sandbox.telegram import BotCommand, TelegramSandbox
from tests.coachview_fixtures import SEED_ONLY_SELF
from tests.e2e.conftest import StaffDesk, text
from tests.harness import Person, running_bot

UNKNOWN = "I do not know that command. /help lists what I can do."


async def test_for_anyone_else_the_staff_commands_do_not_exist(desk: StaffDesk) -> None:
    stored = await desk.webaanvraag(SEED_ONLY_SELF)
    kees = desk.kees
    asked = len(desk.coachview.requests)
    for command in (f"/lookup {stored.nummer}", "/recent", "/recent 5", "/search Persoon"):
        answer = await kees.say(command)
        assert text(answer) == UNKNOWN, command
    assert text(await kees.say("/frobnicate")) == UNKNOWN
    # In the staff group the bot stays silent, as it does for any command it does not know.
    before = len(desk.group.messages)
    await desk.in_group(f"/lookup {stored.nummer}", by=kees.user)
    await desk.in_group("/recent", by=kees.user)
    assert len(desk.group.messages) == before
    assert len(desk.coachview.requests) == asked


async def test_a_staff_button_pressed_by_anyone_else_is_an_outdated_button(
    desk: StaffDesk,
) -> None:
    stored = await desk.webaanvraag(SEED_ONLY_SELF)
    await desk.in_group("/recent", by=desk.sam.user)
    page = desk.group.last_message
    assert page is not None and page.button_texts == [f"🔎 {stored.nummer}"]
    asked = len(desk.coachview.requests)
    answer = await desk.group.press(f"🔎 {stored.nummer}", by=desk.kees.user)
    await desk.bot.settle()
    assert answer.text == "This button is no longer active. Please use the latest message."
    assert desk.group.last_message == page
    assert len(desk.coachview.requests) == asked

    await desk.group.press(f"🔎 {stored.nummer}", by=desk.sam.user)
    await desk.bot.settle()
    opened = desk.group.last_message
    assert opened is not None and text(opened) is not None
    assert text(opened).startswith(f"📄 Enrollment {stored.nummer}\n")


async def test_staff_see_the_staff_commands_in_their_menus_and_nobody_else_does(
    desk: StaffDesk, telegram: TelegramSandbox
) -> None:
    staff_commands = [
        BotCommand("lookup", "Look up an enrollment by number, id or e-mail"),
        BotCommand("recent", "The latest enrollments"),
        BotCommand("search", "Find enrollments by name, e-mail or company"),
        BotCommand("link", "Share a course: its link and QR code"),
    ]
    everyone = [
        BotCommand("start", "Enroll in a course"),
        BotCommand("cancel", "Cancel your enrollment"),
        BotCommand("language", "Nederlands / English"),
        BotCommand("help", "What I can do"),
        BotCommand("privacy", "Your data: what I keep, see it, erase it"),
    ]
    assert desk.sam.user.visible_commands() == everyone + staff_commands
    assert desk.kees.user.visible_commands() == everyone
    assert desk.group.visible_commands(by=desk.sam.user) == staff_commands
    assert [c.command for c in desk.group.visible_commands(by=desk.kees.user)] == ["start"]
    stranger = telegram.user("Bob", language_code="nl")
    assert [c.command for c in stranger.visible_commands()] == [
        "start",
        "cancel",
        "language",
        "help",
        "privacy",
    ]


async def test_a_staff_member_the_bot_could_not_reach_at_start_gets_the_menu_on_writing(
    telegram: TelegramSandbox, coachview: CoachviewSandbox, database_url: str
) -> None:
    late_id = 900_123
    async with running_bot(telegram, coachview, database_url, staff_user_ids=f"{late_id}") as bot:
        # Telegram knows no chat with this person yet: the menu could not be set at start.
        late = Person(bot, telegram.user("Laat", language_code="en", user_id=late_id))
        assert "lookup" not in [c.command for c in late.user.visible_commands()]
        await late.say("/help")
        assert "lookup" in [c.command for c in late.user.visible_commands()]


async def test_coachview_failures_become_clear_messages(desk: StaffDesk) -> None:
    stored = await desk.webaanvraag(SEED_ONLY_SELF)
    sandbox = desk.coachview

    sandbox.faults.add(method="GET", path="/api/v1/Webaanvragen", status=503)
    answer = await desk.sam.say(f"/lookup {stored.nummer}")
    assert text(answer) == (
        "Coachview cannot be reached right now. Please try again in a few minutes."
    )
    sandbox.faults.add(method="GET", path="/api/v1/Webaanvragen", action="refuse", times=None)
    answer = await desk.sam.say("/recent")
    assert text(answer) == (
        "Coachview cannot be reached right now. Please try again in a few minutes."
    )
    sandbox.faults.clear()

    sandbox.faults.add(method="GET", path="/api/v1/Webaanvragen", status=403)
    answer = await desk.sam.say("/search Persoon")
    assert text(answer) == (
        "Coachview does not let the bot read enrollments: its API client lacks the permission "
        "(scope) for it. Ask your Coachview administrator to add it."
    )

    sandbox.set_budget(remaining=0, reset_at=datetime(2026, 3, 3, 8, 0, tzinfo=UTC))
    answer = await desk.sam.say(f"/lookup {stored.nummer}")
    assert text(answer) == (
        "Coachview's daily request limit is used up. It resets at 3 Mar 2026, 09:00."
    )
    asked = len(sandbox.requests)
    answer = await desk.sam.say("/recent")
    assert text(answer).startswith("Coachview's daily request limit is used up.")
    assert len(sandbox.requests) == asked, "a spent budget is not asked again"


async def test_a_client_without_the_read_scope_is_told_so(
    telegram: TelegramSandbox, database_url: str
) -> None:
    write_only = [scope for scope in SCOPES if scope != "Webaanvragen.Lezen"]
    staff = telegram.user("Sam", language_code="en")
    async with (
        CoachviewSandbox(scopes=write_only) as coachview,
        running_bot(telegram, coachview, database_url, staff_user_ids=str(staff.id)) as bot,
    ):
        answer = await Person(bot, staff).say("/lookup 1001")
    assert text(answer).startswith("Coachview does not let the bot read enrollments")
