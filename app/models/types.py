"""Column types shared by several models."""

import enum

import sqlalchemy as sa


def stored_as_text(choices: type[enum.Enum], length: int) -> sa.Enum:
    """An enum column kept as its members' values in plain text, not as a database enum (and
    with no CHECK constraint), so a new member needs no migration."""
    return sa.Enum(
        choices,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
    )
