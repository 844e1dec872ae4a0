"""Form pieces shared by more than one blueprint."""

import re

from flask_wtf import FlaskForm
from wtforms import Field, StringField
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from app.models import USERNAME_MAX_LENGTH, USERNAME_MIN_LENGTH, USERNAME_PATTERN

# Tabs and line breaks are text; other control characters (NUL above all, which PostgreSQL
# refuses to store) are never meant.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def normalize_text(value: str | None) -> str | None:
    """Trim and turn browser line breaks (CRLF) into one character, as they are counted."""
    if not isinstance(value, str):
        return value
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def no_control_characters(form: FlaskForm, field: Field) -> None:
    if field.data and CONTROL_CHARACTERS.search(field.data):
        raise ValidationError("Remove the invisible control characters from this text.")


def username_field(label: str = "Username") -> StringField:
    return StringField(
        label,
        filters=[strip],
        validators=[
            DataRequired(),
            Length(min=USERNAME_MIN_LENGTH, max=USERNAME_MAX_LENGTH),
            Regexp(
                USERNAME_PATTERN,
                message="Use only letters, digits, underscores, dots and hyphens.",
            ),
        ],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
