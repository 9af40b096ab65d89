"""The remark, then the review: everything entered in one message, what stands in the way of
sending, the general terms, and the buttons that change each part (an edit from the review
comes back to it)."""

from __future__ import annotations

from bot import courses
from bot.enrollment import Answer, Enrollment
from bot.i18n import N_, Translator, esc
from bot.questions import Questions
from conversations import questions as extra
from conversations.enrollment.common import (
    capacity,
    drop_unfinished,
    group_of,
    now_line,
    participant_done,
)
from conversations.enrollment.names import (
    CHOOSING_COURSE_TYPE,
    CHOOSING_DETAIL,
    CHOOSING_PARTICIPANT,
    CHOOSING_RUN,
    CONFIRMING_CANCEL,
    REVIEWING,
    SUBMIT,
    TYPING_PARTICIPANT_FIRST_NAME,
)
from conversations.fields import Invalid, parse_remark, readable_phone
from conversations.steps import Button, Prompt, Turn


async def ask_remark(turn: Turn) -> Prompt:
    t = turn.t
    text = t._(
        "Anything you would like to tell us, such as a question or a dietary need? "
        "Type it, or skip this."
    )
    return Prompt(text + now_line(t, turn.enrollment.remark))


async def remark_typed(turn: Turn, text: str) -> str:
    turn.enrollment.remark = parse_remark(text)
    return turn.proceed(REVIEWING)


async def remark_skipped(turn: Turn) -> str:
    turn.enrollment.remark = None
    return turn.proceed(REVIEWING)


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


def obstacles(turn: Turn) -> list[str]:
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
    missing = turn.reads.questions.missing(enrollment)
    if missing:
        problems.append(
            t.ngettext(
                "{count} question is not answered yet.",
                "{count} questions are not answered yet.",
                len(missing),
            ).format(count=len(missing))
        )
    return problems


def terms_pending(turn: Turn) -> bool:
    """The general terms are to be accepted and have not been yet."""
    return turn.reads.terms_url is not None and turn.enrollment.terms_accepted_at is None


async def ask_review(turn: Turn) -> Prompt:
    t = turn.t
    turn.progress.cursor = 0
    turn.progress.open = False
    drop_unfinished(turn.enrollment)
    problems = obstacles(turn)
    text = review_text(t, turn.enrollment, turn.reads.questions)
    rows: list[list[Button]] = []
    terms_url = turn.reads.terms_url
    accepted = turn.enrollment.terms_accepted_at
    if terms_url is not None and accepted is not None:
        text += "\n\n" + esc(
            t._("✓ General terms accepted on {date}.").format(date=t.datetime(accepted))
        )
    if turn.reads.questions.missing(turn.enrollment):
        rows.append([Button(t._("✏️ Answer the open questions"), "missing")])
    if problems:
        text += "\n\n" + "\n".join(f"⚠️ {esc(problem)}" for problem in problems)
    elif terms_pending(turn):
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
    cap, _ = capacity(turn)
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
        if obstacles(turn):
            raise Invalid(N_("This enrollment cannot be sent yet: see the warning."))
        if terms_pending(turn):
            raise Invalid(N_("Please accept the general terms first."))
        return SUBMIT
    if action == "terms" and turn.reads.terms_url is not None:
        turn.enrollment.terms_accepted_at = turn.now
        return None
    if action == "missing":
        step = first_open(turn)
        if step is not None:
            turn.progress.open = True  # each answer leads to the next open question
        return step
    if action == "course":
        turn.edit_from(REVIEWING, until=CHOOSING_RUN)
        turn.progress.page = 0
        return CHOOSING_COURSE_TYPE
    if action == "details":
        return CHOOSING_DETAIL
    if action == "participants" and turn.enrollment.participants:
        return CHOOSING_PARTICIPANT
    if action == "add":
        turn.edit_from(REVIEWING, until=participant_done(turn))
        turn.progress.cursor = len(turn.enrollment.participants)
        return TYPING_PARTICIPANT_FIRST_NAME
    if action == "cancel":
        return CONFIRMING_CANCEL
    raise Invalid(N_("That button does not belong to this question."))


def first_open(turn: Turn) -> str | None:
    """The first question this draft has not answered (the file changed since it began), as
    an edit from the review; ``None`` when there is none."""
    missing = turn.reads.questions.missing(turn.enrollment)
    if not missing:
        return None
    question, index = missing[0]
    group: extra.Group = "participant" if index is not None else group_of(question)
    if index is not None:
        turn.progress.cursor = index
    step = extra.step_of(question, group)
    turn.edit_from(REVIEWING, until=step)
    return step


def next_open(turn: Turn, target: str) -> str:
    """After an answer given from the review's "Answer the open questions": the next open
    question, until none is left; else ``target``."""
    if target == REVIEWING and turn.progress.open:
        step = first_open(turn)
        if step is not None:
            return step
        turn.progress.open = False
    return target
