"""The platform's home page (no tenant)."""

from __future__ import annotations

from flask import Blueprint, render_template

from ..policy import public

bp = Blueprint("public", __name__)


@bp.route("/")
@public
def home():
    return render_template("home.html")
