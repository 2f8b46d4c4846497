"""The change feed and record history: one entry per committed version of a record.

The write paths note each record they create or change on the session
(:func:`app.kit.pending.note_change`); just before the session commits, the noted records
are read back (their own columns and their links as ids) and written to ``changes`` in the
same transaction, so a rolled-back write leaves no entry. A record written more than once in
one transaction gets one entry, for the version that was committed.

Entries are numbered in commit order: on PostgreSQL each transaction takes one advisory lock
just before it inserts its entries and keeps it until it commits, so no entry can appear
behind one a reader has already passed; SQLite serialises writers already. So the last
``seq`` a transaction wrote (``SEQUENCE``, answered as ``Demarche-Sequence``) marks a point
in the database's history: a database (a read replica) whose feed holds an entry at or past
it has every write committed up to it, that transaction's included.
"""

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import event, func, or_, select
from sqlalchemy.orm import Session, SessionTransaction

from app.access.models import Caller
from app.changes.models import Change, Op
from app.kit.bulk import executemany
from app.kit.collection import Collection
from app.kit.keys import path_key
from app.kit.pending import PENDING_CHANGES, PendingChange
from app.kit.problems import NotFound
from app.kit.references import noun
from app.records import BY_NAME, BY_TABLE
from app.vocab import RecordStatus

KEY_ID = "demarche_key_id"
"""``session.info`` key of the API key id that writes in this session (none for the command line)."""
SAVEPOINTS = "demarche_change_savepoints"
FEED_LOCK = 0x64656D6172636865
"""The advisory lock that orders commits that write to the feed (``demarche`` in ASCII)."""
META = frozenset({"id", "created_at", "updated_at", "version", "retracted_at"})
NOT_IN_SNAPSHOTS = META | {"record_json"}
"""Meta columns, and the answer a record keeps (it is derived from the snapshot)."""
ONLY_WHEN_SET = frozenset({"merged_into"})
"""Columns a snapshot holds only when they are set: a merged-away incident's survivor."""
WRITTEN = "demarche_written"
"""``session.info`` key of the number of feed entries the committing transaction wrote."""
SEQUENCE = "demarche_sequence"
"""``session.info`` key of the last feed ``seq`` the committing transaction wrote."""
CHUNK = 500
"""Records read back per query."""


def _read_back(session: Session, kind: Collection, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each record's meta columns and its snapshot (own fields and links as ids)."""
    out: dict[str, dict[str, Any]] = {}
    names = dict(kind.renamed)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        links = kind.links(session, chunk)
        for row in session.execute(select(kind.table.__table__).where(kind.table.id.in_(chunk))).mappings():
            snapshot = {
                names.get(key, key): value
                for key, value in row.items()
                if key not in NOT_IN_SNAPSHOTS and not (key in ONLY_WHEN_SET and value is None)
            }
            if kind.fold is not None:
                snapshot = kind.fold(snapshot)
            out[row["id"]] = {**row, "snapshot": snapshot | links.get(row["id"], {})}
    return out


def write_pending(session: Session) -> None:
    """Write the changes noted in the transaction that is about to commit to the feed."""
    if session.in_nested_transaction():
        return
    pending: list[PendingChange] = session.info.pop(PENDING_CHANGES, [])
    latest: dict[tuple[type, str], PendingChange] = {}
    created: set[tuple[type, str]] = set()
    restored: set[tuple[type, str]] = set()
    merged: set[tuple[type, str]] = set()
    for change in pending:
        if change.table in BY_TABLE:
            key = (change.table, change.record_id)
            latest[key] = change
            for flag, keys in ((change.created, created), (change.restored, restored), (change.merged, merged)):
                if flag:
                    keys.add(key)
    if not latest:
        return
    session.flush()
    stored: dict[tuple[type, str], dict[str, Any]] = {}
    for table, kind in BY_TABLE.items():
        ids = [record_id for (t, record_id), change in latest.items() if t is table and change.snapshot is None]
        stored |= {(table, record_id): row for record_id, row in _read_back(session, kind, ids).items()}
    key_id = session.info.get(KEY_ID)
    entries = []
    for key, change in latest.items():
        row = stored.get(key)
        if row is None:
            op, version, at, snapshot = Op.create, 1, change.at, change.snapshot
            retracted = snapshot.get("status") == RecordStatus.retracted
        else:
            retracted = row["retracted_at"] is not None
            op = (
                Op.merge
                if key in merged and key not in created
                else Op.create
                if key in created
                else Op.delete
                if retracted
                else Op.restore
                if key in restored
                else Op.update
            )
            version, at, snapshot = row["version"], row["updated_at"], row["snapshot"]
        entry = {
            "resource": BY_TABLE[change.table].type,
            "record_id": change.record_id,
            "op": op,
            "version": version,
            "at": at,
            "key_id": key_id,
            "snapshot": snapshot,
        }
        entries.append(entry)
        if op is Op.create and key in merged:
            # Created and merged away (or into) by one import: the creation, then the merge.
            entries.append(entry | {"op": Op.merge})
        elif op is Op.create and retracted:
            # Created as retracted: a follower of the feed must see the tombstone as it sees
            # any retraction's, so the creation is followed by its retraction (same version).
            entries.append(entry | {"op": Op.delete})
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(FEED_LOCK)))
    executemany(session.connection(), Change.__table__, entries)
    session.info[WRITTEN] = len(entries)
    # Ours: no other transaction inserts into the feed before this one ends (the lock above;
    # SQLite's one writer).
    session.info[SEQUENCE] = session.execute(select(func.max(Change.seq))).scalar_one()


def _savepoint_began(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        session.info.setdefault(SAVEPOINTS, {})[transaction] = len(session.info.get(PENDING_CHANGES, ()))


def _rolled_back(session: Session, transaction: SessionTransaction) -> None:
    """Forget the changes a rollback undid: those since the savepoint, or all of them."""
    pending = session.info.get(PENDING_CHANGES)
    if pending is None:
        return
    if transaction.nested:
        del pending[session.info.get(SAVEPOINTS, {}).pop(transaction, len(pending)) :]
    elif transaction.parent is None:
        pending.clear()


def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(PENDING_CHANGES, None)
        session.info.pop(SAVEPOINTS, None)


def keep_feed(session_class: type[Session]) -> None:
    """Make every session of ``session_class`` write its changes to the feed as it commits,
    and forget those that a rollback (of the transaction or of a savepoint) undoes."""
    event.listen(session_class, "before_commit", write_pending)
    event.listen(session_class, "after_transaction_create", _savepoint_began)
    event.listen(session_class, "after_soft_rollback", _rolled_back)
    event.listen(session_class, "after_transaction_end", _ended)


def feed(session: Session, after: int, limit: int) -> dict[str, Any]:
    """The entries after ``after``, in commit order."""
    rows = session.execute(
        select(Change.seq, Change.resource, Change.record_id, Change.op, Change.version, Change.at)
        .where(Change.seq > after)
        .order_by(Change.seq)
        .limit(limit + 1)
    ).all()
    data = [
        {"seq": r.seq, "resource": r.resource, "id": r.record_id, "op": r.op, "version": r.version, "at": r.at}
        for r in rows[:limit]
    ]
    return {"data": data, "next_cursor": data[-1]["seq"] if len(rows) > limit else None}


def _record(session: Session, kind: Collection, ref: str) -> Any:
    """The record of ``kind`` named by ``ref`` (its id, a bare natural key such as an actor's
    slug, or a prefixed one such as ``ref:{external_ref}``: :mod:`app.kit.keys`), retracted
    or not."""
    table = kind.table
    names, value = path_key(ref, table.__table__.c.keys(), kind.path_keys)
    return session.execute(
        select(
            table.id,
            table.retracted_at,
            *([table.status] if hasattr(table, "status") else []),
            *([table.merged_into] if hasattr(table, "merged_into") else []),
        )
        .where(or_(*(getattr(table, c) == value for c in names)))
        .order_by((table.id == value).desc())
        .limit(1)
    ).first()


def history(session: Session, collection: str, ref: str, caller: Caller) -> list[dict[str, Any]]:
    """Every committed version of a record, oldest first, each with the fields that differ
    from the version before. A draft's or a retracted record's history is for callers that
    may see it (404 for anyone else, as reading it is)."""
    kind = BY_NAME[collection]
    row = _record(session, kind, ref)
    # a merged-away incident's history is its own (not redirected): whoever reads its survivor reads it
    shown = _record(session, kind, row.merged_into) if row is not None and getattr(row, "merged_into", None) else row
    hidden = shown is not None and (
        shown.retracted_at is not None or getattr(shown, "status", RecordStatus.published) != RecordStatus.published
    )
    if row is None or (hidden and not caller.sees_unpublished):
        raise NotFound(f"No {noun(kind.table)} {ref!r}.")
    entries = session.execute(
        select(Change.version, Change.op, Change.at, Change.key_id, Change.snapshot)
        .where(Change.resource == kind.type, Change.record_id == row.id)
        .order_by(Change.seq)
    ).all()
    return list(_versions(entries))


def _versions(entries: Iterable[Any]) -> Iterable[dict[str, Any]]:
    before: dict[str, Any] = {}
    for entry in entries:
        changes = {k: v for k, v in entry.snapshot.items() if k not in before or before[k] != v}
        yield {"version": entry.version, "op": entry.op, "at": entry.at, "key_id": entry.key_id, "changes": changes}
        before = entry.snapshot
