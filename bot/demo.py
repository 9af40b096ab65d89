"""``enrollbot demo``: the bot against the embedded sandboxes, the only door into :mod:`sandbox`.

The sandboxes (a Coachview API and a Telegram Bot API server, top-level package ``sandbox``) are
not part of the product: a checkout and the test install have them, the wheel and the image do
not. The demo embeds whatever the settings leave out: without ``COACHVIEW_BASE_URL`` the
Coachview sandbox takes the enrollments; without ``TELEGRAM_BOT_TOKEN`` the Telegram sandbox
stands in for Telegram and the terminal is the chat (the person there is staff too).
``enrollbot check`` starts the same sandboxes to check them where nothing is configured.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.config import Settings

if TYPE_CHECKING:
    from sandbox.chat import TerminalChat
    from sandbox.coachview import CoachviewSandbox
    from sandbox.telegram import TelegramSandbox

__all__ = [
    "NOT_INSTALLED",
    "Demo",
    "SandboxMissing",
    "embed",
    "require_sandboxes",
    "start_coachview",
    "start_telegram",
]

logger = logging.getLogger("bot")

NOT_INSTALLED = (
    "the demo and its sandboxes are not part of this installation (the image ships the bot "
    "only): run `make run` in a checkout, or set TELEGRAM_BOT_TOKEN and COACHVIEW_BASE_URL"
)


class SandboxMissing(RuntimeError):
    """The ``sandbox`` package is not installed (the production wheel or image)."""

    def __init__(self) -> None:
        super().__init__(NOT_INSTALLED)


def require_sandboxes() -> None:
    """Raise :class:`SandboxMissing` unless the sandbox package can be imported."""
    try:
        import sandbox.coachview  # noqa: PLC0415
        import sandbox.telegram  # noqa: F401, PLC0415
    except ImportError as error:
        raise SandboxMissing from error


@dataclass
class Demo:
    """What the demo changed: the settings (staff), the runtime's overrides, the chat."""

    settings: Settings
    overrides: dict[str, object] = field(default_factory=dict)
    chat: TerminalChat | None = None


async def start_coachview(
    stack: contextlib.AsyncExitStack, *, strict: bool = False
) -> CoachviewSandbox:
    """The embedded Coachview sandbox, stopped with ``stack`` (``strict``: it refuses every
    unverified guess); :class:`SandboxMissing` without the sandbox package."""
    try:
        from sandbox.coachview import CoachviewSandbox, Strictness  # noqa: PLC0415
    except ImportError as error:
        raise SandboxMissing from error
    coachview = await stack.enter_async_context(CoachviewSandbox())
    if strict:
        coachview.strict = Strictness.evidence()
    return coachview


async def start_telegram(stack: contextlib.AsyncExitStack) -> TelegramSandbox:
    """The embedded Telegram sandbox, stopped with ``stack``; :class:`SandboxMissing` without
    the sandbox package."""
    try:
        from sandbox.telegram import TelegramSandbox  # noqa: PLC0415
    except ImportError as error:
        raise SandboxMissing from error
    return await stack.enter_async_context(TelegramSandbox())


async def embed(stack: contextlib.AsyncExitStack, settings: Settings) -> Demo:
    """Start the sandboxes for what ``settings`` leave out, stopped with ``stack``."""
    demo = Demo(settings)
    if settings.coachview_base_url is None:
        coachview = await start_coachview(stack)
        demo.overrides.update(
            coachview_base_url=coachview.url,
            coachview_client_id=coachview.client_id,
            coachview_client_secret=coachview.client_secret,
        )
        logger.warning("No COACHVIEW_BASE_URL: using the embedded Coachview sandbox.")
    if settings.telegram_bot_token is None:
        from sandbox.chat import TerminalChat  # noqa: PLC0415

        telegram = await start_telegram(stack)
        demo.overrides.update(token=telegram.token, telegram_api_url=telegram.url)
        demo.chat = TerminalChat(telegram, language_code=settings.default_language)
        if not settings.staff_user_ids:
            # The person at the terminal is staff too, and the staff chat is theirs: the
            # demo shows the staff commands and the notifications as well.
            demo.settings = settings.model_copy(
                update={
                    "staff_user_ids": frozenset({demo.chat.user.id}),
                    "staff_chat_id": settings.staff_chat_id or demo.chat.user.id,
                }
            )
    return demo
