from flask import current_app
from wtforms import BooleanField, EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from app.forms import (
    Form,
    check_username_available,
    no_control_characters,
    strip,
    username_field,
)
from app.models import EMAIL_MAX_LENGTH, PASSWORD_MIN_LENGTH, User

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


class RegistrationForm(Form):
    username = username_field()
    email = email_field()
    password, confirm_password = new_password_fields()
    submit = SubmitField("Register")

    def validate_username(self, field: StringField) -> None:
        check_username_available(field.data)

    def validate_email(self, field: EmailField) -> None:
        # With confirmation required, a taken address gets the same answer as a free one (its
        # owner gets a mail instead): which addresses have accounts is nobody's business.
        if current_app.config["REQUIRE_EMAIL_CONFIRMATION"]:
            return
        if User.email_taken(field.data):
            raise ValidationError("An account with that email address already exists.")


class LoginForm(Form):
    username = StringField(
        "Username or email",
        filters=[strip],
        validators=[DataRequired(), Length(max=EMAIL_MAX_LENGTH), no_control_characters],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired(), no_control_characters, Length(max=PASSWORD_MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    remember_me = BooleanField("Remember me")
    submit = SubmitField("Log in")


class ResetPasswordRequestForm(Form):
    email = email_field()
    submit = SubmitField("Send me a reset link")


class ResetPasswordForm(Form):
    password, confirm_password = new_password_fields("New password")
    submit = SubmitField("Set new password")
