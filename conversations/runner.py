"""The enrollment's turns against the world: load the chat's draft, advance it (the pure step
machine, ``conversations/machine.py``), save it (the version check makes a lost race a
:class:`~bot.errors.DraftConflict`), show what comes next (``conversations/view.py``); and the
actions that end or replace a draft (submit, cancel, start over).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from telegram import Bot, Message

from bot.catalogue import LINKED
from bot.coachview.reference import new_reference
from bot.coachview.webaanvraag import build_webaanvraag
from bot.enrollment import Enrollment
from bot.errors import CatalogueUnavailable
from bot.i18n import Translator, esc
from bot.services import Services
from bot.store import drafts, outbox
from bot.store.models import Draft, DraftStatus
from conversations import enrollment
from conversations.deep_links import Start, follow
from conversations.machine import advance, unavailable
from conversations.steps import (
    AGAIN,
    Input,
    Outcome,
    Progress,
    Reads,
    State,
    StepTable,
)
from conversations.view import Reply, say, show

__all__ = ["Origin", "Runner", "state_of"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Origin:
    """Where an update came from and who sent it, in their language: whom to answer."""

    chat_id: int
    user_id: int
    update_id: int
    t: Translator
    bot: Bot

    def reply(self, edit: Message | None = None) -> Reply:
        return Reply(self.bot, self.chat_id, self.t, edit)


def state_of(draft: Draft) -> State:
    """A draft row as the step machine reads it (an old row's progress loads too)."""
    return State(
        step=draft.step,
        enrollment=Enrollment.model_validate(draft.data),
        progress=Progress.model_validate(draft.flow),
        history=tuple(draft.history),
        draft_id=draft.id or 0,
        version=draft.version,
    )


class Runner:
    """Runs the enrollment's step table over drafts: load, advance, save, show."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.table: StepTable = enrollment.build_table(services.questions)

    def reads(self, origin: Origin) -> Reads:
        services = self.services
        terms_url = services.settings.terms_url
        return Reads(
            t=origin.t,
            now=services.clock.now(),
            catalogue=services.catalogue,
            questions=services.questions,
            max_participants=services.settings.max_participants,
            terms_url=str(terms_url) if terms_url else None,
            may_try_again=lambda: self._may_try_again(origin.user_id),
        )

    def load(self, chat_id: int) -> tuple[State, int | None] | None:
        """The chat's open draft, and the last update applied to it; ``None`` without one."""
        with self.services.session() as session:
            draft = drafts.get_open_draft(session, chat_id=chat_id)
            return (state_of(draft), draft.last_update_id) if draft is not None else None

    async def run(
        self,
        origin: Origin,
        state: State,
        inp: Input,
        *,
        edit: Message | None = None,
        notes: Sequence[str] = (),
    ) -> Outcome:
        """Advance ``state`` by ``inp``, save what changed, show what comes next (a refused
        button press shows nothing: its answer says why), and carry out an action."""
        outcome = await advance(self.table, state, inp, self.reads(origin))
        saved = outcome.state
        if outcome.saves:
            saved = self._save(origin, state, outcome.state)
        if outcome.happened == "action" and outcome.action is not None:
            await self._act(origin, outcome, edit)
        elif outcome.prompt is not None:
            await show(
                origin.reply(edit),
                outcome.prompt,
                draft_id=saved.draft_id,
                version=saved.version,
                notes=[*notes, *outcome.notes],
                remove_contact_keyboard=outcome.leaving_contact,
            )
        return replace(outcome, state=saved)

    def _save(self, origin: Origin, before: State, after: State) -> State:
        with self.services.session() as session:
            version = drafts.save_draft(
                session,
                draft_id=before.draft_id,
                expected_version=before.version,
                step=after.step,
                data=after.enrollment.model_dump(mode="json"),
                history=list(after.history),
                flow=after.progress.stored(),
                now=self.services.clock.now(),
                update_id=origin.update_id,
                language=origin.t.language,
            )
            session.commit()
        return replace(after, version=version)

    async def begin(
        self,
        origin: Origin,
        state: State,
        *,
        notes: Sequence[str] = (),
        edit: Message | None = None,
        failure: CatalogueUnavailable | None = None,
    ) -> None:
        """Open a new draft at ``state`` (cancelling an open one) and ask its question.

        With ``failure`` (what led here could not be read) the draft shows that failure instead;
        its Try again runs the action ``progress.again`` names, else asks the question.
        """
        if failure is None:
            outcome = await advance(self.table, state, Input("show"), self.reads(origin))
            prompt, notes = outcome.prompt, [*notes, *outcome.notes]
        else:
            prompt = unavailable(origin.t, failure, AGAIN)
        with self.services.session() as session:
            draft = drafts.create_draft(
                session,
                chat_id=origin.chat_id,
                user_id=origin.user_id,
                step=state.step,
                data=state.enrollment.model_dump(mode="json"),
                flow=state.progress.stored(),
                now=self.services.clock.now(),
                update_id=origin.update_id,
                language=origin.t.language,
            )
            session.commit()
            draft_id, version = draft.id or 0, draft.version
        if prompt is not None:
            await show(origin.reply(edit), prompt, draft_id=draft_id, version=version, notes=notes)

    async def start(self, origin: Origin, payload: str, *, edit: Message | None = None) -> None:
        """Open a new draft: at the named course when ``payload`` names one, else the
        catalogue."""
        t = origin.t
        welcome = t._("Hello! I will help you enroll in a course. It takes about two minutes.")
        welcome += "\n" + t._("🔒 How I handle your details: /privacy")
        notes = [welcome]
        first = State(enrollment.FIRST_STEP)
        if payload:
            try:
                start = await follow(self.services, t, payload, origin.user_id)
            except CatalogueUnavailable as failure:
                # Not an unknown course: say so, and Try again follows the link again.
                progress = Progress(restart_with=payload, again=enrollment.RESTART)
                await self.begin(
                    origin,
                    replace(first, progress=progress),
                    notes=notes,
                    edit=edit,
                    failure=CatalogueUnavailable(LINKED, cause=failure.cause),
                )
                return
            if start is not None:
                await self.begin(origin, _opened(start), notes=[*notes, *start.notes], edit=edit)
                return
            notes.append(t._("I do not know the course in that link; please choose one below."))
        await self.begin(origin, first, notes=notes, edit=edit)

    def _may_try_again(self, user_id: int) -> bool:
        """Whether a Try again press may be followed: each may cost a Coachview read, and the
        person's look-up budget (``bot/budgets.py``) may be spent."""
        if self.services.lookups.take(user_id):
            return True
        logger.info("a person's look-up budget is spent; Try again refused")
        return False

    # -- Actions that end a draft ---------------------------------------------------------------

    async def _act(self, origin: Origin, outcome: Outcome, edit: Message | None) -> None:
        if outcome.action == enrollment.SUBMIT:
            await self.submit(origin, outcome.state, edit)
        elif outcome.action == enrollment.CANCEL:
            await self.cancel(origin, outcome.state, edit)
        elif outcome.action == enrollment.RESTART:
            await self.start(origin, outcome.state.progress.restart_with or "", edit=edit)
        else:
            raise ValueError(f"no such action: {outcome.action}")

    async def submit(self, origin: Origin, state: State, edit: Message | None) -> None:
        """Close the draft and queue its webaanvraag in one transaction; the worker sends it."""
        services = self.services
        settings = services.settings
        answers = state.enrollment
        reference = new_reference()
        extras = services.questions.extras(answers, terms_path=settings.terms_coachview)
        payload = build_webaanvraag(
            answers,
            reference=reference,
            reference_field=settings.coachview_reference_field,
            aanvraag_is_order=settings.coachview_aanvraag_is_order,
            extras=extras,
        )
        course = answers.course
        accepted = answers.terms_accepted_at
        summary = {
            "course": course.opleidingssoort_naam if course else "",
            "course_start": course.start.isoformat() if course and course.start else None,
            "contact": answers.contact.full_name,
            "company": answers.contact.company,
            "participants": answers.participant_count,
            "terms_accepted_at": accepted.isoformat() if accepted else None,
        }
        now = services.clock.now()
        with services.session() as session:
            drafts.close_draft(
                session,
                draft_id=state.draft_id,
                expected_version=state.version,
                status=DraftStatus.SUBMITTED,
                now=now,
            )
            outbox.enqueue(
                session,
                draft_id=state.draft_id,
                reference=reference,
                chat_id=origin.chat_id,
                user_id=origin.user_id,
                language=origin.t.language,
                payload=payload,
                summary=summary,
                now=now,
            )
            session.commit()
        services.wake_submissions()
        t = origin.t
        thanks = t._("📨 Thank you! Your enrollment is being sent; the confirmation follows here.")
        text = enrollment.review_text(t, answers, services.questions) + "\n\n" + esc(thanks)
        await say(origin.reply(edit), text)

    async def cancel(self, origin: Origin, state: State, edit: Message | None) -> None:
        """Delete the draft, after the person confirmed."""
        with self.services.session() as session:
            drafts.delete_draft(session, draft_id=state.draft_id, expected_version=state.version)
            session.commit()
        text = origin.t._(
            "Your enrollment is canceled and your answers are deleted. Type /start to begin again."
        )
        await say(origin.reply(edit), esc(text))


def _opened(start: Start) -> State:
    """The first state of a draft a deep link opens."""
    return State(
        start.step,
        enrollment=start.enrollment or Enrollment(),
        progress=Progress(soort=start.soort),
    )
