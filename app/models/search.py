"""Full-text search: each database's own index of the words of posts and of people's about-me
texts, kept in step by the database itself, and the statements that read them.

- SQLite: an FTS5 table per indexed column, with "external content" (it holds the index, not
  a second copy of the text), kept in step by triggers on insert, on a change of the text and
  on delete, cascaded deletes included.
- PostgreSQL: a stored generated ``tsvector`` column with a GIN index, queried with
  ``websearch_to_tsquery`` (app/search_query.py writes the query for each).

Both split text alike as far as they can: words of letters of any script (with their marks)
and digits, in any case, accents kept; nothing is stemmed and no word is a stop word, since
posts come in every language (PostgreSQL's ``simple`` configuration; FTS5's ``unicode61``
tokenizer, told to keep marks in words and diacritics as they are). PostgreSQL's parser would
keep ``tomatoes.They``, ``e-mail`` or ``ann@example.com`` whole, where FTS5 finds words in
them: its text has its punctuation made spaces first, so it finds the same words.

Neither kind of object is in the models' metadata: SQLAlchemy has no type for them, and the
other database has no such thing. The DDL here runs after ``create_all`` makes the tables; the
migration that added search makes them for a database that existed; migrations/env.py keeps
them out of autogenerate's comparison (``is_search_object``).

A search considers the newest ``MATCHES_MAX`` matches, ranked or newest first, and counts no
further: however common a word, a search reads at most that many entries of an index.
"""

import functools
from dataclasses import dataclass
from typing import Generic, TypeVar

import sqlalchemy as sa

from app.extensions import db
from app.models.block import screened_authors
from app.models.feed import card_options
from app.models.post import Post
from app.models.tag import Tag
from app.models.user import User
from app.search_query import SearchQuery

MATCHES_MAX = 1000
# Sorts of a post search.
RELEVANCE = "relevance"
NEWEST = "newest"
# Above any character a name or tag holds: a prefix's range ends at the prefix and this.
_ABOVE_ANY_CHARACTER = "\U0010ffff"
_FTS5_TOKENIZER = "unicode61 remove_diacritics 0 categories 'L* M* N* Co'"
_PG_CONFIGURATION = "'simple'::regconfig"
_PG_COLUMN = "search_vector"
_PG_WORDS = (
    f"to_tsvector({_PG_CONFIGURATION}, "
    "regexp_replace(coalesce({column}, ''), '[[:punct:]]', ' ', 'g'))"
)

Item = TypeVar("Item")


@dataclass(frozen=True)
class Found(Generic[Item]):
    """A page of what a search found, and how many it found in all (0 past the last page)."""

    items: list[Item]
    total: int

    @property
    def stopped_counting(self) -> bool:
        """Whether the search found MATCHES_MAX and looked no further: there may be more."""
        return self.total >= MATCHES_MAX

    @classmethod
    def of(cls, rows: list[sa.Row]) -> "Found":
        """From rows of an item and the total (the same on each row)."""
        return cls([item for item, _ in rows], rows[0][1] if rows else 0)


@dataclass(frozen=True)
class TextIndex:
    """A searchable text column: ``table.column``, indexed as ``name`` (SQLite's FTS5 table
    and its triggers' prefix; PostgreSQL's index of the ``search_vector`` column)."""

    table: sa.Table
    column: str
    name: str

    def sqlite_ddl(self) -> list[str]:
        table, column, name = f'"{self.table.name}"', self.column, self.name
        index_row = f"INSERT INTO {name}(rowid, {column}) VALUES (new.id, new.{column});"
        # An external-content index forgets a row when told the values it indexed.
        forget_row = (
            f"INSERT INTO {name}({name}, rowid, {column}) VALUES ('delete', old.id, old.{column});"
        )
        return [
            f"CREATE VIRTUAL TABLE {name} USING fts5({column}, content={table}, "
            f"content_rowid='id', tokenize=\"{_FTS5_TOKENIZER}\")",
            f"CREATE TRIGGER {name}_insert AFTER INSERT ON {table} BEGIN {index_row} END",
            f"CREATE TRIGGER {name}_delete AFTER DELETE ON {table} BEGIN {forget_row} END",
            f"CREATE TRIGGER {name}_update AFTER UPDATE OF {column} ON {table} "
            f"BEGIN {forget_row} {index_row} END",
        ]

    def postgresql_ddl(self) -> list[str]:
        table = f'"{self.table.name}"'
        return [
            f"ALTER TABLE {table} ADD COLUMN {_PG_COLUMN} tsvector GENERATED ALWAYS AS "
            f"({_PG_WORDS.format(column=self.column)}) STORED",
            f"CREATE INDEX {self.name} ON {table} USING gin ({_PG_COLUMN})",
        ]

    def matches(
        self, dialect: str, window: sa.BindParameter, ranked: bool, shown: bool = False
    ) -> sa.Select:
        """The ids (``id``) of the newest ``window`` rows matching the bound ``query``, and, if
        ``ranked``, how well each matches (``score``, higher is better). ``shown``, for posts:
        only those in lists, and none of the accounts the reader (bound ``viewer_id``) screens
        out."""
        query = sa.bindparam("query", type_=sa.String)
        rows = sa.table(
            self.table.name,
            sa.column("id", sa.Integer),
            sa.column(_PG_COLUMN),
            sa.column("hidden", sa.Boolean),
            sa.column("author_id", sa.Integer),
        )
        if dialect == "sqlite":
            index = sa.table(self.name, sa.column("rowid", sa.Integer))
            whole = sa.literal_column(self.name)  # FTS5's column named as its table
            row_id, condition = index.c.rowid, whole.op("MATCH")(query)
            score = -sa.func.bm25(whole)  # bm25: lower is better
            if shown:
                index = index.join(rows, rows.c.id == row_id)
        else:
            # Worked out once, in the FROM list, rather than in each row's condition.
            terms = sa.func.websearch_to_tsquery(sa.literal_column(_PG_CONFIGURATION), query).alias(
                "terms"
            )
            index = rows.join(terms, sa.true())
            vector = rows.c[_PG_COLUMN]
            row_id, condition = rows.c.id, vector.op("@@")(terms.column)
            score = sa.func.ts_rank(vector, terms.column)
        columns = [row_id.label("id")] + ([score.label("score")] if ranked else [])
        stmt = sa.select(*columns).select_from(index).where(condition)
        if shown:
            viewer = sa.bindparam("viewer_id", type_=sa.Integer)
            stmt = stmt.where(
                rows.c.hidden == sa.false(), rows.c.author_id.not_in(screened_authors(viewer))
            )
        return stmt.order_by(row_id.desc()).limit(window)


POSTS = TextIndex(Post.__table__, "body", "post_search")
ABOUT_ME = TextIndex(User.__table__, "about_me", "user_search")
TEXT_INDEXES = (POSTS, ABOUT_ME)


def is_search_object(name: str | None) -> bool:
    """Whether a table, column or index of that name is one of search's (migrations/env.py)."""
    return name is not None and (
        name == _PG_COLUMN
        or any(name == index.name or name.startswith(f"{index.name}_") for index in TEXT_INDEXES)
    )


def _create_search_objects(target: sa.Table, connection: sa.Connection, **_) -> None:
    dialect = connection.dialect.name
    for index in TEXT_INDEXES:
        if index.table is target:
            ddl = index.sqlite_ddl() if dialect == "sqlite" else index.postgresql_ddl()
            for statement in ddl:
                connection.exec_driver_sql(statement)


def _drop_search_objects(target: sa.Table, connection: sa.Connection, **_) -> None:
    # PostgreSQL's column and index, and SQLite's triggers, go with their table; an FTS5 table
    # is a table of its own.
    if connection.dialect.name == "sqlite":
        for index in TEXT_INDEXES:
            if index.table is target:
                connection.exec_driver_sql(f"DROP TABLE IF EXISTS {index.name}")


for _index in TEXT_INDEXES:
    sa.event.listen(_index.table, "after_create", _create_search_objects)
    sa.event.listen(_index.table, "before_drop", _drop_search_objects)


def prefix_range(column: sa.ColumnElement[str], prefix: sa.BindParameter) -> sa.ColumnElement:
    """Whether ``column`` starts with the bound ``prefix``: a range of the column's index.

    Exact where text sorts by code point (SQLite; PostgreSQL with the C or C.UTF-8 collation
    the README's set-up gives the database).
    """
    end = prefix.concat(sa.literal(_ABOVE_ANY_CHARACTER, sa.String))
    return sa.and_(column >= prefix, column < end)


def _page_bounds() -> tuple[sa.BindParameter, sa.BindParameter]:
    return sa.bindparam("limit", type_=sa.Integer), sa.bindparam("offset", type_=sa.Integer)


@functools.cache
def _posts_statement(dialect: str, sort: str) -> sa.Select:
    window = sa.bindparam("window")
    matches = POSTS.matches(dialect, window, ranked=sort == RELEVANCE, shown=True).cte("found")
    limit, offset = _page_bounds()
    order = [matches.c.id.desc()]
    if sort == RELEVANCE:
        order.insert(0, matches.c.score.desc())
    page = sa.select(*matches.c).order_by(*order).limit(limit).offset(offset).subquery()
    total = sa.select(sa.func.count()).select_from(matches).scalar_subquery()
    order = [Post.id.desc()]
    if sort == RELEVANCE:
        order.insert(0, page.c.score.desc())
    return (
        sa.select(Post, total)
        .join(page, page.c.id == Post.id)
        .order_by(*order)
        .options(*card_options())
    )


def search_posts(
    query: SearchQuery, sort: str, viewer_id: int | None, offset: int, limit: int
) -> Found[Post]:
    """A page of the posts ``query`` finds, each ready for its card, and how many it finds
    (no more than MATCHES_MAX; 0 past the last page); ``sort`` is RELEVANCE (newest first
    among equals) or NEWEST. One statement; none for a query of no words."""
    if not query:
        return Found([], 0)
    dialect = db.session.get_bind().dialect.name
    values = {
        "query": query.fts5() if dialect == "sqlite" else query.websearch(),
        "window": MATCHES_MAX,
        "viewer_id": viewer_id,
        "offset": offset,
        "limit": limit,
    }
    return Found.of(db.session.execute(_posts_statement(dialect, sort), values).all())


@functools.cache
def _people_statement(dialect: str, by_name: bool, by_about_me: bool) -> sa.Select:
    window = sa.bindparam("window", type_=sa.Integer)
    prefix = sa.bindparam("prefix", type_=sa.String)
    name = sa.func.lower(User.username)
    ways = []  # of finding people, each a subquery of ids: names first
    if by_name:
        names = sa.select(User.id).where(prefix_range(name, prefix)).order_by(name).limit(window)
        ways.append(names.subquery())
    if by_about_me:
        ways.append(ABOUT_ME.matches(dialect, window, ranked=False).subquery())
    either = sa.union_all(
        *(sa.select(way.c.id, sa.literal(rank).label("found_by")) for rank, way in enumerate(ways))
    ).subquery()
    found_by = sa.func.min(either.c.found_by).label("found_by")
    found = (  # no more than the window in all, names first
        sa.select(either.c.id, found_by)
        .join(User, User.id == either.c.id)
        # Out of sight while suspended, as in who to follow (admins find them at /admin/users).
        .where(User.suspended_at.is_(None))
        .group_by(either.c.id)
        .order_by(found_by, either.c.id)
        .limit(window)
        .cte("found")
    )
    total = sa.select(sa.func.count()).select_from(found).scalar_subquery()
    limit, offset = _page_bounds()
    order = [found.c.found_by, User.followers_count.desc(), User.id]
    if by_name:  # the name typed before the names it begins
        order.insert(1, sa.case((name == prefix, 0), else_=1))
    return (
        sa.select(User, total)
        .join(found, found.c.id == User.id)
        .order_by(*order)
        .limit(limit)
        .offset(offset)
    )


def search_people(
    name_prefix: str | None, query: SearchQuery, offset: int, limit: int
) -> Found[User]:
    """A page of the people whose username begins with ``name_prefix`` (lower case) or whose
    about-me text ``query`` finds, and how many (0 past the last page): names first, the name
    itself first of all, then those with the most followers; suspended accounts are left out.
    One statement."""
    if name_prefix is None and not query:
        return Found([], 0)
    dialect = db.session.get_bind().dialect.name
    stmt = _people_statement(dialect, name_prefix is not None, bool(query))
    values = {"window": MATCHES_MAX, "prefix": name_prefix, "offset": offset, "limit": limit}
    if query:
        values["query"] = query.fts5() if dialect == "sqlite" else query.websearch()
    return Found.of(db.session.execute(stmt, values).all())


@functools.cache
def _tags_statement() -> sa.Select:
    window = sa.bindparam("window", type_=sa.Integer)
    prefix = sa.bindparam("prefix", type_=sa.String)
    found = (
        sa.select(Tag.id)
        .where(prefix_range(Tag.key, prefix), Tag.posts_count > 0)
        .order_by(Tag.key)
        .limit(window)
        .cte("found")
    )
    total = sa.select(sa.func.count()).select_from(found).scalar_subquery()
    limit, offset = _page_bounds()
    return (
        sa.select(Tag, total)
        .join(found, found.c.id == Tag.id)
        .order_by(sa.case((Tag.key == prefix, 0), else_=1), Tag.posts_count.desc(), Tag.key)
        .limit(limit)
        .offset(offset)
    )


def search_tags(key_prefix: str | None, offset: int, limit: int) -> Found[Tag]:
    """A page of the tags whose key begins with ``key_prefix`` (a tag key), and how many (0
    past the last page): the tag itself first, then the most used. One statement."""
    if key_prefix is None:
        return Found([], 0)
    values = {"window": MATCHES_MAX, "prefix": key_prefix, "offset": offset, "limit": limit}
    return Found.of(db.session.execute(_tags_statement(), values).all())
