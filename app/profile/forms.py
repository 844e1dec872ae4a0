from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import Length, ValidationError

from app.forms import Form, no_control_characters, normalize_text, username_field
from app.models import ABOUT_ME_MAX_LENGTH, User


class EditProfileForm(Form):
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
