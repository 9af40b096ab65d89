"""The names of the enrollment's steps (what the bot waits for) and of its actions (what ends or
replaces the draft: the runner carries them out, ``conversations/runner.py``)."""

from __future__ import annotations

from typing import Final

from conversations.questions import Group

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
SUBMIT: Final = "SUBMIT"
CANCEL: Final = "CANCEL"
RESTART: Final = "RESTART"

#: The provider's own questions of a group (a step each: ``conversations/questions.py``). A step
#: that goes to one goes to the group's first question that applies, else straight to where the
#: group leads (:func:`~conversations.enrollment.common.after_questions`).
CONTACT_QUESTIONS: Final = "[the contact person's questions]"
SELF_QUESTIONS: Final = "[each person's questions, about you]"
PARTICIPANT_QUESTIONS: Final = "[each person's questions, about the participant]"
ENROLLMENT_QUESTIONS: Final = "[the enrollment's questions]"
#: The provider's questions a draft has not answered (the file changed since it began).
OPEN_QUESTIONS: Final = "[the questions not answered yet]"
QUESTIONS: Final[dict[str, Group]] = {
    CONTACT_QUESTIONS: "contact",
    SELF_QUESTIONS: "self",
    PARTICIPANT_QUESTIONS: "participant",
    ENROLLMENT_QUESTIONS: "enrollment",
}
