"""Form pieces shared by more than one blueprint."""

import functools
import re
from collections.abc import Callable, Mapping, Sequence

from flask import abort, has_request_context, request
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    EmailField,
    Field,
    HiddenField,
    PasswordField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.form import BaseForm
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    Length,
    Regexp,
    StopValidation,
    ValidationError,
)

from app.models import (
    EMAIL_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    POST_MAX_LENGTH,
    USERNAME_MAX_LENGTH,
    USERNAME_MIN_LENGTH,
    USERNAME_PATTERN,
    USERNAME_RESERVATION,
    ReservedUsername,
    User,
    is_submission_key,
    new_submission_key,
)

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


FieldCheck = Callable[[FlaskForm, Field], None]

# What a browser sends a form as. Flask-WTF would also read a JSON body into a form, handing
# validators numbers, lists and nulls where they expect text.
FORM_MIMETYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
SUBMIT_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class Form(FlaskForm):
    """The base of every form here.

    It takes only form bodies: anything else is a 415, and a file sent where the form wants
    text is a 400, each with a clear message, before any field sees the value.

    A ``validate_<field>`` check runs only on a value that passed the field's own validators.
    WTForms runs it anyway, and those checks query the database, which may refuse such a value
    outright (PostgreSQL fails on a NUL byte) or waste a lookup on it.
    """

    def __init__(self, *args, **kwargs) -> None:
        # formdata=None: a blank form, shown while answering a request it does not read.
        reads_request = kwargs.get("formdata", True) is not None
        if reads_request and has_request_context() and request.method in SUBMIT_METHODS:
            self._refuse_bodies_that_are_not_this_form(kwargs.get("prefix", ""))
        super().__init__(*args, **kwargs)

    def _refuse_bodies_that_are_not_this_form(self, prefix: str) -> None:
        if request.mimetype and request.mimetype not in FORM_MIMETYPES:
            abort(
                415,
                f"This page takes a form as a browser sends it, not {request.mimetype}.",
            )
        # Set by WTForms' metaclass before __init__ runs: the fields this form will have, named
        # in the body as WTForms names them, after the form's prefix.
        if prefix and prefix[-1] not in "-_;:/.":
            prefix += "-"
        fields = {prefix + name: field for name, field in self._unbound_fields}
        for name in request.files:
            field = fields.get(name)
            if field is not None and not issubclass(field.field_class, FileField):
                label = field.kwargs.get("label") or (field.args[0] if field.args else name)
                abort(400, f"{label} takes text, not a file.")

    def validate(self, extra_validators: Mapping[str, Sequence[FieldCheck]] | None = None) -> bool:
        extra = {name: list(checks) for name, checks in (extra_validators or {}).items()}
        for name in self._fields:
            check = getattr(type(self), f"validate_{name}", None)
            if check is not None:
                extra.setdefault(name, []).append(only_if_valid(check))
        # BaseForm's rather than wtforms.Form's, which would add every check again, unguarded.
        return BaseForm.validate(self, extra)


def only_if_valid(check: FieldCheck) -> FieldCheck:
    @functools.wraps(check)
    def guarded(form: FlaskForm, field: Field) -> None:
        if not field.errors:
            check(form, field)

    return guarded


def no_control_characters(form: FlaskForm, field: Field) -> None:
    # Stops the field's other checks: nothing useful can be said about such a value.
    if isinstance(field.data, str) and CONTROL_CHARACTERS.search(field.data):
        raise StopValidation("Remove the invisible control characters from this text.")


# Long enough for any passphrase; short enough that hashing it costs nothing unusual.
PASSWORD_MAX_LENGTH = 128


def email_field(label: str = "Email") -> EmailField:
    return EmailField(
        label,
        filters=[strip],
        validators=[DataRequired(), no_control_characters, Length(max=EMAIL_MAX_LENGTH), Email()],
        render_kw={"autocomplete": "email"},
    )


def new_password_fields(label: str = "Password") -> tuple[PasswordField, PasswordField]:
    password = PasswordField(
        label,
        validators=[
            DataRequired(),
            no_control_characters,
            Length(min=PASSWORD_MIN_LENGTH, max=PASSWORD_MAX_LENGTH),
        ],
        description=f"At least {PASSWORD_MIN_LENGTH} characters.",
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        f"Confirm {label.lower()}",
        validators=[DataRequired(), EqualTo("password", message="The passwords do not match.")],
        render_kw={"autocomplete": "new-password"},
    )
    return password, confirm


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


def check_username_available(username: str, *, excluding: User | None = None) -> None:
    """For registration and renaming: the name is not someone's, in any case, does not look
    like someone's, and is not a recently deleted account's."""
    if User.username_taken(username, excluding=excluding):
        raise ValidationError("That username is taken. Please choose another.")
    if User.username_lookalike(username, excluding=excluding):
        raise ValidationError(
            "That username looks too much like an existing one (some characters look alike, "
            "such as I, l and 1, or 0 and O). Please choose another."
        )
    if ReservedUsername.is_reserved(username):
        raise ValidationError(
            f"That username belonged to an account deleted in the last "
            f"{USERNAME_RESERVATION.days} days, so nobody can take it yet. Please choose another."
        )


class SubmissionKeyField(HiddenField):
    """A fresh one-time key each time the form is shown; sending the form again sends it again.

    Stored with what the form creates, it lets a resubmitted or retried form find the post it
    already made instead of making another (see ``app.posting.publish_once``).
    """

    EXPIRED = "This form has expired: please send it again."

    def __init__(self, label: str | None = None, **kwargs) -> None:
        super().__init__(label, default=new_submission_key, **kwargs)

    def pre_validate(self, form: FlaskForm) -> None:
        # raw_data, not data: with no key sent, data is the fresh default, which would pass.
        if len(self.raw_data or ()) != 1 or not is_submission_key(self.raw_data[0]):
            # The page that shows this error carries a good key, so sending it again works.
            self.data = new_submission_key()
            raise StopValidation(self.EXPIRED)


class OneTimeForm(Form):
    """A form that creates something once, however often it is sent (post, reply)."""

    submission_key = SubmissionKeyField()


class PostForm(Form):
    body = TextAreaField(
        "Say something",
        filters=[normalize_text],
        validators=[
            DataRequired(message="Write something first."),
            Length(max=POST_MAX_LENGTH),
            no_control_characters,
        ],
        render_kw={"rows": 3, "maxlength": POST_MAX_LENGTH},
    )
    submit = SubmitField("Post")


class NewPostForm(OneTimeForm, PostForm):
    """PostForm with a one-time key: editing needs none, as saving twice changes nothing."""
