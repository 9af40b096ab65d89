"""The questions file: what it may say, the one line when it is wrong, and where answers go."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.coachview.webaanvraag import build_webaanvraag
from bot.config import ConfigError, load_settings
from bot.enrollment import Contact, CourseChoice, Enrollment, Participant
from bot.questions import load_questions, validate_questions_file
from conversations.fields import Invalid, parse_date, parse_postcode
from tests.questions_kit import QUESTIONS

ROOT = Path(__file__).resolve().parents[2]
PRESETS = sorted((ROOT / "examples" / "questions").glob("*.toml"))
TODAY = date(2026, 3, 2)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "questions.toml"
    path.write_text(text, encoding="utf-8")
    return path


def question(**keys: str) -> str:
    """One [[question]] with sensible keys, ``keys`` added or replacing them."""
    values = {
        "id": '"q"',
        "for": '"enrollment"',
        "kind": '"text"',
        "coachview": '"vrijevelden.Q"',
        "ask": '{ nl = "Vraag?", en = "Question?" }',
        **keys,
    }
    return "[[question]]\n" + "".join(f"{key} = {value}\n" for key, value in values.items())


@pytest.mark.parametrize("preset", PRESETS, ids=[p.stem for p in PRESETS])
def test_every_preset_is_valid(preset):
    assert validate_questions_file(preset) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (question(colour="1"), "question q: unknown key 'colour'"),
        (question(ask='{ nl = "Vraag?" }'), "question q: ask has no en translation"),
        (
            question(help='{ en = "Help" }'),
            "question q: help has no nl translation",
        ),
        (question() + question(), "question q: the id is used twice"),
        (
            question(coachview='"debiteur.kleur"'),
            "question q: coachview path 'debiteur.kleur' is not a field of the webaanvraag",
        ),
        (
            question(**{"for": '"each-person"', "coachview": '"vrijevelden.X"'}),
            "question q: coachview path 'vrijevelden.X' is not a field of a Persoon",
        ),
        (
            question(coachview='"vrijevelden"'),
            "question q: coachview path 'vrijevelden' needs a free field code, "
            "e.g. vrijevelden.Code",
        ),
        (
            question(coachview='"opmerking"'),
            "question q: coachview path 'opmerking' is filled by the bot's own questions",
        ),
        (
            question(**{"for": '"contact"', "coachview": '"geboorteDatum"'}),
            "question q: coachview path 'geboorteDatum' takes a date: the question's kind must "
            "be date",
        ),
        (question(kind='"choice"'), "question q: choices are needed for kind choice"),
        (question(id='"Geboorte-datum"'), "question Geboorte-datum: id: String should match"),
        (question(kind='"number"'), "question q: kind: Input should be"),
        ("[questions]\n", "the file: unknown key 'questions'"),
        ("[[question]\n", "is not valid TOML"),
    ],
)
def test_a_mistake_is_named_in_one_line(tmp_path, text, problem):
    problems = validate_questions_file(write(tmp_path, text))
    assert any(line.startswith(problem) or problem in line for line in problems), problems
    assert all("\n" not in line for line in problems)


def test_a_question_cannot_take_the_place_of_the_bots_reference(tmp_path):
    path = write(tmp_path, question(coachview='"referentieNrKlant"'))
    assert validate_questions_file(path) == []  # the customer's reference: a fine question
    assert load_settings(env_file=None, questions_file=str(path)).questions_file == path
    with pytest.raises(ConfigError) as caught:
        load_settings(
            env_file=None,
            questions_file=str(path),
            coachview_reference_field="referentieNrKlant",
        )
    assert str(caught.value) == (
        "QUESTIONS_FILE: question q: coachview path 'referentieNrKlant' holds the bot's "
        "reference (COACHVIEW_REFERENCE_FIELD): choose another"
    )


def test_the_program_stops_at_start_with_the_line(tmp_path):
    path = write(tmp_path, question(ask='{ nl = "Vraag?" }'))
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None, questions_file=str(path))
    assert str(caught.value) == "QUESTIONS_FILE: question q: ask has no en translation"
    run = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env={"PATH": "", "PYTHONPATH": str(ROOT), "QUESTIONS_FILE": str(path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode != 0
    assert "QUESTIONS_FILE: question q: ask has no en translation" in run.stderr


def test_terms_mapping_is_checked(tmp_path):
    with pytest.raises(ConfigError, match="TERMS_COACHVIEW: is only used with TERMS_URL"):
        load_settings(env_file=None, terms_coachview="vrijevelden.Voorwaarden")
    with pytest.raises(ConfigError, match=r"TERMS_COACHVIEW: coachview path 'debiteur\.x'"):
        load_settings(
            env_file=None, terms_url="https://example.nl/av", terms_coachview="debiteur.x"
        )


def test_answers_go_where_the_file_says(tmp_path):
    questions = load_questions(write(tmp_path, QUESTIONS))
    enrollment = Enrollment(
        course=CourseChoice(
            opleidingssoort_id="s1", opleidingssoort_code="VCA-B", opleidingssoort_naam="VCA"
        ),
        contact=Contact(
            first_name="Jan",
            last_name="Berg",
            email="jan@example.nl",
            company="Berg BV",
            answers={
                "factuur_postcode": "1234 AB",
                "bedrijf_telefoon": "+31201234567",
                "geboortedatum": "1980-01-31",
                "vooropleiding": "HBO",
                "functie": None,
            },
        ),
        attending=True,
        participants=[
            Participant(
                first_name="Piet",
                last_name="Jansen",
                answers={
                    "geboortedatum": "1990-03-12",
                    "vooropleiding": "MBO",
                    "functie": "Lasser",
                },
            )
        ],
        answers={"factuur_email": "factuur@berg.nl", "nieuwsbrief": False},
        terms_accepted_at=datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
    )
    extras = questions.extras(enrollment, terms_path="vrijevelden.Voorwaarden")
    body = build_webaanvraag(
        enrollment, reference="TG-1", reference_field="referentieNrKlant", extras=extras
    )
    contact = {
        "voornaam": "Jan",
        "achternaam": "Berg",
        "emailadres": "jan@example.nl",
        "factuurAdres": {"postcode": "1234 AB"},
        "geboorteDatum": "1980-01-31",
        "vrijeveldenPersoon": {"Vooropleiding": "HBO"},
    }
    assert body == {
        "referentieNrKlant": "TG-1",
        "bedrijf": {"naam": "Berg BV", "telefoonnummer": "+31201234567"},
        "contactpersoon": contact,
        "deelnemers": [
            contact,
            {
                "voornaam": "Piet",
                "achternaam": "Jansen",
                "geboorteDatum": "1990-03-12",
                "vrijeveldenPersoon": {"Vooropleiding": "MBO", "VrijveldFunctie": "Lasser"},
            },
        ],
        "opleidingen": [{"opleidingssoortId": "s1"}],
        "debiteur": {"emailadresAnders": "factuur@berg.nl"},
        "vrijevelden": {"Nieuwsbrief": False, "Voorwaarden": "2026-03-02T08:00:00+00:00"},
    }
    # The contact person's copy among the participants is not the same object: one change
    # cannot show in both.
    assert body["deelnemers"][0] is not body["contactpersoon"]
    # A question whose "when" no longer holds sends nothing, and asks nothing.
    enrollment.contact.company = None
    assert enrollment.course is not None
    enrollment.course = enrollment.course.model_copy(update={"opleidingssoort_code": "BHV"})
    body = build_webaanvraag(enrollment, extras=questions.extras(enrollment))
    assert "bedrijf" not in body
    assert "vrijevelden" not in body
    assert questions.missing(enrollment) == []


def test_questions_a_draft_has_not_answered_are_missing(tmp_path):
    questions = load_questions(write(tmp_path, QUESTIONS))
    enrollment = Enrollment(
        contact=Contact(first_name="Jan", last_name="Berg", email="jan@example.nl"),
        attending=False,
        participants=[Participant(first_name="Piet", last_name="Jansen")],
    )
    missing = [(q.id, whose) for q, whose in questions.missing(enrollment)]
    assert missing == [
        ("factuur_postcode", None),
        ("geboortedatum", 0),
        ("vooropleiding", 0),
        ("functie", 0),
        ("factuur_email", None),
    ]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("12-3-1990", date(1990, 3, 12)),
        ("12 maart 1990", date(1990, 3, 12)),
        ("12 mrt. 1990", date(1990, 3, 12)),
        ("3 March 1990", date(1990, 3, 3)),
        ("12/03/1990", date(1990, 3, 12)),
        ("12.3.1990", date(1990, 3, 12)),
        ("1990-03-12", date(1990, 3, 12)),
        (" 1 januari 2000 ", date(2000, 1, 1)),
    ],
)
def test_dates_are_read_the_dutch_way(typed, expected):
    assert parse_date(typed, today=TODAY) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("31-2-1990", "is not a date that exists"),
        ("12-3-90", "year in full"),
        ("morgen", "is not a date"),
        ("12 smarch 1990", "is not a date"),
        ("1-1-1850", "is not a date that exists"),
    ],
)
def test_impossible_dates_are_refused(typed, message):
    with pytest.raises(Invalid) as caught:
        parse_date(typed, today=TODAY)
    assert message in caught.value.message


def test_past_dates_only_when_asked():
    assert parse_date("2-3-2026", today=TODAY) == TODAY
    with pytest.raises(Invalid, match="not in the past"):
        parse_date("2-3-2026", today=TODAY, past=True)


@pytest.mark.parametrize(
    ("typed", "expected"), [("1234ab", "1234 AB"), ("1234 AB", "1234 AB"), (" 3511aa ", "3511 AA")]
)
def test_postcodes_are_kept_in_the_dutch_format(typed, expected):
    assert parse_postcode(typed) == expected


@pytest.mark.parametrize("typed", ["0123 AB", "1234 SS", "12345", "1234 A", "AB 1234"])
def test_other_postcodes_are_refused(typed):
    with pytest.raises(Invalid, match="not a Dutch postcode"):
        parse_postcode(typed)


def test_the_readme_example_is_a_valid_file(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    assert validate_questions_file(write(tmp_path, example)) == []
    assert load_questions(write(tmp_path, example)).all[0].id == "dieet"
