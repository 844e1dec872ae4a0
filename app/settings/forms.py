from flask import current_app
from flask_wtf.file import FileField, FileRequired
from wtforms import PasswordField, RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from app.avatars import AvatarSource, gravatar_enabled
from app.avatars.pictures import (
    ACCEPTED_FORMATS,
    ACCEPTED_MIME_TYPES,
    Picture,
    PictureRefused,
    process_picture,
)
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
    submit = SubmitField("Save")

    def __init__(self, user: User, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def validate_username(self, field: StringField) -> None:
        # A name kept as it is passes: a look-alike from before that rule keeps its name.
        if field.data != self.user.username:
            check_username_available(field.data, excluding=self.user)


GRAVATAR_WARNING = (
    "Gravatar shows the picture you registered there for your email address. Its address "
    "carries a hash of your email address, which anyone can match against addresses they "
    "know to find out yours."
)


class AvatarSourceForm(Form):
    """Which avatar others see: the choices this user has (an uploaded picture once there is
    one, Gravatar where the site allows it)."""

    source = RadioField("Show as my avatar", validators=[InputRequired()])
    submit = SubmitField("Use this avatar")

    def __init__(self, user: User, *args, **kwargs) -> None:
        # Its fields' names and ids stay apart from the upload form's, on the same page.
        super().__init__(*args, prefix="avatar", **kwargs)
        choices = [SelectChoice(AvatarSource.GENERATED.value, "A pattern drawn by Microblog")]
        if user.avatar_digest is not None:
            choices.append(SelectChoice(AvatarSource.UPLOADED.value, "My uploaded picture"))
        if gravatar_enabled():
            choices.append(SelectChoice(AvatarSource.GRAVATAR.value, "My Gravatar"))
            self.source.description = GRAVATAR_WARNING
        self.source.choices = choices
        if self.source.data is None:
            self.source.data = user.avatar_source.value


def too_large(max_bytes: int) -> str:
    return f"That file is over {max_bytes // 2**20} MB. Please upload a smaller picture."


class AvatarUploadForm(Form):
    avatar = FileField(
        "Upload a picture",
        validators=[FileRequired("Choose a picture to upload.")],
        render_kw={"accept": ",".join(ACCEPTED_MIME_TYPES)},
    )
    submit = SubmitField("Upload")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.max_bytes = current_app.config["AVATAR_MAX_BYTES"]
        self.max_pixels = current_app.config["AVATAR_MAX_PIXELS"]
        self.max_pixels_whole = current_app.config["AVATAR_MAX_PIXELS_WHOLE"]
        self.avatar.description = (
            f"{', '.join(ACCEPTED_FORMATS.values())} (its first frame), up to "
            f"{self.max_bytes // 2**20} MB; up to {self.max_pixels // 1_000_000} megapixels "
            f"for a JPEG, {self.max_pixels_whole // 1_000_000} for the others. It is cropped "
            "to a square from its centre, and nothing but its pixels is kept: no location, "
            "camera details or other metadata."
        )
        self.picture: Picture | None = None

    def validate_avatar(self, field: FileField) -> None:
        data = field.data.read(self.max_bytes + 1)
        if len(data) > self.max_bytes:
            raise ValidationError(too_large(self.max_bytes))
        try:
            self.picture = process_picture(
                data, max_pixels=self.max_pixels, max_pixels_whole=self.max_pixels_whole
            )
        except PictureRefused as refusal:
            raise ValidationError(str(refusal)) from None


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
