"""A record's rows in a link table (involvements, citations, replies), kept in order."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session


def link_rows(owner: dict[str, Any], links: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of a link table that make ``links`` ``owner``'s, in order."""
    return [{**owner, **link, "position": n} for n, link in enumerate(links)]


def replace_links(session: Session, model: type, owner: dict[str, Any], links: Sequence[dict[str, Any]]) -> bool:
    """Make ``links`` the rows of the link table ``model`` that belong to ``owner``, kept in
    the given order by their ``position``. Answers whether anything changed."""
    current = session.execute(select(model).filter_by(**owner).order_by(model.position)).scalars().all()
    if len(current) == len(links) and all(
        all(getattr(row, key) == value for key, value in link.items()) for row, link in zip(current, links, strict=True)
    ):
        return False
    for row in current:
        session.delete(row)
    session.flush()
    session.add_all(model(**row) for row in link_rows(owner, links))
    return True


def delete_links(session: Session, model: type, column: str, ids: Sequence[str], **owner: Any) -> None:
    """Delete the rows of the link table ``model`` whose ``column`` is one of ``ids`` (and
    that match ``owner``, such as the records' ``resource``): one statement, none for no ids."""
    if ids:
        session.execute(delete(model).where(getattr(model, column).in_(ids)).filter_by(**owner))
