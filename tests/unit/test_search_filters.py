"""The ``where`` filters of the staff search, in Coachview's syntax."""

from __future__ import annotations

import pytest

from bot.coachview.filters import search_filters, starts_with


def test_starts_with_is_a_range_that_never_ends_on_a_separator() -> None:
    assert starts_with("bedrijf.naam", "Jan") == "bedrijf.naam>=Jan;bedrijf.naam<Jao"
    assert starts_with("x", "a+") == "x>=a+;x<a-"  # "+" is followed by "," in Unicode
    assert starts_with("x", "a:") == "x>=a:;x<a<"  # ":" is followed by ";"
    with pytest.raises(ValueError, match="neither"):
        starts_with("x", "a,b")


def test_a_search_reads_the_text_as_e_mail_name_or_company() -> None:
    assert search_filters("anna@") == [
        "contactpersoon.emailadres>=anna@;contactpersoon.emailadres<annaA"
    ]
    assert search_filters("  Vries ") == [
        "contactpersoon.achternaam>=Vries;contactpersoon.achternaam<Vriet",
        "bedrijf.naam>=Vries;bedrijf.naam<Vriet",
        "contactpersoon.voornaam>=Vries;contactpersoon.voornaam<Vriet",
    ]
    assert search_filters("Anna de  Vries") == [
        "contactpersoon.achternaam>=Anna de Vries;contactpersoon.achternaam<Anna de Vriet",
        "bedrijf.naam>=Anna de Vries;bedrijf.naam<Anna de Vriet",
        "contactpersoon.voornaam>=Anna;contactpersoon.voornaam<Annb;"
        "contactpersoon.achternaam>=de Vries;contactpersoon.achternaam<de Vriet",
        "contactpersoon.voornaam>=Anna;contactpersoon.voornaam<Annb;"
        "contactpersoon.achternaam>=Vries;contactpersoon.achternaam<Vriet",
    ]
    with pytest.raises(ValueError, match="nothing"):
        search_filters("   ")
