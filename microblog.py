"""Entry point for ``flask run`` and ``flask shell``."""

import sqlalchemy as sa
import sqlalchemy.orm as so

from app import create_app
from app.extensions import db
from app.models import (
    Moderation,
    ModerationAction,
    Post,
    Report,
    ReportReason,
    Role,
    SiteCount,
    User,
    recount,
)

app = create_app()


@app.shell_context_processor
def make_shell_context() -> dict[str, object]:
    return {
        "db": db,
        "sa": sa,
        "so": so,
        "User": User,
        "Post": Post,
        "SiteCount": SiteCount,
        "recount": recount,
        "Role": Role,
        "Moderation": Moderation,
        "Report": Report,
        "ReportReason": ReportReason,
        "ModerationAction": ModerationAction,
    }
