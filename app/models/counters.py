"""Site-wide totals kept as rows, so no page has to count a whole table."""

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db


class SiteCount(db.Model):
    """One named site-wide total, changed in the same transaction as the rows it counts.

    Each total is one row that every writer updates in place (``value = value + 1``), so
    concurrent writers queue on that row for the rest of their transaction rather than lose
    an update. A writer changes its site count before any user row: with one order of locks
    everywhere, two transactions never wait for each other (PostgreSQL would end one of them
    with a deadlock error).
    """

    POSTS = "posts"
    NAMES = (POSTS,)

    name: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    value: so.Mapped[int] = so.mapped_column(default=0)

    @classmethod
    def of(cls, name: str) -> int:
        return db.session.execute(sa.select(cls.value).where(cls.name == name)).scalar_one()

    @classmethod
    def query_of(cls, name: str) -> sa.ScalarSelect[int]:
        """The total as a query, for a statement that reads it with other rows."""
        return sa.select(cls.value).where(cls.name == name).correlate(None).scalar_subquery()

    @classmethod
    def lock(cls, name: str) -> None:
        """Hold this total until the transaction ends, so what a later statement reads to change
        it cannot move in between. SQLite has no row locks and ignores FOR UPDATE: there an
        update that changes nothing takes the database's write lock, held as long."""
        if db.session.get_bind().dialect.name == "sqlite":
            stmt = sa.update(cls.__table__).where(cls.name == name).values(value=cls.value)
        else:
            stmt = sa.select(cls.value).where(cls.name == name).with_for_update()
        db.session.execute(stmt)

    @classmethod
    def add(cls, name: str, change: int | sa.ColumnElement[int]) -> None:
        stmt = sa.update(cls).where(cls.name == name).values(value=cls.value + change)
        if db.session.execute(stmt).rowcount != 1:
            raise LookupError(f"There is no site count named {name!r}.")


def add_to_count(row: db.Model, name: str, change: int) -> None:
    """Move ``row``'s stored count ``name`` by ``change`` at the next flush, as an SQL
    expression (``count = count + 1``: concurrent requests cannot lose an update). Changes
    made before that flush add up, where a second assignment would replace the first."""
    pending = row.__dict__.get(name)
    base = pending if isinstance(pending, sa.ColumnElement) else getattr(type(row), name)
    setattr(row, name, base + change)


# Every total exists from the table's creation on (the migration that made it inserts them
# too), so a change is always a plain UPDATE, never an insert two writers could race to make.
sa.event.listen(
    SiteCount.__table__,
    "after_create",
    sa.DDL(
        "INSERT INTO site_count (name, value) VALUES "
        + ", ".join(f"('{name}', 0)" for name in SiteCount.NAMES)
    ),
)
