"""Chat claims: one process at a time handles a chat's updates, in order, across processes.

Within one process ``bot/updates.py`` orders each chat's updates with a lock. Several processes
behind one webhook need the same across processes: Telegram sends a chat's next update once the
previous one is answered, and the answer comes as soon as the update is stored, so the next one
may reach another process while the first is still being handled. The protocol, on the
``inbox`` (which knows each update's chat) and the ``chat_claims`` table:

1. Store the update in the inbox with its chat (``inbox.record(..., chats=...)``), commit,
   answer Telegram.
2. :func:`claim` the chat. Not granted: another process holds it and will find the update in
   the inbox; done. Granted: handle ``inbox.waiting_in_chat`` oldest first, striking each from
   the inbox when handled and claiming again (which renews the lease) before the next.
3. None left: :func:`release`, then look once more (an update stored just before the release
   found the chat taken): if one is there, claim again and go on.
4. A process that dies holding a chat leaves a claim that runs out after its lease; any
   process may then take the chat over (:func:`abandoned` lists such chats with updates
   waiting, for a look at start and now and then).

:func:`claim` is one statement, ``INSERT ... ON CONFLICT (chat_id) DO UPDATE ... WHERE`` the
claim ran out or is the caller's own, ``RETURNING`` the row when granted: on PostgreSQL a second
process claiming the same chat at the same moment waits for the first's row and then finds it
taken; on SQLite writes run one after the other (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from bot.store.models import ChatClaim, InboxUpdate

__all__ = ["abandoned", "claim", "holder", "release", "renew"]

_CLAIMS = ChatClaim.__table__  # type: ignore[attr-defined]
_INBOX = InboxUpdate.__table__  # type: ignore[attr-defined]
_NOW = sa.bindparam("now", type_=_CLAIMS.c.until.type)


def _upsert(insert: Any) -> Any:
    statement = insert(_CLAIMS).values(
        chat_id=sa.bindparam("chat_id"), owner=sa.bindparam("owner"), until=sa.bindparam("until")
    )
    return statement.on_conflict_do_update(
        index_elements=[_CLAIMS.c.chat_id],
        set_={"owner": statement.excluded.owner, "until": statement.excluded.until},
        where=sa.or_(_CLAIMS.c.until <= _NOW, _CLAIMS.c.owner == statement.excluded.owner),
    ).returning(_CLAIMS.c.owner)


_CLAIM = {"sqlite": _upsert(sqlite.insert), "postgresql": _upsert(postgresql.insert)}
_RELEASE = sa.delete(_CLAIMS).where(
    _CLAIMS.c.chat_id == sa.bindparam("chat_id"), _CLAIMS.c.owner == sa.bindparam("owner")
)
_HOLDER = sa.select(_CLAIMS.c.owner).where(
    _CLAIMS.c.chat_id == sa.bindparam("chat_id"), _CLAIMS.c.until > _NOW
)
_ABANDONED = (
    sa.select(_INBOX.c.chat_id)
    .outerjoin(_CLAIMS, _CLAIMS.c.chat_id == _INBOX.c.chat_id)
    .where(
        _INBOX.c.chat_id.is_not(None),
        sa.or_(_CLAIMS.c.chat_id.is_(None), _CLAIMS.c.until <= _NOW),
    )
    .group_by(_INBOX.c.chat_id)
    .order_by(sa.func.min(_INBOX.c.update_id))
)


def claim(
    connection: Connection, *, chat_id: int, owner: str, now: datetime, lease: timedelta
) -> bool:
    """Take the chat for ``owner`` until ``now + lease`` (or renew its own claim); ``False``
    while another process's claim runs. Commit right after, so the others see it."""
    statement = _CLAIM.get(connection.dialect.name)
    if statement is None:
        raise NotImplementedError(
            f"chat claims need SQLite or PostgreSQL, not {connection.dialect.name}"
        )
    params = {"chat_id": chat_id, "owner": owner, "until": now + lease, "now": now}
    return connection.execute(statement, params).first() is not None


def release(connection: Connection, *, chat_id: int, owner: str) -> bool:
    """Give the chat up (its inbox is empty); ``False`` if ``owner`` did not hold it."""
    return bool(connection.execute(_RELEASE, {"chat_id": chat_id, "owner": owner}).rowcount == 1)


_RENEW = (
    sa.update(_CLAIMS)
    .where(
        _CLAIMS.c.owner == sa.bindparam("holder"),
        _CLAIMS.c.chat_id.in_(sa.bindparam("chat_ids", expanding=True)),
        _CLAIMS.c.until > _NOW,
    )
    .values(until=sa.bindparam("new_until"))
    .returning(_CLAIMS.c.chat_id)
)


def renew(
    connection: Connection,
    *,
    chat_ids: list[int],
    owner: str,
    now: datetime,
    lease: timedelta,
) -> set[int]:
    """Extend ``owner``'s running claims of ``chat_ids`` to ``now + lease``; the chats it
    still held (a claim that ran out may be another's by now, and is not taken back)."""
    if not chat_ids:
        return set()
    params = {"chat_ids": chat_ids, "holder": owner, "new_until": now + lease, "now": now}
    return set(connection.execute(_RENEW, params).scalars())


def holder(connection: Connection, *, chat_id: int, now: datetime) -> str | None:
    """Who handles the chat now, if anyone."""
    return connection.execute(_HOLDER, {"chat_id": chat_id, "now": now}).scalar()


def abandoned(connection: Connection, *, now: datetime) -> list[int]:
    """Chats with updates waiting in the inbox that no process holds (its claim ran out, or
    it died between storing and claiming), the longest waiting first."""
    return list(connection.execute(_ABANDONED, {"now": now}).scalars())
