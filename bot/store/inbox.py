"""The inbox: Telegram updates received and not yet handled (see ``bot/updates.py``).

Written for every batch ``getUpdates`` returns, so it goes through SQLAlchemy Core on a plain
connection: the rows are never read back as objects while the bot runs, and the ORM's unit of
work would double the cost of each batch (bench/README.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from bot.store.models import InboxUpdate

__all__ = ["keep", "pending", "record", "waiting_in_chat"]

_INBOX = InboxUpdate.__table__  # type: ignore[attr-defined]
_IDS: sa.BindParameter[list[int]] = sa.bindparam("ids", expanding=True)
_FORGET = sa.delete(_INBOX).where(_INBOX.c.update_id.in_(_IDS))
_KNOWN = sa.select(_INBOX.c.update_id).where(_INBOX.c.update_id.in_(_IDS))
_KEEP = sa.insert(_INBOX)
#: Where the database can skip an update it holds already (Telegram sent it again after a
#: restart) in the INSERT itself; elsewhere the known ones are looked up first.
_KEEP_IF_NEW = {
    "sqlite": sqlite.insert(_INBOX).on_conflict_do_nothing(index_elements=["update_id"]),
    "postgresql": postgresql.insert(_INBOX).on_conflict_do_nothing(index_elements=["update_id"]),
}


def record(
    connection: Connection,
    *,
    received: Mapping[int, dict[str, Any]],
    handled: Iterable[int],
    now: datetime,
    chats: Mapping[int, int | None] | None = None,
) -> None:
    """Keep the updates just received and forget those handled since the last call.

    ``chats`` gives the chat (else the user) of each update received, by update id: a chat's
    updates are then found in order (:func:`waiting_in_chat`)."""
    done = list(handled)
    if done:
        connection.execute(_FORGET, {"ids": done})
    if not received:
        return
    chat_of = chats or {}
    rows = [
        {
            "update_id": update_id,
            "payload": payload,
            "received_at": now,
            "chat_id": chat_of.get(update_id),
        }
        for update_id, payload in received.items()
    ]
    keep_if_new = _KEEP_IF_NEW.get(connection.dialect.name)
    if keep_if_new is not None:
        connection.execute(keep_if_new, rows)
        return
    known = set(connection.execute(_KNOWN, {"ids": list(received)}).scalars())
    rows = [row for row in rows if row["update_id"] not in known]
    if rows:
        connection.execute(_KEEP, rows)


def keep(
    connection: Connection,
    *,
    update_id: int,
    payload: dict[str, Any],
    now: datetime,
    chat_id: int | None = None,
) -> bool:
    """Keep one update (posted to the webhook) of ``chat_id``; False when the inbox holds it
    already."""
    row = {"update_id": update_id, "payload": payload, "received_at": now, "chat_id": chat_id}
    keep_if_new = _KEEP_IF_NEW.get(connection.dialect.name)
    if keep_if_new is not None:
        # The new row's id, or no row when it was there (psycopg's rowcount says -1 here).
        kept = keep_if_new.values(row).returning(_INBOX.c.update_id)
        return connection.execute(kept).first() is not None
    if connection.execute(_KNOWN, {"ids": [update_id]}).first() is not None:
        return False
    connection.execute(_KEEP, row)
    return True


def pending(session: Session, *, without_chat: bool = False) -> list[InboxUpdate]:
    """What was received and never handled (the process stopped in between), oldest first;
    ``without_chat``: only the updates of no chat (chats' updates go by their claims)."""
    query = select(InboxUpdate).order_by(col(InboxUpdate.update_id))
    if without_chat:
        query = query.where(col(InboxUpdate.chat_id).is_(None))
    return list(session.exec(query).all())


_OF_CHAT = (
    sa.select(_INBOX.c.update_id, _INBOX.c.payload)
    .where(_INBOX.c.chat_id == sa.bindparam("chat_id"))
    .order_by(_INBOX.c.update_id)
)


def waiting_in_chat(connection: Connection, *, chat_id: int) -> list[tuple[int, dict[str, Any]]]:
    """The chat's updates not handled yet, oldest first: ``(update_id, payload)``."""
    rows = connection.execute(_OF_CHAT, {"chat_id": chat_id}).all()
    return [(row.update_id, row.payload) for row in rows]
