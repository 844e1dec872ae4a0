from wtforms import PasswordField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from app.auth.forms import PASSWORD_MAX_LENGTH, email_field, new_password_fields
from app.forms import Form, no_control_characters, normalize_text, username_field
from app.models import ABOUT_ME_MAX_LENGTH, User


class ProfileForm(Form):
    username = username_field()
    about_me = TextAreaField(
        "About me",
        filters=[normalize_text],
        validators=[Length(max=ABOUT_ME_MAX_LENGTH), no_control_characters],
        render_kw={"rows": 4, "maxlength": ABOUT_ME_MAX_LENGTH},
    )
    submit = SubmitField("Save")

    def __init__(self, user: User, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def validate_username(self, field: StringField) -> None:
        if User.username_taken(field.data, excluding=self.user):
            raise ValidationError("That username is taken. Please choose another.")


def current_password_field() -> PasswordField:
    """The password a signed-in user gives again to confirm a sensitive change."""
    return PasswordField(
        "Current password",
        validators=[DataRequired(), no_control_characters, Length(max=PASSWORD_MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class ChangePasswordForm(Form):
    current_password = current_password_field()
    password, confirm_password = new_password_fields("New password")
    submit = SubmitField("Change password")


class ChangeEmailForm(Form):
    email = email_field("New email address")
    current_password = current_password_field()
    submit = SubmitField("Send me a confirmation link")
