from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.extensions import db, login, moment
from app.main.forms import PostForm
from app.models import Post
from app.pagination import paginate_posts

bp = Blueprint("main", __name__)


@bp.before_app_request
def record_visit():
    if current_user.is_authenticated and current_user.record_visit():
        db.session.commit()


@bp.route("/index", methods=["GET", "POST"])
@bp.route("/", methods=["GET", "POST"])  # registered first, so url_for() builds "/"
def index():
    form = None
    if current_user.is_authenticated:
        form = PostForm()
        if form.validate_on_submit():
            db.session.add(Post(body=form.body.data, author=current_user))
            db.session.commit()
            flash("Your post is live.", "success")
            return redirect(url_for("main.index"))
    elif request.method == "POST":
        return login.unauthorized()
    pagination = paginate_posts(Post.newest_first())
    return render_template("main/index.html", title="Home", form=form, pagination=pagination)


@bp.get("/explore")
def explore():
    pagination = paginate_posts(Post.newest_first())
    return render_template("main/explore.html", title="Explore", pagination=pagination)


@bp.get("/js/flask-moment.js")
def moment_js():
    # Flask-Moment's glue as a script file rather than inline code, so a Content-Security-Policy
    # can forbid inline scripts.
    response = current_app.response_class(moment.flask_moment_js(), mimetype="text/javascript")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response
