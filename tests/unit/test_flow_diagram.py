"""The flow diagram (``enrollment/enrollment.mmd``) and the flow table name the same steps."""

from __future__ import annotations

import re
from pathlib import Path

from conversations import enrollment

DIAGRAM = Path(enrollment.__file__).with_name("enrollment.mmd").read_text(encoding="utf-8")
# Nodes of the diagram that are not steps: entry, choices and what ends a draft.
NOT_STEPS = {"START", "DEEP", "RESUME", "SUBMIT", "CANCEL", "EDIT", "WORKER", "TD"}
# The provider's own questions (conversations/questions.py): steps named after the file's ids.
NOT_STEPS |= {"QCONTACT", "QSELF", "QPARTICIPANT", "QENROLLMENT"}


def diagram_nodes() -> set[str]:
    """Node ids: upper-case words outside comments, edge labels and node labels."""
    lines = [line for line in DIAGRAM.splitlines() if not line.lstrip().startswith("%%")]
    text = re.sub(r'"[^"]*"|\[\[?[^\]]*\]\]?|\([^)]*\)+', " ", "\n".join(lines))
    return set(re.findall(r"\b[A-Z][A-Z_]{2,}\b", text)) - NOT_STEPS


def test_every_step_is_drawn_and_every_drawn_step_exists() -> None:
    steps = {step.name for step in enrollment.STEPS}
    assert diagram_nodes() == steps


def test_every_step_but_the_first_is_reached_by_an_arrow() -> None:
    for step in enrollment.STEPS:
        if step.name == enrollment.FIRST_STEP:
            continue
        assert re.search(rf"(-->|\.->)\s*{step.name}\b", DIAGRAM), step.name
