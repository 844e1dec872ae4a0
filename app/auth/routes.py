import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.auth.forms import LoginForm, RegistrationForm
from app.extensions import db
from app.models import User
from app.redirects import safe_next_path

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegistrationForm()
    if form.validate_on_submit():
        user = User(username=form.username.data)
        user.set_email(form.email.data)
        user.set_password(form.password.data)
        db.session.add(user)
        try:
            db.session.commit()
        except sa.exc.IntegrityError:
            # Someone took the name or address between the form's check and this insert.
            db.session.rollback()
            form.username.errors.append("That username or email address was just taken.")
        else:
            login_user(user)
            flash(f"Welcome to Microblog, {user.username}!", "success")
            return redirect(url_for("main.index"))
    return render_template("auth/register.html", title="Register", form=form)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = User.authenticate(form.username.data, form.password.data)
        if user is None:
            # One message for both cases: which accounts exist is nobody's business.
            form.form_errors.append("Invalid username, email or password.")
        else:
            db.session.commit()  # keeps a password hash upgraded by authenticate()
            login_user(user, remember=form.remember_me.data)
            flash(f"Welcome back, {user.username}.", "success")
            return redirect(safe_next_path(request.args.get("next")) or url_for("main.index"))
    return render_template("auth/login.html", title="Log in", form=form)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash("You have been logged out.", "info")
    return redirect(url_for("main.index"))
