from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.forms import Form, OneTimeForm, no_control_characters, normalize_text
from app.models import POST_MAX_LENGTH


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
