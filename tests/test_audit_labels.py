"""The audit journal in French: every action the code records has a label in the one
registry (``core.labels``, plugins through ``ccas_labels``); the journal shows the label
with the technical code beside it for auditors; an action without a label shows a French
default marked for the no-raw-code crawl."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from core import labels
from core.models import AuditEvent

ROOT = Path(__file__).resolve().parents[1]
RECORDERS = {"record", "record_now", "record_list_read", "record_audit", "_record"}
#: Actions whose code is built at run time (``f"plugin.{action}"``, core/web/operator.py).
BUILT = {"plugin.enable", "plugin.disable"}


def recorded_actions() -> dict[str, str]:
    """``{action: "file:line"}`` of every literal action given to an audit writer in
    ``core/`` and ``plugins/`` (both branches of a conditional too)."""
    found: dict[str, str] = {}
    for folder in ("core", "plugins"):
        for path in (ROOT / folder).rglob("*.py"):
            if "tests" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call) or len(node.args) < 2:
                    continue
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name not in RECORDERS:
                    continue
                arg = node.args[1]
                options = [arg.body, arg.orelse] if isinstance(arg, ast.IfExp) else [arg]
                for option in options:
                    if isinstance(option, ast.Constant) and isinstance(option.value, str) \
                            and re.fullmatch(r"[a-z_]+(\.[a-z_]+)*", option.value):
                        found.setdefault(option.value,
                                         f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_the_scan_finds_the_actions_it_should():
    found = recorded_actions()
    assert len(found) > 100
    assert {"case.transition", "login", "tenant.suspend", "tenant.resume",
            "user.totp_enable", "loan.granted", "ficp.result"} <= set(found)
    assert 'f"plugin.{action}"' in (ROOT / "core/web/operator.py").read_text(encoding="utf-8")


def test_every_recorded_action_has_a_french_label(app):
    with app.app_context():
        known = labels.vocabulary("audit_action")
        missing = {code: where for code, where in recorded_actions().items()
                   if code not in known}
        missing.update({code: "core/web/operator.py" for code in BUILT if code not in known})
    assert missing == {}


def test_an_action_without_a_label_gets_a_french_default_naming_its_domain(app):
    with app.app_context():
        assert labels.audit_action("case.transition") == ("Dossier passé à une autre étape",
                                                          True)
        assert labels.audit_action("loan.granted") == ("Prêt accordé", True)  # the plugin's
        assert labels.audit_action("case.frobnicate") == (
            "Dossier : action sans libellé", False)
        assert labels.audit_action("zzz") == ("Autre : action sans libellé", False)


def test_the_journal_shows_labels_with_the_code_for_auditors(client, users, login, session,
                                                             tenant, in_tenant):
    with in_tenant(tenant):
        for action in ("case.transition", "case.frobnicate"):
            session.add(AuditEvent(actor="user:x@alpha.test", action=action,
                                   object_type="Case", object_id="abc",
                                   detail={"source": "evaluation", "target": "instruction"}))
        session.commit()
    login(client, users["manager"])
    html = client.get("/t/alpha/admin/audit/").get_data(as_text=True)
    assert ('<span class="audit-action">Dossier passé à une autre étape</span> '
            '<span class="audit-move">(Évaluation → Instruction)</span> '
            '<code class="audit-code">case.transition</code>') in html
    assert ('<span class="audit-action" data-unlabelled="case.frobnicate">Dossier : action '
            'sans libellé</span>') in html
    assert "Dossier <code>abc</code>" in html  # the object's kind in words
    # the action filter offers the labels, the codes as values
    assert '<option value="case.transition" >Dossier passé à une autre étape</option>' in html
    filtered = client.get("/t/alpha/admin/audit/?action=case.transition").get_data(as_text=True)
    assert "case.frobnicate" not in filtered.split("<tbody>", 1)[1]


def test_every_table_an_audit_row_can_be_about_has_a_french_name(app):
    """``AuditEvent.object_type`` is the class name of the object recorded: every mapped
    class of the core and the shipped plugins has a name in the registry."""
    from core.models import Base

    with app.app_context():
        known = labels.vocabulary("audit_object")
        classes = {mapper.class_.__name__ for mapper in Base.registry.mappers}
    assert {"Case", "Loan", "HouseholdMember"} <= classes  # the plugins' models are loaded
    assert sorted(classes - set(known)) == []


def test_an_unnamed_object_type_is_marked_for_the_crawl(app):
    from core.web.filters import audit_object

    with app.app_context():
        assert str(audit_object("Case")) == "Dossier"
        assert str(audit_object("Mystery")) == '<span data-unlabelled="Mystery">Objet</span>'
