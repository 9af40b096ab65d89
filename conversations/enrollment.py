"""The enrollment conversation, as a table of steps. Read it as the product spec; the diagram
beside it (``enrollment.mmd``) draws the same flow.

    course type ─ run (or any date) ─ first name ─ prefix ─ last name ─ e-mail ─ phone ─ company
    ─ [contact questions] ─ attending yourself? ─ [each-person questions, for you]
    ─ participants (name, prefix, last name, e-mail, [each-person questions]; another?)
    ─ [enrollment questions] ─ remark ─ review (─ accept the terms) ─ submit

The questions in brackets are the provider's own (``QUESTIONS_FILE``, ``conversations/
questions.py``); without a file there are none. From the review every answer can be changed:
the edit jumps to that question and comes back. Questions a draft has not answered (the file
changed since it began) are asked from the review; with ``TERMS_URL`` the review asks to accept
the general terms before it offers to send.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final, Literal

from bot import courses
from bot.coachview.models import Opleidingssoort
from bot.enrollment import Answer, Enrollment, Participant
from bot.i18n import N_, Translator, esc
from bot.questions import Question, Questions
from conversations import questions as extra
from conversations.engine import BACK, ActionFn, Button, Flow, Prompt, Step, Turn
from conversations.fields import (
    NO_WORDS,
    YES_WORDS,
    Invalid,
    parse_company,
    parse_email,
    parse_name,
    parse_phone,
    parse_prefix,
    parse_remark,
    parse_shared_phone,
    readable_phone,
)

__all__ = [
    "CANCEL",
    "FIRST_STEP",
    "RESTART",
    "REVIEWING",
    "STEPS",
    "SUBMIT",
    "build_flow",
    "review_text",
]

# What the bot waits for.
CHOOSING_COURSE_TYPE: Final = "CHOOSING_COURSE_TYPE"
CHOOSING_RUN: Final = "CHOOSING_RUN"
TYPING_FIRST_NAME: Final = "TYPING_FIRST_NAME"
TYPING_PREFIX: Final = "TYPING_PREFIX"
TYPING_LAST_NAME: Final = "TYPING_LAST_NAME"
TYPING_EMAIL: Final = "TYPING_EMAIL"
TYPING_PHONE: Final = "TYPING_PHONE"
TYPING_COMPANY: Final = "TYPING_COMPANY"
CHOOSING_ATTENDANCE: Final = "CHOOSING_ATTENDANCE"
CHOOSING_ANOTHER: Final = "CHOOSING_ANOTHER"
TYPING_PARTICIPANT_FIRST_NAME: Final = "TYPING_PARTICIPANT_FIRST_NAME"
TYPING_PARTICIPANT_PREFIX: Final = "TYPING_PARTICIPANT_PREFIX"
TYPING_PARTICIPANT_LAST_NAME: Final = "TYPING_PARTICIPANT_LAST_NAME"
TYPING_PARTICIPANT_EMAIL: Final = "TYPING_PARTICIPANT_EMAIL"
TYPING_REMARK: Final = "TYPING_REMARK"
REVIEWING: Final = "REVIEWING"
CHOOSING_DETAIL: Final = "CHOOSING_DETAIL"
CHOOSING_PARTICIPANT: Final = "CHOOSING_PARTICIPANT"
CHOOSING_PARTICIPANT_CHANGE: Final = "CHOOSING_PARTICIPANT_CHANGE"
CONFIRMING_CANCEL: Final = "CONFIRMING_CANCEL"
CONFIRMING_RESTART: Final = "CONFIRMING_RESTART"

FIRST_STEP: Final = CHOOSING_COURSE_TYPE
# What ends or replaces the draft (conversations/actions.py).
SUBMIT: Final = "SUBMIT"
CANCEL: Final = "CANCEL"
RESTART: Final = "RESTART"
PAGE_SIZE: Final = 6


# -- Small helpers ------------------------------------------------------------------------------


def _yes_no(t: Translator, yes: str, no: str) -> list[list[Button]]:
    return [[Button(yes, "yes"), Button(no, "no")]]


def _yes_no_choices(t: Translator, yes: str, no: str) -> dict[str, str]:
    """The button labels, and yes/no typed in Dutch or English."""
    return {
        yes: "yes",
        no: "no",
        **dict.fromkeys(YES_WORDS, "yes"),
        **dict.fromkeys(NO_WORDS, "no"),
    }


def _current(t: Translator, value: str | None) -> str:
    """Shown under a question whose answer is known (after Back, or when editing)."""
    return "\n" + t._("(now: {value})").format(value=esc(value)) if value else ""


def _cap(turn: Turn) -> tuple[int, bool]:
    """The most people this enrollment may hold, and whether that is the run's free places."""
    course = turn.enrollment.course
    if course is not None and course.free_places is not None:
        return min(course.free_places, turn.services.settings.max_participants), True
    return turn.services.settings.max_participants, False


def _cursor(turn: Turn) -> int:
    return int(turn.flow.get("cursor", 0))


def _participant(turn: Turn) -> Participant:
    """The participant being entered or edited (created on first use)."""
    index = _cursor(turn)
    participants = turn.enrollment.participants
    while len(participants) <= index:
        participants.append(Participant())
    return participants[index]


def _drop_unfinished(enrollment: Enrollment) -> None:
    enrollment.participants = [p for p in enrollment.participants if p.is_complete]


def _paged(
    t: Translator, items: list[tuple[str, str]], page: int
) -> tuple[list[list[Button]], int, int]:
    """One page of (label, action) buttons, with Previous/Next; returns rows, page, pages."""
    pages = max(1, -(-len(items) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = items[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    rows = [[Button(label, action)] for label, action in shown]
    nav = []
    if page > 0:
        nav.append(Button(t._("« Previous"), f"p{page - 1}"))
    if page < pages - 1:
        nav.append(Button(t._("Next »"), f"p{page + 1}"))
    if nav:
        rows.append(nav)
    return rows, page, pages


def _page_note(t: Translator, page: int, pages: int) -> str:
    """ "Page 2 of 3" on a line of its own above the question (the question stays last, which
    is what the chat keeps of it once a choice is made)."""
    if pages <= 1:
        return ""
    return t._("Page {page} of {pages}").format(page=page + 1, pages=pages) + "\n"


def _option(action: str) -> str:
    """The catalogue id an option button ``o:<id>`` stands for."""
    if not action.startswith("o:") or len(action) < 3:
        raise Invalid(N_("That button does not belong to this question."))
    return action[2:]


# -- Course -------------------------------------------------------------------------------------


async def ask_course_type(turn: Turn) -> Prompt:
    t = turn.t
    types = await courses.course_types(turn.services.catalogue)
    items = [(kind.naam, f"o:{kind.id}") for kind in types]
    rows, page, pages = _paged(t, items, int(turn.flow.get("page", 0)))
    turn.flow["page"] = page
    if not types:
        return Prompt(
            t._("There are no courses open for enrollment right now. Please try again later.")
        )
    text = _page_note(t, page, pages) + t._("Which course would you like to enroll in?")
    return Prompt(text, rows)


async def course_type_chosen(turn: Turn, action: str) -> str | None:
    if action.startswith("p") and action[1:].isdigit():
        turn.flow["page"] = int(action[1:])
        return None
    turn.flow["soort"] = _option(action)
    turn.flow["page"] = 0
    await _chosen_type(turn)
    return CHOOSING_RUN


async def _chosen_type(turn: Turn) -> Opleidingssoort:
    types = await courses.course_types(turn.services.catalogue)
    kind = courses.find_type(types, str(turn.flow.get("soort", "")))
    if kind is None:
        raise Invalid(N_("That course is no longer offered. Please choose another one."))
    return kind


async def ask_run(turn: Turn) -> Prompt:
    t = turn.t
    kind = await _chosen_type(turn)
    runs = await courses.runs_of(turn.services.catalogue, kind.id, now=turn.now)
    items = [(courses.run_label(t, run), f"o:{run.id}") for run in runs]
    rows, page, pages = _paged(t, items, int(turn.flow.get("page", 0)))
    turn.flow["page"] = page
    rows.append([Button(t._("Any date (waiting list)"), "any")])
    head = f"<b>{esc(kind.naam)}</b>\n"
    shown = runs[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    text = ""
    if shown:
        text += "\n".join(courses.run_line(t, run) for run in shown) + "\n\n"
    text += _page_note(t, page, pages)
    if runs:
        text += t._("Which date would you like?")
    else:
        text += t._(
            "No dates are planned right now. You can enroll for any date: we put you on the "
            "waiting list and contact you when a date is set."
        )
    details = courses.course_details(t, kind, room=courses.course_screen_room(head, text))
    if details:
        head += details + "\n\n"
    return Prompt(head + text, rows)


async def run_chosen(turn: Turn, action: str) -> str | None:
    if action.startswith("p") and action[1:].isdigit():
        turn.flow["page"] = int(action[1:])
        return None
    kind = await _chosen_type(turn)
    if action == "any":
        turn.enrollment.course = courses.choice_for_type(kind)
    else:
        run_id = _option(action)
        runs = await courses.runs_of(turn.services.catalogue, kind.id, now=turn.now)
        run = next((run for run in runs if run.id == run_id), None)
        if run is None:
            raise Invalid(N_("That date can no longer be booked. Please choose another one."))
        turn.enrollment.course = courses.choice_for_run(kind, run)
    turn.flow.pop("page", None)
    return turn.proceed(TYPING_FIRST_NAME)


# -- Names and contact details (the contact person, or the participant under the cursor) --------

Who = Literal["contact", "participant"]
NameField = Literal["first_name", "prefix", "last_name", "email"]


def _person(turn: Turn, who: Who) -> Participant:
    return turn.enrollment.contact if who == "contact" else _participant(turn)


def _field_step(
    name: str,
    *,
    who: Who,
    attribute: NameField,
    question: str,
    parse: Callable[[str], str],
    next_step: str | Callable[[Turn], str],
    skippable: bool = False,
) -> Step:
    """A question answered by typing one field of the contact person or a participant."""

    async def ask(turn: Turn) -> Prompt:
        t = turn.t
        person = _person(turn, who)
        text = t._(question)
        if who == "participant":
            text = t._("Participant {number}: {question}").format(
                number=_cursor(turn) + 1, question=text
            )
        if name == TYPING_FIRST_NAME and turn.enrollment.course and not turn.editing:
            text = courses.course_line(t, turn.enrollment.course) + "\n\n" + text
        return Prompt(text + _current(t, getattr(person, attribute)))

    def then(turn: Turn) -> str:
        return turn.proceed(next_step if isinstance(next_step, str) else next_step(turn))

    async def typed(turn: Turn, text: str) -> str:
        setattr(_person(turn, who), attribute, parse(text))
        return then(turn)

    async def skip(turn: Turn) -> str:
        setattr(_person(turn, who), attribute, None)
        return then(turn)

    return Step(name, ask=ask, text=typed, skip=skip if skippable else None)


# -- Phone (typed, or shared with Telegram's contact button) ------------------------------------


async def ask_phone(turn: Turn) -> Prompt:
    t = turn.t
    text = t._(
        "What is your phone number? Type it, share it with the button below, or skip this."
    ) + _current(t, turn.enrollment.contact.phone)
    return Prompt(text, share_contact_label=t._("📱 Share my number"))


def _phone_saved(turn: Turn, phone: str) -> str:
    turn.enrollment.contact.phone = phone
    turn.notes.append(turn.t._("✓ Phone: {phone}").format(phone=esc(readable_phone(phone))))
    return turn.proceed(TYPING_COMPANY)


async def phone_typed(turn: Turn, text: str) -> str:
    return _phone_saved(turn, parse_phone(text))


async def phone_shared(turn: Turn, phone: str, own: bool) -> str:
    if not own:
        raise Invalid(N_("Please share your own number (with the button), or type it."))
    return _phone_saved(turn, parse_shared_phone(phone))


async def phone_skipped(turn: Turn) -> str:
    turn.enrollment.contact.phone = None
    return turn.proceed(TYPING_COMPANY)


# -- Company ------------------------------------------------------------------------------------


async def ask_company(turn: Turn) -> Prompt:
    t = turn.t
    text = t._("Which company do you work for? Skip this if you enroll privately.")
    return Prompt(text + _current(t, turn.enrollment.contact.company))


async def company_typed(turn: Turn, text: str) -> str:
    turn.enrollment.contact.company = parse_company(text)
    return turn.proceed(_first(turn, "contact"))


async def company_skipped(turn: Turn) -> str:
    turn.enrollment.contact.company = None
    return turn.proceed(_first(turn, "contact"))


# -- The provider's own questions (conversations/questions.py) ---------------------------------


def _after(turn: Turn, group: extra.Group) -> str:
    """Where a group of the provider's questions leads once answered."""
    if group == "contact":
        return CHOOSING_ATTENDANCE
    if group == "self":
        cap, _ = _cap(turn)
        if turn.enrollment.participant_count >= cap:
            return _first(turn, "enrollment")
        return CHOOSING_ANOTHER
    if group == "participant":
        return CHOOSING_ANOTHER
    return TYPING_REMARK


def _first(turn: Turn, group: extra.Group) -> str:
    return extra.first_step(turn, group, _after)


def _participant_done(turn: Turn) -> str:
    """The last question about a participant: where adding one from the review ends."""
    return extra.last_step(turn, "participant", TYPING_PARTICIPANT_EMAIL)


# -- Attending yourself, and the participants ---------------------------------------------------


def _attendance_labels(t: Translator) -> tuple[str, str]:
    return t._("Yes, I will attend"), t._("No, I enroll others")


async def ask_attendance(turn: Turn) -> Prompt:
    t = turn.t
    yes, no = _attendance_labels(t)
    return Prompt(t._("Will you attend the course yourself?"), _yes_no(t, yes, no))


def attendance_choices(turn: Turn) -> dict[str, str]:
    return _yes_no_choices(turn.t, *_attendance_labels(turn.t))


def _start_new_participant(turn: Turn) -> str:
    turn.flow["cursor"] = len(turn.enrollment.participants)
    if turn.editing:
        turn.edit_from(str(turn.flow["return_to"]), until=_participant_done(turn))
    return TYPING_PARTICIPANT_FIRST_NAME


async def attendance_chosen(turn: Turn, action: str) -> str | None:
    if action not in ("yes", "no"):
        raise Invalid(N_("That button does not belong to this question."))
    enrollment = turn.enrollment
    enrollment.attending = action == "yes"
    if not enrollment.attending and not enrollment.participants:
        turn.notes.append(turn.t._("Then please tell me who will attend."))
        return _start_new_participant(turn)
    if enrollment.attending and not turn.editing:
        cap, from_run = _cap(turn)
        if enrollment.participant_count >= cap and from_run:
            turn.notes.append(
                turn.t.ngettext(
                    "This date has {count} free place left, so this enrollment is for you.",
                    "This date has {count} free places left: they are for you and the people "
                    "you already entered.",
                    cap,
                ).format(count=cap)
            )
        return _first(turn, "self")
    return turn.proceed(CHOOSING_ANOTHER)


async def ask_another(turn: Turn) -> Prompt:
    t = turn.t
    enrollment = turn.enrollment
    cap, from_run = _cap(turn)
    if enrollment.participant_count >= cap:
        if from_run:
            text = t.ngettext(
                "This date has {count} free place, and this enrollment fills it.",
                "This date has {count} free places, and they are all taken by the people "
                "you entered.",
                cap,
            ).format(count=cap)
        else:
            text = t.ngettext(
                "You can enroll at most {count} person at once.",
                "You can enroll at most {count} people at once.",
                cap,
            ).format(count=cap)
        return Prompt(text, [[Button(t._("Continue"), "no")]])
    if enrollment.participants:
        question = t._("Do you want to enroll another person?")
    else:
        question = t._("Do you want to enroll someone else too?")
    return Prompt(question, _yes_no(t, t._("Yes"), t._("No")))


def another_choices(turn: Turn) -> dict[str, str]:
    return {**_yes_no_choices(turn.t, turn.t._("Yes"), turn.t._("No")), turn.t._("Continue"): "no"}


async def another_chosen(turn: Turn, action: str) -> str | None:
    if action == "yes":
        cap, _ = _cap(turn)
        if turn.enrollment.participant_count >= cap:
            raise Invalid(N_("No more people fit in this enrollment."))
        return _start_new_participant(turn)
    if action == "no":
        _drop_unfinished(turn.enrollment)
        turn.flow.pop("cursor", None)
        return turn.proceed(_first(turn, "enrollment"))
    raise Invalid(N_("That button does not belong to this question."))


# -- Remark -------------------------------------------------------------------------------------


async def ask_remark(turn: Turn) -> Prompt:
    t = turn.t
    text = t._(
        "Anything you would like to tell us, such as a question or a dietary need? "
        "Type it, or skip this."
    )
    return Prompt(text + _current(t, turn.enrollment.remark))


async def remark_typed(turn: Turn, text: str) -> str:
    turn.enrollment.remark = parse_remark(text)
    return turn.proceed(REVIEWING)


async def remark_skipped(turn: Turn) -> str:
    turn.enrollment.remark = None
    return turn.proceed(REVIEWING)


# -- Review -------------------------------------------------------------------------------------


def _answer_lines(
    t: Translator,
    questions: Questions,
    enrollment: Enrollment,
    answers: dict[str, Answer],
    *,
    scopes: tuple[str, ...],
    indent: str = "",
) -> list[str]:
    """ "Label: answer" for each of the provider's questions of ``scopes`` answered here."""
    return [
        indent
        + t._("{label}: {value}").format(
            label=esc(question.title(t.language)),
            value=esc(extra.answer_text(t, question, answers[question.id])),
        )
        for question in questions.all
        if question.for_ in scopes and question.id in answers and question.applies(enrollment)
    ]


def review_text(t: Translator, enrollment: Enrollment, questions: Questions | None = None) -> str:
    """Everything entered, in one message (HTML, every value escaped)."""
    questions = questions or Questions()
    lines = ["<b>" + esc(t._("Please check your enrollment")) + "</b>", ""]
    if enrollment.course is not None:
        lines.append(courses.course_line(t, enrollment.course))
        lines.append("")
    contact = enrollment.contact
    lines.append("<b>" + esc(t._("Contact person")) + "</b>")
    lines.append(esc(contact.full_name))
    if contact.email:
        lines.append(esc(contact.email))
    if contact.phone:
        lines.append(esc(readable_phone(contact.phone)))
    if contact.company:
        lines.append(t._("Company: {company}").format(company=esc(contact.company)))
    scopes = ("contact", "each-person") if enrollment.attending else ("contact",)
    lines.extend(_answer_lines(t, questions, enrollment, contact.answers, scopes=scopes))
    lines.append("")
    count = enrollment.participant_count
    lines.append(
        "<b>"
        + esc(t.ngettext("{count} participant", "{count} participants", count).format(count=count))
        + "</b>"
    )
    number = 0
    if enrollment.attending:
        number += 1
        lines.append(
            t._("{number}. {name} (you)").format(number=number, name=esc(contact.full_name))
        )
    for participant in enrollment.participants:
        number += 1
        name = esc(participant.full_name)
        if participant.email:
            name += f", {esc(participant.email)}"
        lines.append(t._("{number}. {name}").format(number=number, name=name))
        lines.extend(
            _answer_lines(
                t,
                questions,
                enrollment,
                participant.answers,
                scopes=("each-person",),
                indent="    ",
            )
        )
    details = _answer_lines(t, questions, enrollment, enrollment.answers, scopes=("enrollment",))
    if details:
        lines.extend(["", "<b>" + esc(t._("Other details")) + "</b>", *details])
    if enrollment.remark:
        lines.extend(["", "<b>" + esc(t._("Remark")) + "</b>", esc(enrollment.remark)])
    return "\n".join(lines)


def _problems(turn: Turn) -> list[str]:
    """What stands in the way of submitting (shown on the review instead of the Send button)."""
    t = turn.t
    enrollment = turn.enrollment
    problems = []
    if enrollment.participant_count == 0:
        problems.append(t._("Nobody attends yet: add a participant, or attend yourself."))
    course = enrollment.course
    if (
        course is not None
        and course.free_places is not None
        and enrollment.participant_count > course.free_places
    ):
        problems.append(
            t.ngettext(
                "This date has only {count} free place: remove participants or choose "
                "another date.",
                "This date has only {count} free places: remove participants or choose "
                "another date.",
                course.free_places,
            ).format(count=course.free_places)
        )
    if course is None:
        problems.append(t._("Choose a course first."))
    missing = turn.services.questions.missing(enrollment)
    if missing:
        problems.append(
            t.ngettext(
                "{count} question is not answered yet.",
                "{count} questions are not answered yet.",
                len(missing),
            ).format(count=len(missing))
        )
    return problems


def _terms_pending(turn: Turn) -> bool:
    """The general terms are to be accepted and have not been yet."""
    return (
        turn.services.settings.terms_url is not None and turn.enrollment.terms_accepted_at is None
    )


async def ask_review(turn: Turn) -> Prompt:
    t = turn.t
    turn.flow.pop("cursor", None)
    turn.flow.pop("open", None)
    _drop_unfinished(turn.enrollment)
    problems = _problems(turn)
    text = review_text(t, turn.enrollment, turn.services.questions)
    rows: list[list[Button]] = []
    terms_url = turn.services.settings.terms_url
    accepted = turn.enrollment.terms_accepted_at
    if terms_url is not None and accepted is not None:
        text += "\n\n" + esc(
            t._("✓ General terms accepted on {date}.").format(date=t.datetime(accepted))
        )
    if turn.services.questions.missing(turn.enrollment):
        rows.append([Button(t._("✏️ Answer the open questions"), "missing")])
    if problems:
        text += "\n\n" + "\n".join(f"⚠️ {esc(problem)}" for problem in problems)
    elif _terms_pending(turn):
        text += "\n\n" + t._("Before sending, please read and accept our {terms}.").format(
            terms=f'<a href="{esc(terms_url)}">' + esc(t._("general terms")) + "</a>"
        )
        rows.append([Button(t._("📄 Read the general terms"), url=str(terms_url))])
        rows.append([Button(t._("☑️ I accept the general terms"), "terms")])
    else:
        rows.append([Button(t._("✅ Send enrollment"), "submit")])
    rows.append(
        [Button(t._("📅 Change course"), "course"), Button(t._("✏️ Change details"), "details")]
    )
    cap, _ = _cap(turn)
    people = []
    if turn.enrollment.participants:
        people.append(Button(t._("👥 Change participants"), "participants"))
    if turn.enrollment.participant_count < cap:
        people.append(Button(t._("➕ Add participant"), "add"))
    rows.append(people)
    rows.append([Button(t._("✖️ Cancel enrollment"), "cancel")])
    return Prompt(text, rows)


async def review_chosen(turn: Turn, action: str) -> str | None:
    if action == "submit":
        if _problems(turn):
            raise Invalid(N_("This enrollment cannot be sent yet: see the warning."))
        if _terms_pending(turn):
            raise Invalid(N_("Please accept the general terms first."))
        return SUBMIT
    if action == "terms" and turn.services.settings.terms_url is not None:
        turn.enrollment.terms_accepted_at = turn.now
        return None
    if action == "missing":
        step = _first_open(turn)
        if step is not None:
            turn.flow["open"] = True  # each answer leads to the next open question
        return step
    if action == "course":
        turn.edit_from(REVIEWING, until=CHOOSING_RUN)
        turn.flow["page"] = 0
        return CHOOSING_COURSE_TYPE
    if action == "details":
        return CHOOSING_DETAIL
    if action == "participants" and turn.enrollment.participants:
        return CHOOSING_PARTICIPANT
    if action == "add":
        turn.edit_from(REVIEWING, until=_participant_done(turn))
        turn.flow["cursor"] = len(turn.enrollment.participants)
        return TYPING_PARTICIPANT_FIRST_NAME
    if action == "cancel":
        return CONFIRMING_CANCEL
    raise Invalid(N_("That button does not belong to this question."))


def _first_open(turn: Turn) -> str | None:
    """The first question this draft has not answered (the file changed since it began), as
    an edit from the review; ``None`` when there is none."""
    missing = turn.services.questions.missing(turn.enrollment)
    if not missing:
        return None
    question, index = missing[0]
    group: extra.Group = "participant" if index is not None else _group_of(question)
    if index is not None:
        turn.flow["cursor"] = index
    step = extra.step_of(question, group)
    turn.edit_from(REVIEWING, until=step)
    return step


def _next_open(turn: Turn, target: str) -> str:
    """After an answer given from the review's "Answer the open questions": the next open
    question, until none is left; else ``target``."""
    if target == REVIEWING and turn.flow.get("open"):
        step = _first_open(turn)
        if step is not None:
            return step
        turn.flow.pop("open", None)
    return target


def _group_of(question: Question) -> extra.Group:
    """The group a question of the contact person or of the enrollment is asked in."""
    if question.for_ == "contact":
        return "contact"
    return "self" if question.for_ == "each-person" else "enrollment"


_DETAILS: Final[tuple[tuple[str, str], ...]] = (
    (N_("First name"), TYPING_FIRST_NAME),
    (N_("Name prefix"), TYPING_PREFIX),
    (N_("Last name"), TYPING_LAST_NAME),
    (N_("E-mail"), TYPING_EMAIL),
    (N_("Phone"), TYPING_PHONE),
    (N_("Company"), TYPING_COMPANY),
    (N_("Attending yourself"), CHOOSING_ATTENDANCE),
    (N_("Remark"), TYPING_REMARK),
)


def _field_menu(t: Translator, fields: Fields) -> list[list[Button]]:
    """A button per field (``f<i>``), two a row."""
    buttons = [Button(t._(label), f"f{i}") for i, (label, _) in enumerate(fields)]
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


Fields = tuple[tuple[str, str], ...]


def _with_questions(turn: Turn, fields: Fields, groups: tuple[extra.Group, ...]) -> Fields:
    """The built-in fields, then the provider's questions of ``groups`` that apply (their
    labels are already in the person's language: ``t._`` leaves them as they are)."""
    enrollment = turn.enrollment
    added = []
    for question in turn.services.questions.all:
        group = "participant" if "participant" in groups else _group_of(question)
        if group not in groups or not question.applies(enrollment):
            continue
        if group == "self" and not enrollment.attending:
            continue
        if group == "participant" and question.for_ != "each-person":
            continue
        added.append((question.title(turn.t.language), extra.step_of(question, group)))
    return (*fields, *added)


def _details(turn: Turn) -> Fields:
    return _with_questions(turn, _DETAILS, ("contact", "self", "enrollment"))


def _participant_fields(turn: Turn) -> Fields:
    return _with_questions(turn, _PARTICIPANT_FIELDS, ("participant",))


def _edit_field(turn: Turn, action: str, fields: Fields) -> str:
    """The question of the field whose button was pressed; the edit returns to the review."""
    index = int(action[1:]) if action.startswith("f") and action[1:].isdigit() else -1
    if not 0 <= index < len(fields):
        raise Invalid(N_("That button does not belong to this question."))
    step = fields[index][1]
    turn.edit_from(REVIEWING, until=step)
    return step


async def ask_detail(turn: Turn) -> Prompt:
    return Prompt(turn.t._("What would you like to change?"), _field_menu(turn.t, _details(turn)))


async def detail_chosen(turn: Turn, action: str) -> str | None:
    return _edit_field(turn, action, _details(turn))


def detail_choices(turn: Turn) -> dict[str, str]:
    return {turn.t._(label): f"f{i}" for i, (label, _) in enumerate(_details(turn))}


async def ask_participant(turn: Turn) -> Prompt:
    t = turn.t
    rows = [
        [Button(participant.full_name or "?", f"o{i}")]
        for i, participant in enumerate(turn.enrollment.participants)
    ]
    return Prompt(t._("Which participant?"), rows)


async def participant_chosen(turn: Turn, action: str) -> str | None:
    if action.startswith("o") and action[1:].isdigit():
        index = int(action[1:])
        if index < len(turn.enrollment.participants):
            turn.flow["cursor"] = index
            return CHOOSING_PARTICIPANT_CHANGE
    raise Invalid(N_("That button does not belong to this question."))


_PARTICIPANT_FIELDS: Final[tuple[tuple[str, str], ...]] = (
    (N_("First name"), TYPING_PARTICIPANT_FIRST_NAME),
    (N_("Name prefix"), TYPING_PARTICIPANT_PREFIX),
    (N_("Last name"), TYPING_PARTICIPANT_LAST_NAME),
    (N_("E-mail"), TYPING_PARTICIPANT_EMAIL),
)


async def ask_participant_change(turn: Turn) -> Prompt:
    t = turn.t
    participant = _participant(turn)
    rows = _field_menu(t, _participant_fields(turn))
    rows.append([Button(t._("🗑 Remove this participant"), "remove")])
    text = t._("{name}: what would you like to change?").format(
        name=f"<b>{esc(participant.full_name)}</b>"
    )
    return Prompt(text, rows)


async def participant_change_chosen(turn: Turn, action: str) -> str | None:
    enrollment = turn.enrollment
    if action == "remove":
        if not enrollment.attending and len(enrollment.participants) == 1:
            raise Invalid(
                N_("At least one participant is needed when you do not attend yourself.")
            )
        removed = enrollment.participants.pop(_cursor(turn))
        turn.notes.append(
            turn.t._("{name} is no longer on the enrollment.").format(name=esc(removed.full_name))
        )
        return REVIEWING
    return _edit_field(turn, action, _participant_fields(turn))


# -- Cancel and restart -------------------------------------------------------------------------


async def ask_cancel(turn: Turn) -> Prompt:
    t = turn.t
    text = t._("Do you want to cancel this enrollment? Your answers will be deleted.")
    return Prompt(text, _yes_no(t, t._("Yes, cancel it"), t._("No, go on")))


def cancel_choices(turn: Turn) -> dict[str, str]:
    return _yes_no_choices(turn.t, turn.t._("Yes, cancel it"), turn.t._("No, go on"))


async def cancel_chosen(turn: Turn, action: str) -> str | None:
    if action == "yes":
        return CANCEL
    if action == "no":
        return BACK
    raise Invalid(N_("That button does not belong to this question."))


async def ask_restart(turn: Turn) -> Prompt:
    t = turn.t
    course = turn.enrollment.course
    if course is not None:
        text = t._(
            "You have an enrollment in progress for {course}. Continue where you left off, "
            "or start over?"
        ).format(course=courses.course_line(t, course))
    else:
        text = t._(
            "You have an enrollment in progress. Continue where you left off, or start over?"
        )
    return Prompt(text, [[Button(t._("Continue"), "no"), Button(t._("Start over"), "yes")]])


def restart_choices(turn: Turn) -> dict[str, str]:
    return {turn.t._("Continue"): "no", turn.t._("Start over"): "yes"}


async def restart_chosen(turn: Turn, action: str) -> str | None:
    if action == "yes":
        return RESTART
    if action == "no":
        return BACK
    raise Invalid(N_("That button does not belong to this question."))


def _step(
    name: str,
    ask: Callable[[Turn], Awaitable[Prompt]],
    button: Callable[[Turn, str], Awaitable[str | None]],
    choices: Callable[[Turn], dict[str, str]] | None = None,
    *,
    back: bool = True,
    home: bool = False,
) -> Step:
    """A question answered with buttons (or their labels typed)."""
    return Step(name, ask=ask, button=button, typed_choices=choices, back=back, home=home)


# -- The table ----------------------------------------------------------------------------------


def build_flow(actions: dict[str, ActionFn], questions: Questions | None = None) -> Flow:
    """The enrollment flow with its actions (submit, cancel, start over) plugged in, and a step
    for each of the provider's ``questions``. A draft at a step that no longer exists (its
    question was taken out of the file) continues at the review."""
    asked = extra.build_steps(
        questions or Questions(), after=_after, participant=_participant, resume=_next_open
    )
    return Flow(*STEPS, *asked, actions=actions, fallback=REVIEWING)


STEPS: Final = (
    _step(CHOOSING_COURSE_TYPE, ask_course_type, course_type_chosen),
    _step(CHOOSING_RUN, ask_run, run_chosen),
    _field_step(
        TYPING_FIRST_NAME,
        who="contact",
        attribute="first_name",
        question=N_("What is your first name?"),
        parse=parse_name,
        next_step=TYPING_PREFIX,
    ),
    _field_step(
        TYPING_PREFIX,
        who="contact",
        attribute="prefix",
        question=N_(
            "Does your last name have a prefix, such as “van” or “de”? Type it, or skip this."
        ),
        parse=parse_prefix,
        next_step=TYPING_LAST_NAME,
        skippable=True,
    ),
    _field_step(
        TYPING_LAST_NAME,
        who="contact",
        attribute="last_name",
        question=N_("What is your last name?"),
        parse=parse_name,
        next_step=TYPING_EMAIL,
    ),
    _field_step(
        TYPING_EMAIL,
        who="contact",
        attribute="email",
        question=N_("What is your e-mail address?"),
        parse=parse_email,
        next_step=TYPING_PHONE,
    ),
    Step(TYPING_PHONE, ask=ask_phone, text=phone_typed, contact=phone_shared, skip=phone_skipped),
    Step(TYPING_COMPANY, ask=ask_company, text=company_typed, skip=company_skipped),
    _step(CHOOSING_ATTENDANCE, ask_attendance, attendance_chosen, attendance_choices),
    _step(CHOOSING_ANOTHER, ask_another, another_chosen, another_choices),
    _field_step(
        TYPING_PARTICIPANT_FIRST_NAME,
        who="participant",
        attribute="first_name",
        question=N_("What is their first name?"),
        parse=parse_name,
        next_step=TYPING_PARTICIPANT_PREFIX,
    ),
    _field_step(
        TYPING_PARTICIPANT_PREFIX,
        who="participant",
        attribute="prefix",
        question=N_(
            "Does their last name have a prefix, such as “van” or “de”? Type it, or skip this."
        ),
        parse=parse_prefix,
        next_step=TYPING_PARTICIPANT_LAST_NAME,
        skippable=True,
    ),
    _field_step(
        TYPING_PARTICIPANT_LAST_NAME,
        who="participant",
        attribute="last_name",
        question=N_("What is their last name?"),
        parse=parse_name,
        next_step=TYPING_PARTICIPANT_EMAIL,
    ),
    _field_step(
        TYPING_PARTICIPANT_EMAIL,
        who="participant",
        attribute="email",
        question=N_("What is their e-mail address? Skip this if you do not know it."),
        parse=parse_email,
        next_step=lambda turn: _first(turn, "participant"),
        skippable=True,
    ),
    Step(TYPING_REMARK, ask=ask_remark, text=remark_typed, skip=remark_skipped),
    _step(REVIEWING, ask_review, review_chosen, back=False, home=True),
    _step(CHOOSING_DETAIL, ask_detail, detail_chosen, detail_choices),
    _step(CHOOSING_PARTICIPANT, ask_participant, participant_chosen),
    _step(CHOOSING_PARTICIPANT_CHANGE, ask_participant_change, participant_change_chosen),
    _step(CONFIRMING_CANCEL, ask_cancel, cancel_chosen, cancel_choices),
    _step(CONFIRMING_RESTART, ask_restart, restart_chosen, restart_choices, back=False),
)
