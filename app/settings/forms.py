from wtforms import PasswordField, RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from app.avatars import AvatarSource, gravatar_enabled
from app.forms import (
    PASSWORD_MAX_LENGTH,
    Form,
    check_username_available,
    email_field,
    new_password_fields,
    no_control_characters,
    normalize_text,
    strip,
    username_field,
)
from app.models import ABOUT_ME_MAX_LENGTH, USERNAME_MAX_LENGTH, User


class ProfileForm(Form):
    username = username_field()
    about_me = TextAreaField(
        "About me",
        filters=[normalize_text],
        validators=[Length(max=ABOUT_ME_MAX_LENGTH), no_control_characters],
        render_kw={"rows": 4, "maxlength": ABOUT_ME_MAX_LENGTH},
    )
    avatar_source = RadioField(
        "Avatar",
        choices=[
            SelectChoice(AvatarSource.GENERATED.value, "A pattern drawn by Microblog"),
            SelectChoice(AvatarSource.GRAVATAR.value, "My Gravatar"),
        ],
        default=AvatarSource.GENERATED.value,
        description=(
            "Gravatar shows the picture you registered there for your email address. Its "
            "address carries a hash of your email address, which anyone can match against "
            "addresses they know to find out yours."
        ),
    )
    submit = SubmitField("Save")

    def __init__(self, user: User, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        if not gravatar_enabled():
            del self.avatar_source  # the site offers no choice

    def validate_username(self, field: StringField) -> None:
        # A name kept as it is passes: a look-alike from before that rule keeps its name.
        if field.data != self.user.username:
            check_username_available(field.data, excluding=self.user)


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


class DeleteAccountForm(Form):
    current_password = current_password_field()
    confirm_username = StringField(
        "Type your username to confirm",
        filters=[strip],
        validators=[DataRequired(), no_control_characters, Length(max=USERNAME_MAX_LENGTH)],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    submit = SubmitField("Delete my account")

    def __init__(self, user: User, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def validate_confirm_username(self, field: StringField) -> None:
        if field.data.lower() != self.user.username.lower():
            raise ValidationError(f"Type your username, {self.user.username}, to confirm.")
