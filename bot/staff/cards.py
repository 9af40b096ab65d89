"""What staff read: the lookup card of one webaanvraag and the lists of /recent and /search,
as HTML with every value from Coachview escaped and clipped, their buttons, and sending them
(split at line ends when longer than a Telegram message, or edited in place)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.callbacks import open_button_data
from bot.coachview.models import (
    Bedrijf,
    Debiteur,
    Persoon,
    Webaanvraag,
    WebaanvraagDeelnemer,
    WebaanvraagOpleiding,
)
from bot.i18n import Translator, esc
from bot.telegram.limits import MESSAGE_TEXT_MAX

__all__ = ["list_markup", "list_text", "lookup_text", "send", "split_text"]


def _clip(value: object, most: int = 300) -> str:
    """A value from Coachview, escaped, at most ``most`` characters (no line breaks)."""
    text = " ".join(str(value).split())
    return esc(text if len(text) <= most else text[: most - 1] + "…")


def _name(person: Persoon | WebaanvraagDeelnemer | None) -> str:
    if person is None:
        return ""
    parts = (person.voornaam, person.tussenvoegsels, person.achternaam)
    name = " ".join(part.strip() for part in parts if part and part.strip())
    voorletters = getattr(person, "voorletters", None)
    return name or (voorletters or "")


def _when(t: Translator, value: datetime) -> str:
    """A moment, escaped, as this language writes it ("2 mrt 2026, 09:00")."""
    return esc(t.datetime(value, "d MMM y, HH:mm"))


def _course_line(t: Translator, row: WebaanvraagOpleiding) -> str:
    name = row.opleiding_naam or row.opleidingssoort_naam or row.opleidingssoort_id or "?"
    line = _clip(name)
    if row.opleiding_code or row.opleidingssoort_code:
        line += f" ({_clip(row.opleiding_code or row.opleidingssoort_code)})"
    if row.start_datum is not None:
        line += "\n   " + esc(t.period(row.start_datum, row.eind_datum))
    elif not row.opleiding_id:
        line += "\n   " + esc(t._("no date chosen (waiting list)"))
    return line


def _contact_lines(person: Persoon | WebaanvraagDeelnemer | Bedrijf) -> list[str]:
    lines = []
    if person.emailadres:
        lines.append("✉️ " + _clip(person.emailadres))
    if person.telefoonnummer:
        lines.append("📞 " + _clip(person.telefoonnummer))
    return lines


def _heading(icon: str, text: str) -> str:
    return f"{icon} <b>{text}</b>"


def lookup_text(
    t: Translator,
    webaanvraag: Webaanvraag,
    opleidingen: Sequence[WebaanvraagOpleiding],
    deelnemers: Sequence[WebaanvraagDeelnemer],
) -> str:
    """Everything Coachview holds of one webaanvraag, as staff read it (HTML)."""
    w = webaanvraag
    sections = [_general_lines(t, w), _contact_section(t, w)]
    if w.bedrijf is not None and _has_any(w.bedrijf):
        company = [_heading("🏢", esc(t._("Company")))]
        if w.bedrijf.naam:
            company.append(_clip(w.bedrijf.naam))
        sections.append(company + _contact_lines(w.bedrijf))
    if w.debiteur is not None and _has_any(w.debiteur):
        sections.append(_debtor_lines(t, w.debiteur))
    sections.append(_participant_lines(t, w, deelnemers))
    courses = [_heading("📚", esc(t._("Courses")))]
    courses.extend(_course_line(t, row) for row in opleidingen)
    sections.append(courses if opleidingen else [*courses, "–"])
    return "\n\n".join("\n".join(lines) for lines in sections)


def _general_lines(t: Translator, w: Webaanvraag) -> list[str]:
    lines = [_heading("📄", esc(t._("Enrollment {number}")).format(number=_clip(w.nummer)))]
    if w.aanvraag_datum:
        lines.append(esc(t._("Received: {when}")).format(when=_when(t, w.aanvraag_datum)))
    if w.status:
        lines.append(esc(t._("Status: {status}")).format(status=_clip(w.status)))
    if w.referentie_nr_klant:
        reference = f"<code>{_clip(w.referentie_nr_klant)}</code>"
        lines.append(esc(t._("Reference: {reference}")).format(reference=reference))
    lines.append(esc(t._("Coachview id: {id}")).format(id=f"<code>{_clip(w.id)}</code>"))
    if w.opmerking:
        lines.append(esc(t._("Remark: {remark}")).format(remark=_clip(w.opmerking, 1000)))
    return lines


def _contact_section(t: Translator, w: Webaanvraag) -> list[str]:
    lines = [_heading("👤", esc(t._("Contact person")))]
    if w.contactpersoon is not None:
        lines.append(_clip(_name(w.contactpersoon)) or "–")
        lines.extend(_contact_lines(w.contactpersoon))
    if w.contactpersoon_is_deelnemer:
        lines.append("✅ " + esc(t._("The contact person takes part.")))
    elif w.contactpersoon_is_deelnemer is False:
        lines.append("➖ " + esc(t._("The contact person does not take part.")))
    return lines


def _participant_lines(
    t: Translator, w: Webaanvraag, deelnemers: Sequence[WebaanvraagDeelnemer]
) -> list[str]:
    """The count is Coachview's ``aantalDeelnemers``; the list names whom Coachview names."""
    count = w.aantal_deelnemers
    lines = [_heading("👥", _participants(t, count))]
    names = []
    if w.contactpersoon_is_deelnemer:
        contact = _clip(_name(w.contactpersoon)) or "–"
        names.append(esc(t._("{name} (contact person)")).format(name=contact))
    names.extend(
        " · ".join([_clip(_name(deelnemer)) or "–", *_contact_lines(deelnemer)])
        for deelnemer in deelnemers
    )
    lines.extend(f"{number}. {name}" for number, name in enumerate(names, start=1))
    if count is not None and len(names) != count:
        named = esc(t._("(Coachview names {named} of them.)"))
        lines.append(named.format(named=t.number(len(names))))
    return lines


def _participants(t: Translator, count: int | None) -> str:
    """ "3 participants", escaped; Coachview may leave the count out."""
    if count is None:
        return esc(t._("number of participants unknown"))
    text = t.ngettext("{count} participant", "{count} participants", count)
    return esc(text).format(count=t.number(count))


def _has_any(model: Bedrijf | Debiteur) -> bool:
    return any(getattr(model, name) not in (None, "") for name in type(model).model_fields)


def _debtor_lines(t: Translator, debiteur: Debiteur) -> list[str]:
    lines = ["💳 <b>" + esc(t._("Debtor")) + "</b>"]
    if debiteur.naam_rekeninghouder:
        lines.append(_clip(debiteur.naam_rekeninghouder))
    if debiteur.particulier is not None:
        kind = t._("a private person") if debiteur.particulier else t._("a company")
        lines.append(esc(t._("Pays as: {kind}").format(kind=kind)))  # both texts are ours
    if debiteur.emailadres_anders:
        lines.append("✉️ " + _clip(debiteur.emailadres_anders))
    return lines


def list_text(
    t: Translator,
    title: str,
    items: Sequence[Webaanvraag],
    courses: dict[str, list[WebaanvraagOpleiding]],
) -> str:
    """A page of webaanvragen under ``title`` (HTML): number, date, contact, company,
    participants and courses of each."""
    entries = [title]
    for item in items:
        head = f"<b>{_clip(item.nummer)}</b>"
        if item.aanvraag_datum:
            head += " · " + _when(t, item.aanvraag_datum)
        who = [_clip(_name(item.contactpersoon)) or "–"]
        if item.bedrijf is not None and item.bedrijf.naam:
            who.append(_clip(item.bedrijf.naam))
        who.append(_participants(t, item.aantal_deelnemers))
        names = [
            _clip(row.opleiding_naam or row.opleidingssoort_naam or "", 80)
            for row in courses.get(item.id, [])
        ]
        lines = [head, " · ".join(who)]
        if any(names):
            lines.append("📚 " + ", ".join(name for name in names if name))
        entries.append("\n".join(lines))
    return "\n\n".join(entries)


def list_markup(
    items: Sequence[Webaanvraag], previous: str | None, following: str | None
) -> InlineKeyboardMarkup:
    """A button per entry that opens its lookup, then ◀️ ▶️ when there are other pages."""
    rows = [
        [
            InlineKeyboardButton(f"🔎 {item.nummer}", callback_data=open_button_data(item.id))
            for item in items
        ]
    ]
    paging = []
    if previous is not None:
        paging.append(InlineKeyboardButton("◀️", callback_data=previous))
    if following is not None:
        paging.append(InlineKeyboardButton("▶️", callback_data=following))
    if paging:
        rows.append(paging)
    return InlineKeyboardMarkup(rows)


def split_text(text: str, limit: int = MESSAGE_TEXT_MAX) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at line ends (at paragraph ends
    where possible). Tags never span lines in staff texts, so every piece is valid HTML."""
    pieces: list[str] = []
    current = ""
    for paragraph in text.split("\n\n"):
        if current and len(current) + 2 + len(paragraph) > limit >= len(paragraph):
            pieces.append(current)  # the paragraph fits in a piece of its own: keep it whole
            current = ""
        for number, whole in enumerate(paragraph.split("\n")):
            line = whole
            while len(line) > limit:  # not expected: values are clipped
                pieces.append(line[:limit])
                line = line[limit:]
            glue = ("\n\n" if number == 0 else "\n") if current else ""
            if len(current) + len(glue) + len(line) > limit:
                pieces.append(current)
                current, glue = "", ""
            current += glue + line
    pieces.append(current)
    return [piece for piece in pieces if piece] or [""]


async def send(
    bot: Bot,
    chat_id: int,
    html: str,
    *,
    markup: InlineKeyboardMarkup | None = None,
    edit: Message | None = None,
) -> None:
    """Show ``html`` (split when long; buttons under the last piece), or put it in ``edit``.

    Telegram's flood control (429) is the bot's rate limiter's to wait out
    (``bot/telegram/rate.py``), as for every reply."""
    pieces = split_text(html)
    if edit is not None and len(pieces) == 1:
        try:
            await edit.edit_text(pieces[0], parse_mode=ParseMode.HTML, reply_markup=markup)
        except BadRequest as error:
            if "not modified" not in str(error).lower():
                raise
        return
    for number, piece in enumerate(pieces, start=1):
        last = number == len(pieces)
        buttons = markup if last else None
        await bot.send_message(chat_id, piece, parse_mode=ParseMode.HTML, reply_markup=buttons)
