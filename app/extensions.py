"""Extensions, created unbound here and bound to an app in ``create_app``."""

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_bootstrap import Bootstrap5
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_moment import Moment
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect


class Base(so.DeclarativeBase):
    # Named constraints let later migrations drop or alter them (SQLite batch mode needs names).
    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "pk": "pk_%(table_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True)  # SQLite can't ALTER most things in place
login = LoginManager()
login.login_view = "auth.login"
login.login_message_category = "info"
bootstrap = Bootstrap5()
moment = Moment()
mail = Mail()
csrf = CSRFProtect()  # every POST, forms and fetch() calls alike, needs the token
