from flask import current_app
from wtforms import BooleanField, EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, ValidationError

from app.forms import (
    PASSWORD_MAX_LENGTH,
    Form,
    check_username_available,
    email_field,
    new_password_fields,
    no_control_characters,
    strip,
    username_field,
)
from app.models import EMAIL_MAX_LENGTH, User


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


class ConfirmEmailForm(Form):
    submit = SubmitField("Confirm my address")


class ConfirmEmailChangeForm(Form):
    submit = SubmitField("Confirm new address")
