"""The social worker's synthesis of the situation: dated and versioned, on the four
subjects of the evaluation (the request, the project, the resources, the prospects).
Each save is a new version (the earlier ones stay, for the history); the newest is the
one the file summary and its PDF show. Nothing is committed here."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, func, select

from .. import audit, labels, row_views, workflow
from ..errors import UserError
from ..models import Case, Synthesis
from ..policy import SOCIAL_WORKERS
from . import worker_names

#: The four subjects, in order, with their French titles.
SUBJECTS = (
    ("request", "La demande"),
    ("project", "Le projet"),
    ("resources", "Les ressources et les charges"),
    ("prospects", "Les perspectives"),
)
MAX_LENGTH = 10000


@dataclass(frozen=True)
class Text:
    request: str
    project: str
    resources: str
    prospects: str


#: Built once (a statement built per call costs more than the read); the tenant's
#: criterion is added per execution by the session (``core.tenancy``).
_VERSIONS = (select(Synthesis).where(Synthesis.case_id == bindparam("case_id"))
             .order_by(Synthesis.number.desc()))


_VERSION_VIEWS = row_views.statement(
    Synthesis, Synthesis.__table__.c.case_id == bindparam("case_id"),
    order_by=(Synthesis.__table__.c.number.desc(),))


def version_rows(session, case) -> list:
    """:func:`versions` as read-only rows (``core.row_views``), for the pages."""
    return row_views.read(session, _VERSION_VIEWS, {"case_id": case.id}, Synthesis)


def authors(session, rows, known=()) -> dict[int, str]:
    """``{version number: who wrote it}`` for the versions ``rows``: the author's full
    name (their e-mail when they have none, as for the interviews), from ``known`` (users
    the page has read already) or read in one query; the e-mail the version was signed
    with when its author is not a user of the tenant (any more)."""
    names = worker_names(session, (row.written_by_id for row in rows), known)
    return {row.number: names.get(row.written_by_id) or labels.actor(row.written_by_label)
            for row in rows}


def versions(session, case: Case) -> list[Synthesis]:
    """Every version, newest first."""
    return list(session.scalars(_VERSIONS, {"case_id": case.id}))


def latest(session, case: Case) -> Synthesis | None:
    return session.scalar(select(Synthesis).where(Synthesis.case_id == case.id)
                          .order_by(Synthesis.number.desc()).limit(1))


def write(session, case: Case, data: dict, actor) -> Synthesis:
    """Save a new version from ``data`` (the four subjects). ``UserError`` when the author
    is not a social worker, the case is over, every subject is empty, a text is too long,
    or nothing changed since the last version."""
    if str(getattr(actor, "role", "")) not in SOCIAL_WORKERS:
        raise UserError("Seuls les travailleurs sociaux et la responsable rédigent la "
                        "synthèse.", status=403)
    if workflow.current().is_terminal(case.state):
        raise UserError("Le dossier est clos : la synthèse ne se modifie plus.", status=422)
    texts = {name: (data.get(name) or "").strip() for name, _title in SUBJECTS}
    errors = {name: [f"{MAX_LENGTH:,} caractères au plus.".replace(",", "\u202f")]
              for name, text in texts.items() if len(text) > MAX_LENGTH}
    if not any(texts.values()):
        errors.setdefault("request", ["Rédigez au moins une partie de la synthèse."])
    if errors:
        first = next(iter(errors))
        raise UserError(errors[first][0], status=422, field=first, errors=errors)
    last = latest(session, case)
    if last is not None and all(getattr(last, n) == t for n, t in texts.items()):
        raise UserError("La synthèse n'a pas changé depuis la dernière version.",
                        status=422, field="request")
    number = (session.scalar(select(func.max(Synthesis.number))
                             .where(Synthesis.case_id == case.id)) or 0) + 1
    row = Synthesis(case_id=case.id, number=number, **texts,
                    written_by_id=getattr(actor, "id", None),
                    written_by_label=audit.actor_label(actor))
    session.add(row)
    session.flush()
    audit.record(session, "case.synthesis", case, actor=actor, number=number)
    return row
