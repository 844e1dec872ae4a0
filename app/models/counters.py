"""Site-wide totals kept as rows, so no page has to count a whole table."""

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db


class SiteCount(db.Model):
    """One named site-wide total, changed in the same transaction as the rows it counts.

    Each total is one row that every writer updates in place (``value = value + 1``), so
    concurrent writers queue on that row for the rest of their transaction rather than lose
    an update.
    """

    POSTS = "posts"
    NAMES = (POSTS,)

    name: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    value: so.Mapped[int] = so.mapped_column(default=0)

    @classmethod
    def of(cls, name: str) -> int:
        return db.session.scalar(sa.select(cls.value).where(cls.name == name)) or 0

    @classmethod
    def add(cls, name: str, change: int | sa.ColumnElement[int]) -> None:
        db.session.execute(sa.update(cls).where(cls.name == name).values(value=cls.value + change))


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
