from wtforms import RadioField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from app.forms import Form, no_control_characters, normalize_text
from app.models import REPORT_NOTE_MAX_LENGTH, ReportReason

REASON_LABELS = {
    ReportReason.SPAM: "Spam: advertising, scams, repeated posts",
    ReportReason.ABUSE: "Abuse: harassment, threats, hate",
    ReportReason.OTHER: "Something else",
}


class ReportForm(Form):
    reason = RadioField(
        "Why are you reporting this?",
        choices=[SelectChoice(reason.value, label) for reason, label in REASON_LABELS.items()],
        validators=[DataRequired("Choose a reason.")],
    )
    note = TextAreaField(
        "Anything the moderators should know (optional)",
        filters=[normalize_text],
        validators=[Length(max=REPORT_NOTE_MAX_LENGTH), no_control_characters],
        render_kw={"rows": 3, "maxlength": REPORT_NOTE_MAX_LENGTH},
    )
    submit = SubmitField("Send report")
