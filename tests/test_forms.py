"""Rules every form shares (app/forms.py)."""

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import StringField
from wtforms.validators import Length, ValidationError

from app.forms import Form, no_control_characters
from tests.helpers import app_with_users, signed_in_client, text_of
from tests.test_security import FORMS, FuzzConfig, form_body

VISITOR_FORMS = {"/auth/register", "/auth/login", "/auth/reset_password_request"}


class NameForm(Form):
    name = StringField(validators=[Length(max=5), no_control_characters])
    checked: list[str] = []

    def validate_name(self, field: StringField) -> None:
        NameForm.checked.append(field.data)
        if field.data == "taken":
            raise ValidationError("That name is taken.")


@pytest.fixture
def name_form(app):
    NameForm.checked = []
    with app.test_request_context(method="POST"):
        yield lambda value: NameForm(MultiDict({"name": value}), meta={"csrf": False})


@pytest.mark.parametrize("value", ["far too long", "a\x00b"])
def test_a_field_check_does_not_run_on_a_value_its_validators_refused(name_form, value):
    form = name_form(value)
    assert not form.validate()
    assert NameForm.checked == []
    assert len(form.name.errors) == 1


def test_a_field_check_runs_on_a_value_its_validators_accepted(name_form):
    form = name_form("taken")
    assert not form.validate()
    assert NameForm.checked == ["taken"]
    assert form.name.errors == ["That name is taken."]
    assert name_form("free").validate()


@pytest.mark.parametrize(
    ("path", "field"),
    [(path, field) for path, fields in FORMS.items() for field in fields if field != "remember_me"],
)
def test_a_nul_byte_in_any_text_field_is_a_form_error(path, field):
    app = app_with_users(FuzzConfig, "ann")
    client = app.test_client() if path in VISITOR_FORMS else signed_in_client(app)
    fields = {name: b"" for name in FORMS[path]} | {field: b"ann\x00bob"}
    response = client.post(
        path, data=form_body(fields), content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert 'class="invalid-feedback' in response.get_data(as_text=True), text_of(response)
