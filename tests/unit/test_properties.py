"""Properties of the field parsers and of the validation of typed keys (Hypothesis).

- A value a parser accepted survives parse → display → parse: what the review shows (as Telegram
  shows it, after parsing the HTML) parses back to the same value, and Coachview receives
  exactly that value.
- Whatever is typed, a value that reaches a Coachview path is a GUID, one that reaches a filter
  cannot change the filter's meaning, and a staff look-up or search never fails on its text.

Settings: ``derandomize=True`` (the same examples on every run and machine: no flaky build),
300 examples per property, no deadline (the machine is shared). The step machine itself is
fuzzed with these settings in ``tests/unit/test_fuzz_steps.py``.
"""

from __future__ import annotations

import re
import string

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from bot.callbacks import CallbackData, StaffButton, search_page_data
from bot.coachview.filters import filter_value, search_filters
from bot.coachview.keys import guid, is_course_code, path_segment
from bot.coachview.webaanvraag import build_webaanvraag
from bot.enrollment import Contact, CourseChoice, Enrollment
from bot.i18n import esc, translator
from bot.staff.lookups import PAGE_SIZE, SEARCH_MAX, lookup_key, search_text
from conversations.enrollment import review_text
from conversations.fields import (
    Invalid,
    parse_company,
    parse_email,
    parse_name,
    parse_phone,
    parse_prefix,
    parse_remark,
    readable_phone,
)
from sandbox.telegram.formatting import parse_html

PROPERTIES = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)

#: Any text a person can send (Telegram allows 4,096 characters; no lone surrogates in UTF-8).
TYPED = st.text(st.characters(blacklist_categories=["Cs"]), max_size=4096)
#: Names as people have them: letters of any script with the punctuation names use.
NAMES = st.text(
    st.characters(whitelist_categories=["L", "M"], whitelist_characters="-'’. "),
    min_size=1,
    max_size=100,
)
MARKUP = st.lists(
    st.sampled_from([*string.ascii_letters, *"<>&/\"'=; ", "<b>", "</i>", "&amp;", "<a href="]),
    min_size=1,
    max_size=60,
).map("".join)
FREE_TEXT = st.one_of(TYPED, MARKUP)
EMAILS = st.emails()
PHONES = st.builds(
    "0{}{}".format, st.sampled_from(["6", "20", "30", "10"]), st.integers(1_000_000, 9_999_999)
)
SOORT = "c904d338-058e-5857-b50c-1198b4920383"
GUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def shown(html: str) -> str:
    """What Telegram shows of an HTML text (the sandbox's parser raises on invalid HTML)."""
    return parse_html(html).text


def accepted(parser: object, text: str) -> str:
    try:
        return parser(text)  # type: ignore[operator, no-any-return]
    except Invalid:
        assume(False)
        raise


@PROPERTIES
@given(NAMES)
def test_a_name_survives_parse_display_parse(text: str) -> None:
    name = accepted(parse_name, text)
    assert parse_name(name) == name


@PROPERTIES
@given(st.one_of(FREE_TEXT, NAMES))
def test_a_parser_either_refuses_or_keeps_a_value_it_keeps_again(text: str) -> None:
    for parser in (parse_name, parse_prefix, parse_company, parse_remark, parse_email):
        try:
            value = parser(text)
        except Invalid:
            continue
        assert parser(value) == value


@PROPERTIES
@given(EMAILS)
def test_an_email_address_survives_parse_display_parse(text: str) -> None:
    email = accepted(parse_email, text)
    assert parse_email(shown(esc(email))) == email


@PROPERTIES
@given(PHONES)
def test_a_phone_number_survives_parse_display_parse(text: str) -> None:
    phone = accepted(parse_phone, text)
    assert parse_phone(readable_phone(phone)) == phone


@PROPERTIES
@given(
    first=NAMES,
    last=NAMES,
    email=EMAILS,
    phone=PHONES,
    company=FREE_TEXT,
    remark=FREE_TEXT,
    language=st.sampled_from(["nl", "en"]),
)
def test_coachview_receives_exactly_what_the_review_showed(
    first: str, last: str, email: str, phone: str, company: str, remark: str, language: str
) -> None:
    contact = Contact(
        first_name=accepted(parse_name, first),
        last_name=accepted(parse_name, last),
        email=accepted(parse_email, email),
        phone=accepted(parse_phone, phone),
        company=accepted(parse_company, company),
    )
    enrollment = Enrollment(
        course=CourseChoice(
            opleidingssoort_id=SOORT,
            opleidingssoort_naam="VCA <Basis> & co",
        ),
        contact=contact,
        attending=True,
        remark=accepted(parse_remark, remark),
    )
    review = shown(review_text(translator(language), enrollment))  # valid HTML, or it raises
    body = build_webaanvraag(enrollment, reference="TG-0123456789abcdef")
    person = body["contactpersoon"]
    assert f"{person['voornaam']} {person['achternaam']}" in review
    assert person["emailadres"] in review
    assert parse_phone(readable_phone(person["telefoonnummer"])) == person["telefoonnummer"]
    assert readable_phone(person["telefoonnummer"]) in review
    assert body["bedrijf"]["naam"] in review
    remark_sent, reference = body["opmerking"].rsplit("\n", 1)  # the reference ends it
    assert reference == "TG-0123456789abcdef"
    assert remark_sent in review


@PROPERTIES
@given(st.one_of(TYPED, st.uuids().map(str), st.uuids().map(lambda u: str(u).upper())))
def test_only_a_guid_reaches_a_path(text: str) -> None:
    canonical = guid(text)
    if canonical is None:
        try:
            path_segment(text)
        except ValueError:
            return
        raise AssertionError("a value that is no GUID became a path segment")
    assert GUID_TEXT.fullmatch(canonical)
    assert path_segment(text) == canonical


@PROPERTIES
@given(st.one_of(TYPED, st.from_regex(r"[A-Za-z0-9]+(-[A-Za-z0-9]+){0,4}", fullmatch=True)))
def test_a_course_code_is_one_safe_word(text: str) -> None:
    if is_course_code(text):
        assert re.fullmatch(r"[A-Za-z0-9_.-]{1,50}", text)
        assert ".." not in text
        assert filter_value(text) == text


@PROPERTIES
@given(FREE_TEXT)
@example("de Vries\U0010ffff")  # once failed: nothing sorts after the last code point
@example("١٢٣")  # Arabic-Indic digits: isdigit(), yet no Coachview number
def test_a_staff_lookup_or_search_never_fails_on_its_text(text: str) -> None:
    key = lookup_key(text)
    if key is not None:
        kind, value = key
        assert filter_value(value) == value
        if kind == "id":
            assert guid(value) == value
        if kind == "nummer":
            assert value.isascii() and value.isdigit()
    words = search_text(text)
    if words:
        for where in search_filters(words):
            assert where
        assert search_page_data(SEARCH_MAX // PAGE_SIZE, words)  # every page has its button


@PROPERTIES
@given(
    st.one_of(
        st.text(max_size=64).filter(lambda data: len(data.encode()) <= 64),
        st.builds("e{:x}.{:x}.{}".format, st.integers(-(2**40), 2**40), st.integers(), TYPED),
    )
)
def test_forged_button_data_is_refused_or_read_back_as_it_would_be_written(data: str) -> None:
    decoded = CallbackData.decode(data)
    if decoded is None:
        return
    assert decoded.action
    try:
        encoded = decoded.encode()
    except ValueError:  # longer than Telegram takes: no button could carry it
        return
    assert CallbackData.decode(encoded) == decoded


@PROPERTIES
@given(
    st.one_of(
        st.text(max_size=64).filter(lambda data: len(data.encode()) <= 64),
        st.builds("s:{}:{}".format, st.sampled_from("orf"), TYPED),
    )
)
@example("s:r:10:2")
@example("s:r:10:")  # once raised: an empty page number
@example("s:r:²:1")  # isdigit(), yet no int
@example("s:f:3:de Vries")
def test_forged_staff_button_data_is_refused_or_read_back_as_it_would_be_written(
    data: str,
) -> None:
    decoded = StaffButton.decode(data)
    if decoded is None:
        return
    try:
        encoded = decoded.encode()
    except ValueError:  # longer than Telegram takes: no button could carry it
        return
    assert StaffButton.decode(encoded) == decoded
