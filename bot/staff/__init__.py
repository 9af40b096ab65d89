"""Staff commands: webaanvragen looked up in Coachview, from the chat.

::

    /lookup <nummer | id | e-mail | TG-reference>   one webaanvraag, all Coachview holds of it
    /recent [n]                                     the n newest (10, at most 50), paged
    /search <text>                                  by contact name, e-mail or company, paged

Only the Telegram users of ``STAFF_USER_IDS`` have them. For anyone else they do not exist: the
handlers' filter lets the update fall through to the unknown-command answer, a staff button
answers like any outdated button, and nothing reaches Coachview. Staff see the commands in
their menu: in their private chat with the bot and, when ``STAFF_CHAT_ID`` is a group, in their
own menu there (per-chat command scopes, set at start and again at a staff member's first
update, for whom the bot could not set it yet).

Buttons carry the staff data of :mod:`bot.callbacks` (open a lookup, a page of /recent, a page
of /search: the search text travels in the button, cut to Telegram's 64 bytes, which still
finds everything the full text finds). Pages are edited in place; a lookup is a new message,
split at line ends when it is longer than a Telegram message. Everything is in the staff
member's language, dates and counts formatted with Babel, every value from Coachview escaped.
A failing Coachview becomes a message that says what is wrong (:func:`trouble`). When Coachview
does not give a webaanvraag's courses or participants (``WebaanvraagOpleidingen`` /
``WebaanvraagDeelnemers`` missing, or a scope lacking), the answer shows what ``GET
Webaanvragen`` gave and says what it could not load; a search that Coachview cannot filter says
it looked through the newest only.

By job:

- :mod:`~bot.staff.wiring`: the staff gate, the handlers' registration, the staff menus;
- :mod:`~bot.staff.handlers`: the commands and buttons, what staff typed or pressed;
- :mod:`~bot.staff.lookups`: asking Coachview (look-up, /recent, /search) and what staff read
  when it fails;
- :mod:`~bot.staff.cards`: the lookup card and the lists as HTML, their buttons, and sending
  them (split when long).
"""

from __future__ import annotations

from bot.staff.cards import lookup_text, split_text
from bot.staff.handlers import pressed_by_staff, where
from bot.staff.lookups import trouble
from bot.staff.wiring import COMMANDS, register, set_commands, staff_only

__all__ = [
    "COMMANDS",
    "lookup_text",
    "pressed_by_staff",
    "register",
    "set_commands",
    "split_text",
    "staff_only",
    "trouble",
    "where",
]
