from wtforms import IntegerField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.forms import Form, no_control_characters, strip
from app.models import REASON_MAX_LENGTH, Role

# A period long enough for any temporary suspension; longer ones are indefinite.
SUSPENSION_DAYS_MAX = 3650


def reason_field(label: str = "Reason") -> StringField:
    return StringField(
        label,
        filters=[strip],
        validators=[
            DataRequired("Give a reason: the person concerned sees it."),
            Length(max=REASON_MAX_LENGTH),
            no_control_characters,
        ],
        render_kw={"maxlength": REASON_MAX_LENGTH},
    )


class HidePostForm(Form):
    reason = reason_field("Reason for hiding")
    submit = SubmitField("Hide post")


class SuspendForm(Form):
    reason = reason_field("Reason for suspending")
    days = IntegerField(
        "Days (empty: until lifted)",
        validators=[Optional(), NumberRange(min=1, max=SUSPENSION_DAYS_MAX)],
        render_kw={"min": 1, "max": SUSPENSION_DAYS_MAX},
    )
    submit = SubmitField("Suspend")


class RoleForm(Form):
    role = SelectField(
        "Role",
        # No "required": its choices are checked anyway, and a required select must start
        # with an empty placeholder, which a role has not.
        choices=[SelectChoice(role.value, role.value.capitalize()) for role in Role],
    )
    submit = SubmitField("Change role")
