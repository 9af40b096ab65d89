"""The enrollment conversation, as a table of steps: read :data:`STEPS` as the product spec, one
step a line with where it goes; the diagram beside it (``enrollment.mmd``) draws the same flow.

    course type ─ run (or any date) ─ first name ─ prefix ─ last name ─ e-mail ─ phone ─ company
    ─ [contact questions] ─ attending yourself? ─ [each-person questions, for you]
    ─ participants (name, prefix, last name, e-mail, [each-person questions]; another?)
    ─ [enrollment questions] ─ remark ─ review (─ accept the terms) ─ submit

The questions in brackets are the provider's own (``QUESTIONS_FILE``,
``conversations/questions.py``); without a file there are none. From the review every answer
can be changed: the edit jumps to that question and comes back (every step may go to the review
so). Questions a draft has not answered (the file changed since it began) are asked from the
review; with ``TERMS_URL`` the review asks to accept the general terms before it offers to send.

The step functions live by theme: ``course.py``, ``person.py`` (the fields of the contact person
and of each participant, written once), ``contact.py`` (phone, company), ``participants.py``,
``review.py`` (remark, review) and ``changes.py`` (changing answers, cancel, start over).
"""

from __future__ import annotations

from typing import Final

from bot.questions import Questions
from conversations import questions as extra
from conversations.enrollment.changes import (
    ask_cancel,
    ask_detail,
    ask_participant,
    ask_participant_change,
    ask_restart,
    cancel_choices,
    cancel_chosen,
    detail_choices,
    detail_chosen,
    participant_change_chosen,
    participant_chosen,
    restart_choices,
    restart_chosen,
)
from conversations.enrollment.common import after_questions, buttons, current_participant, typing
from conversations.enrollment.contact import (
    ask_company,
    ask_phone,
    company_skipped,
    company_typed,
    phone_shared,
    phone_skipped,
    phone_typed,
)
from conversations.enrollment.course import (
    ask_course_type,
    ask_run,
    course_type_chosen,
    run_chosen,
)
from conversations.enrollment.names import (
    CANCEL,
    CHOOSING_ANOTHER,
    CHOOSING_ATTENDANCE,
    CHOOSING_COURSE_TYPE,
    CHOOSING_DETAIL,
    CHOOSING_PARTICIPANT,
    CHOOSING_PARTICIPANT_CHANGE,
    CHOOSING_RUN,
    CONFIRMING_CANCEL,
    CONFIRMING_RESTART,
    CONTACT_QUESTIONS,
    ENROLLMENT_QUESTIONS,
    FIRST_STEP,
    OPEN_QUESTIONS,
    PARTICIPANT_QUESTIONS,
    RESTART,
    REVIEWING,
    SELF_QUESTIONS,
    SUBMIT,
    TYPING_COMPANY,
    TYPING_EMAIL,
    TYPING_FIRST_NAME,
    TYPING_LAST_NAME,
    TYPING_PARTICIPANT_EMAIL,
    TYPING_PARTICIPANT_FIRST_NAME,
    TYPING_PARTICIPANT_LAST_NAME,
    TYPING_PARTICIPANT_PREFIX,
    TYPING_PHONE,
    TYPING_PREFIX,
    TYPING_REMARK,
)
from conversations.enrollment.participants import (
    another_choices,
    another_chosen,
    ask_another,
    ask_attendance,
    attendance_choices,
    attendance_chosen,
)
from conversations.enrollment.person import EMAIL, FIRST_NAME, LAST_NAME, PREFIX, typed
from conversations.enrollment.review import (
    ask_remark,
    ask_review,
    next_open,
    remark_skipped,
    remark_typed,
    review_chosen,
    review_text,
)
from conversations.steps import BACK, StepTable

_ANY_FIELD: Final = (
    *(TYPING_FIRST_NAME, TYPING_PREFIX, TYPING_LAST_NAME, TYPING_EMAIL, TYPING_PHONE),
    *(TYPING_COMPANY, CHOOSING_ATTENDANCE, TYPING_REMARK, CONTACT_QUESTIONS, SELF_QUESTIONS),
    ENROLLMENT_QUESTIONS,
)
_A_PARTICIPANTS_FIELD: Final = (
    *(TYPING_PARTICIPANT_FIRST_NAME, TYPING_PARTICIPANT_PREFIX, TYPING_PARTICIPANT_LAST_NAME),
    *(TYPING_PARTICIPANT_EMAIL, PARTICIPANT_QUESTIONS),
)

STEPS: Final = (
    buttons(CHOOSING_COURSE_TYPE, ask_course_type, course_type_chosen, to=(CHOOSING_RUN,)),
    buttons(CHOOSING_RUN, ask_run, run_chosen, to=(TYPING_FIRST_NAME,)),
    typed(TYPING_FIRST_NAME, "contact", FIRST_NAME, to=TYPING_PREFIX),
    typed(TYPING_PREFIX, "contact", PREFIX, to=TYPING_LAST_NAME),
    typed(TYPING_LAST_NAME, "contact", LAST_NAME, to=TYPING_EMAIL),
    typed(TYPING_EMAIL, "contact", EMAIL, to=TYPING_PHONE),
    typing(
        TYPING_PHONE,
        ask_phone,
        phone_typed,
        phone_skipped,
        to=TYPING_COMPANY,
        contact=phone_shared,
    ),
    typing(TYPING_COMPANY, ask_company, company_typed, company_skipped, to=CONTACT_QUESTIONS),
    buttons(
        CHOOSING_ATTENDANCE,
        ask_attendance,
        attendance_chosen,
        attendance_choices,
        to=(SELF_QUESTIONS, TYPING_PARTICIPANT_FIRST_NAME, CHOOSING_ANOTHER),
    ),
    buttons(
        CHOOSING_ANOTHER,
        ask_another,
        another_chosen,
        another_choices,
        to=(TYPING_PARTICIPANT_FIRST_NAME, ENROLLMENT_QUESTIONS),
    ),
    typed(TYPING_PARTICIPANT_FIRST_NAME, "participant", FIRST_NAME, to=TYPING_PARTICIPANT_PREFIX),
    typed(TYPING_PARTICIPANT_PREFIX, "participant", PREFIX, to=TYPING_PARTICIPANT_LAST_NAME),
    typed(TYPING_PARTICIPANT_LAST_NAME, "participant", LAST_NAME, to=TYPING_PARTICIPANT_EMAIL),
    typed(TYPING_PARTICIPANT_EMAIL, "participant", EMAIL, to=PARTICIPANT_QUESTIONS),
    typing(TYPING_REMARK, ask_remark, remark_typed, remark_skipped, to=REVIEWING),
    buttons(
        REVIEWING,
        ask_review,
        review_chosen,
        to=(
            SUBMIT,
            CHOOSING_COURSE_TYPE,
            CHOOSING_DETAIL,
            CHOOSING_PARTICIPANT,
            TYPING_PARTICIPANT_FIRST_NAME,
            CONFIRMING_CANCEL,
            OPEN_QUESTIONS,
        ),
        back=False,
        home=True,
    ),
    buttons(CHOOSING_DETAIL, ask_detail, detail_chosen, detail_choices, to=_ANY_FIELD),
    buttons(
        CHOOSING_PARTICIPANT,
        ask_participant,
        participant_chosen,
        to=(CHOOSING_PARTICIPANT_CHANGE,),
    ),
    buttons(
        CHOOSING_PARTICIPANT_CHANGE,
        ask_participant_change,
        participant_change_chosen,
        to=(REVIEWING, *_A_PARTICIPANTS_FIELD),
    ),
    buttons(CONFIRMING_CANCEL, ask_cancel, cancel_chosen, cancel_choices, to=(CANCEL, BACK)),
    buttons(
        CONFIRMING_RESTART,
        ask_restart,
        restart_chosen,
        restart_choices,
        to=(RESTART, BACK),
        back=False,
    ),
)
"""The steps, one a line: the step, how it asks and what it takes, and where it goes (``to``;
a group of the provider's questions goes on to :data:`AFTER_QUESTIONS`)."""

AFTER_QUESTIONS: Final = {
    CONTACT_QUESTIONS: (CHOOSING_ATTENDANCE,),
    SELF_QUESTIONS: (CHOOSING_ANOTHER, ENROLLMENT_QUESTIONS),  # the latter when the run is full
    PARTICIPANT_QUESTIONS: (CHOOSING_ANOTHER,),
    ENROLLMENT_QUESTIONS: (TYPING_REMARK,),
}
"""Where each group of the provider's questions leads once answered, or at once when none of
its questions applies (:func:`~conversations.enrollment.common.after_questions` decides)."""


def build_table(questions: Questions | None = None) -> StepTable:
    """The enrollment's steps and actions (submit, cancel, start over), and a step for each of
    the provider's ``questions``. A draft at a step that no longer exists (its question was
    taken out of the file) continues at the review."""
    asked = extra.build_steps(
        questions or Questions(),
        after=after_questions,
        participant=current_participant,
        resume=next_open,
    )
    return StepTable(*STEPS, *asked, actions=(SUBMIT, CANCEL, RESTART), fallback=REVIEWING)


__all__ = [
    "AFTER_QUESTIONS",
    "CANCEL",
    "CHOOSING_ANOTHER",
    "CHOOSING_ATTENDANCE",
    "CHOOSING_COURSE_TYPE",
    "CHOOSING_DETAIL",
    "CHOOSING_PARTICIPANT",
    "CHOOSING_PARTICIPANT_CHANGE",
    "CHOOSING_RUN",
    "CONFIRMING_CANCEL",
    "CONFIRMING_RESTART",
    "FIRST_STEP",
    "OPEN_QUESTIONS",
    "RESTART",
    "REVIEWING",
    "STEPS",
    "SUBMIT",
    "TYPING_COMPANY",
    "TYPING_EMAIL",
    "TYPING_FIRST_NAME",
    "TYPING_LAST_NAME",
    "TYPING_PARTICIPANT_EMAIL",
    "TYPING_PARTICIPANT_FIRST_NAME",
    "TYPING_PARTICIPANT_LAST_NAME",
    "TYPING_PARTICIPANT_PREFIX",
    "TYPING_PHONE",
    "TYPING_PREFIX",
    "TYPING_REMARK",
    "build_table",
    "review_text",
]
