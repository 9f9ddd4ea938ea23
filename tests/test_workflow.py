"""The case state machine: table, roles, versions, reasons, plugin checks and vetoes."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from core import cases, clock, plugins, workflow
from core.models import Case, CaseTransition, State
from core.plugin_api import CaseCheck
from core.testing.pytest_plugin import probe_plugin
from core.workflow import TransitionError, TransitionRequest
from core.workflow.definitions import merge


@pytest.fixture
def case(app, tenant, users, session, in_tenant):
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData("Léa", "Martin", date(1995, 4, 2)))
        c = cases.open_case(session, person, "mobility", "1500", actor=users["secretary"])
        session.commit()
        yield c


def move(session, c, target, actor, **kw):
    rec = workflow.apply_transition(
        session, c, TransitionRequest(target=target, version=c.version, **kw), actor
    )
    session.commit()
    return rec


def _workflows(app):
    """The core's workflow alone, and with every installed plugin's part."""
    registry = plugins.registry()
    return [merge([]), registry.workflow_for(frozenset(registry.usable()))]


def test_every_transition_targets_a_known_state_and_roles(app):
    for flow in _workflows(app):
        for t in flow.transitions:
            assert t.roles and t.source != t.target
            assert t.source in flow.states and t.target in flow.states
            assert not flow.is_terminal(t.source)


def test_every_non_terminal_state_can_be_left_and_every_state_reached(app):
    for flow in _workflows(app):
        sources = {t.source for t in flow.transitions}
        targets = {t.target for t in flow.transitions}
        for code, state in flow.states.items():
            assert state.terminal or code in sources, code
            assert code == "intake" or code in targets, code


def test_the_lenders_check_replaces_the_direct_path_to_the_documents(app):
    core, full = _workflows(app)
    assert core.find("intake", "documents_requested") is not None
    assert full.find("intake", "documents_requested") is None
    assert full.find("intake", "ficp_pending").name == "send_to_ficp"
    assert "ficp_pending" not in core.states


def test_open_case_records_intake_and_reference(case, session):
    assert case.state == State.intake
    assert case.reference == f"{clock.today().year}-00001"
    rows = session.scalars(select(CaseTransition)).all()
    assert [(r.from_state, r.to_state) for r in rows] == [(None, "intake")]


def test_secretary_requests_the_documents_and_the_move_is_recorded(case, users, session):
    rec = move(session, case, "documents_requested", users["secretary"])
    assert case.state == "documents_requested" and case.version == 2
    assert rec.actor_id == users["secretary"].id and rec.from_state == "intake"


def test_illegal_transition_is_422(case, users, session):
    with pytest.raises(TransitionError) as err:
        move(session, case, "granted", users["secretary"])
    assert err.value.status == 422 and "impossible" in err.value.message


def test_role_not_allowed_is_403(case, users, session):
    with pytest.raises(TransitionError) as err:
        move(session, case, "documents_requested", users["referrer"])
    assert err.value.status == 403


def test_stale_version_is_409_and_nothing_changes(case, users, session):
    with pytest.raises(TransitionError) as err:
        workflow.apply_transition(
            session, case,
            TransitionRequest(target="documents_requested", version=case.version - 1),
            users["secretary"],
        )
    assert err.value.status == 409
    session.rollback()
    assert session.get(Case, (case.tenant_id, case.id)).state == State.intake


def test_abandon_requires_a_coded_reason(case, users, session):
    with pytest.raises(TransitionError, match="motif"):
        move(session, case, "abandoned", users["secretary"])
    session.rollback()
    with pytest.raises(TransitionError, match="Motif inconnu"):
        move(session, case, "abandoned", users["secretary"], reason="bored")
    session.rollback()
    rec = move(session, case, "abandoned", users["secretary"], reason="no_response")
    assert rec.reason_code == "no_response" and case.state == State.abandoned


def test_reorient_requires_a_known_destination(case, users, session):
    with pytest.raises(TransitionError, match="réorientée"):
        move(session, case, "reoriented", users["secretary"], reason="better_scheme")
    session.rollback()
    move(session, case, "reoriented", users["secretary"], reason="better_scheme",
         destination="point_conseil_budget")
    assert case.state == State.reoriented and case.reoriented_to == "point_conseil_budget"





def test_plugin_veto_refuses_with_its_message(case, users, session, with_plugin):
    with_plugin(probe_plugin("vetoer", ccas_case_before_transition=lambda transition: (
        "pas aujourd'hui" if transition.target == "documents_requested" else None)))
    with pytest.raises(TransitionError) as err:
        move(session, case, "documents_requested", users["secretary"])
    assert err.value.message == "VETOER : pas aujourd'hui"
    session.rollback()
    assert session.get(Case, (case.tenant_id, case.id)).state == State.intake


def test_raising_plugin_refuses_and_is_logged_by_name(case, users, session, with_plugin,
                                                     caplog):
    def boom(case):
        raise RuntimeError("kaput")

    with_plugin(probe_plugin("crashy", ccas_case_before_transition=boom))
    with pytest.raises(TransitionError, match="CRASHY : erreur"):
        move(session, case, "documents_requested", users["secretary"])
    session.rollback()
    assert "plugin crashy failed in ccas_case_before_transition" in caplog.text
    assert session.get(Case, (case.tenant_id, case.id)).state == State.intake


def test_raising_after_hook_cancels_the_transition(case, users, session, with_plugin):
    def boom(case):
        raise RuntimeError("after")

    with_plugin(probe_plugin("late", ccas_case_after_transition=boom))
    with pytest.raises(TransitionError, match="passage annulé"):
        move(session, case, "documents_requested", users["secretary"])
    session.rollback()
    fresh = session.get(Case, (case.tenant_id, case.id))
    assert fresh.state == State.intake
    assert len(session.scalars(select(CaseTransition)).all()) == 1


def test_failed_check_blocks_leaving_the_state_but_not_side_exits(case, users, session,
                                                                 with_plugin):
    with_plugin(probe_plugin("checker", ccas_case_checks=lambda state: [
        CaseCheck("x", "Contrôle X", passed=False, message="Contrôle X non fait.")]
        if state == "intake" else None))
    with pytest.raises(TransitionError, match="Contrôle X non fait."):
        move(session, case, "documents_requested", users["secretary"])
    session.rollback()
    move(session, case, "abandoned", users["secretary"], reason="no_response")
    assert case.state == State.abandoned


def test_plugin_of_another_tenant_does_not_veto(case, users, session, with_plugin, tenant,
                                                other_tenant, in_tenant):
    with_plugin(probe_plugin("vetoer2", ccas_case_before_transition=lambda: "non"))
    with in_tenant(tenant):
        plugins.set_enabled(session, "vetoer2", False)
        session.commit()
    plugins.forget_enabled_cache()
    move(session, case, "documents_requested", users["secretary"])
    assert case.state == "documents_requested"


def test_a_transition_restarts_the_retention_clock(case, users, session):
    from datetime import timedelta

    case.person.last_contact_at = clock.now() - timedelta(days=400)
    session.commit()
    move(session, case, "documents_requested", users["secretary"])
    assert clock.now() - case.person.last_contact_at < timedelta(minutes=1)
