"""The secretary's and the social worker's dashboards: key figures and charts (with their
data table) counted right from the tenant's data, never another tenant's; the pure
counting functions of ``core.reports.workload``."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core import cases
from core.models import Appointment, AppointmentStatus, State
from core.reports import workload

PARIS = ZoneInfo("Europe/Paris")
TODAY = date(2026, 12, 9)  # a Wednesday


# -- pure counting ---------------------------------------------------------------------------


def test_requests_per_week_count_monday_to_sunday_the_current_week_last():
    days = [date(2026, 12, 7), date(2026, 12, 13), date(2026, 12, 6), date(2026, 11, 30),
            date(2026, 11, 1)]
    assert workload.per_week(days, TODAY, 3) == [
        ("23/11", date(2026, 11, 23), 0), ("30/11", date(2026, 11, 30), 2),
        ("07/12", date(2026, 12, 7), 2)]


def test_days_ahead_skip_the_week_end():
    rows = workload.per_day([date(2026, 12, 11), date(2026, 12, 14), date(2026, 12, 14),
                             date(2026, 12, 12)], date(2026, 12, 10), 3)
    assert rows == [("jeu. 10/12", date(2026, 12, 10), 0),
                    ("ven. 11/12", date(2026, 12, 11), 1),
                    ("lun. 14/12", date(2026, 12, 14), 2)]


def test_age_bands_cut_at_their_bounds():
    assert workload.age_bands([0, 7, 8, 14, 15, 30, 31, 400], (8, 15, 31)) == [
        ("moins de 8 jours", 2), ("8 à 14 jours", 2), ("15 à 30 jours", 2),
        ("31 jours et plus", 2)]
    assert workload.in_range([TODAY, TODAY + timedelta(days=7)], TODAY, TODAY) == 1


# -- the pages -------------------------------------------------------------------------------


def _local(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=PARIS).astimezone(UTC)


def _world(session, tenant, in_tenant, users, clock, worker=None):
    """Cases and appointments in ``tenant``: (intake day, state, assigned to worker?,
    days in its state)."""
    clock.travel_to(datetime(2026, 12, 9, 10, tzinfo=PARIS))
    worker = worker or users["social_worker"]
    made = []
    with in_tenant(tenant):
        for intake, state, mine, days_in_state in (
                (date(2026, 12, 8), State.intake, False, 1),
                (date(2026, 12, 1), State.documents_requested, True, 3),
                (date(2026, 11, 20), State.documents_requested, False, 20),
                (date(2026, 10, 1), State.evaluation, True, 40),
                (date(2026, 8, 1), State.instruction, True, 10),
                (date(2026, 6, 1), State.refused, True, 100)):
            person = cases.create_person(session, cases.PersonData("Léa", "Martin",
                                                                   date(1990, 1, 1)))
            case = cases.open_case(session, person, "mobility", "900", intake_date=intake)
            case.state = state.value
            case.state_changed_at = _local(TODAY - timedelta(days=days_in_state), 9)
            case.social_worker_id = worker.id if mine else None
            made.append(case)
        session.flush()
        for day, hour, status in ((TODAY, 14, "planned"), (TODAY + timedelta(days=2), 9,
                                                           "planned"),
                                  (TODAY + timedelta(days=1), 9, "moved"),
                                  (TODAY + timedelta(days=6), 9, "planned"),  # Tue next week
                                  (TODAY - timedelta(days=1), 9, "held")):
            session.add(Appointment(case_id=made[1].id, social_worker_id=worker.id,
                                    starts_at=_local(day, hour),
                                    status=AppointmentStatus(status)))
        session.commit()
    return made


def _figure(html: str, term: str) -> str:
    match = re.search(r"<dt>" + re.escape(term) + r"</dt><dd>([^<]*)</dd>", html)
    assert match, term
    return match.group(1)


@pytest.fixture
def two_tenants(session, tenant, other_tenant, in_tenant, users, make_user, clock):
    _world(session, tenant, in_tenant, users, clock)
    other_worker = make_user(other_tenant, "social_worker")
    _world(session, other_tenant, in_tenant, users, clock, worker=other_worker)


def test_the_social_worker_sees_their_own_cases_and_appointments(client, users, login,
                                                                 two_tenants):
    login(client, users["social_worker"])
    html = client.get("/t/alpha/").get_data(as_text=True)
    assert _figure(html, "Mes dossiers en cours") == "3"  # the refused one is closed
    # this week: yesterday's (held), today's and Friday's; the moved one counts at its new
    # time only
    assert _figure(html, "Mes rendez-vous cette semaine") == "3"
    assert _figure(html, "Mes rendez-vous la semaine prochaine") == "1"
    assert _figure(html, "Mes dossiers en attente de pièces") == "1"
    assert 'id="graphique-mes-etats"' in html
    desc = re.search(r'<desc id="graphique-mes-etats-desc">([^<]*)</desc>', html).group(1)
    assert desc == "Pièces demandées : 1 ; Évaluation : 1 ; Instruction : 1"
    bands = re.search(r'<desc id="graphique-mes-delais-desc">([^<]*)</desc>', html).group(1)
    # 8, 69 and 130 days since the request
    assert bands == ("moins de 15 jours : 1 ; 15 à 30 jours : 0 ; 31 à 60 jours : 0 ; "
                     "61 à 90 jours : 1 ; 91 jours et plus : 1")
    upcoming = re.search(r'<desc id="graphique-mes-rdv-desc">([^<]*)</desc>', html).group(1)
    assert upcoming.startswith("mer. 09/12 : 1 ; jeu. 10/12 : 0 ; ven. 11/12 : 1 ; "
                               "lun. 14/12 : 0 ; mar. 15/12 : 1")
    # each chart has its table, whose rows lead to the cases
    assert html.count("Voir les chiffres en tableau") == 3
    assert "state=evaluation&amp;worker=" in html


def test_the_secretary_sees_requests_per_week_and_the_documents_awaited(client, users,
                                                                        login, two_tenants):
    login(client, users["secretary"])
    html = client.get("/t/alpha/").get_data(as_text=True)
    assert _figure(html, "Demandes reçues cette semaine") == "1"  # 08/12
    assert _figure(html, "Demandes reçues ce mois-ci") == "2"  # 01/12 and 08/12
    assert _figure(html, "Rendez-vous prévus, les 10 prochains jours ouvrés") == "3"
    assert _figure(html, "Dossiers en attente de pièces") == "2"
    weeks = re.search(r'<desc id="graphique-demandes-semaines-desc">([^<]*)</desc>',
                      html).group(1)
    assert weeks.endswith("16/11 : 1 ; 23/11 : 0 ; 30/11 : 1 ; 07/12 : 1")
    waiting = re.search(r'<desc id="graphique-attente-pieces-desc">([^<]*)</desc>',
                        html).group(1)
    assert waiting == ("moins de 8 jours : 1 ; 8 à 14 jours : 0 ; 15 à 30 jours : 1 ; "
                       "31 jours et plus : 0")
    assert "Fiches recueil à traiter (1)" in html


# -- the manager's pictures ------------------------------------------------------------------


def _manager_world(session, tenant, in_tenant, clock, n_caf=2):
    """Referrals from two partners (one sent the year before) and two workshop sessions
    (one held this year, one to come) in ``tenant``."""
    from core import accounts
    from core.models import (
        Organisation,
        Referral,
        WorkshopInvitation,
        WorkshopSession,
        WorkshopTheme,
    )

    clock.travel_to(datetime(2026, 12, 9, 10, tzinfo=PARIS))
    with in_tenant(tenant):
        ccas = session.query(Organisation).filter_by(kind="ccas").one()
        caf = accounts.create_organisation(session, "CAF de la ville", "aid_fund")
        sc = accounts.create_organisation(session, "Secours Catholique", "association")
        session.flush()
        sent = [(caf, datetime(2026, 3, 2, 9, tzinfo=PARIS))] * n_caf + [
            (sc, datetime(2026, 11, 5, 9, tzinfo=PARIS)),
            (caf, datetime(2025, 12, 31, 23, 30, tzinfo=PARIS))]  # last year in Paris
        for org, at in sent:
            session.add(Referral(from_organisation_id=org.id, to_organisation_id=ccas.id,
                                 first_name="Léa", last_name="Martin", purpose="mobility",
                                 consent=True, status="sent", created_at=at.astimezone(UTC)))
        theme = WorkshopTheme(title="Gérer son budget")
        session.add(theme)
        session.flush()
        held = WorkshopSession(theme_id=theme.id, place="Salle A", capacity=10,
                               starts_at=_local(date(2026, 10, 6), 14))
        coming = WorkshopSession(theme_id=theme.id, place="Salle A", capacity=10,
                                 starts_at=_local(date(2026, 12, 15), 14))
        session.add_all([held, coming])
        session.flush()
        for i, (ws, status) in enumerate(((held, "attended"), (held, "attended"),
                                          (held, "registered"), (held, "invited"),
                                          (coming, "registered"))):
            person = cases.create_person(session, cases.PersonData(
                "Léa", f"Martin{i}", date(1990, 1, 1)))
            session.flush()
            session.add(WorkshopInvitation(session_id=ws.id, person_id=person.id,
                                           status=status))
        session.commit()


def test_the_manager_sees_referrals_by_partner_attendance_and_delays(
        client, users, login, session, tenant, other_tenant, in_tenant, clock):
    _manager_world(session, tenant, in_tenant, clock)
    _manager_world(session, other_tenant, in_tenant, clock, n_caf=7)  # never counted here
    login(client, users["manager"])
    page = client.get("/t/alpha/").get_data(as_text=True)
    assert "Orientations reçues en 2026, par partenaire" in page
    assert 'id="graphique-partenaires"' in page and 'id="graphique-ateliers"' in page
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td class="num">([^<]+)</td></tr>',
                      page)
    # this year's referrals by sender (the CAF's of 31/12/2025 in Paris is last year's)
    assert ("CAF de la ville", "2") in rows and ("Secours Catholique", "1") in rows
    # the session held this year: two present of the three seated (the invited one and
    # the session to come do not count)
    assert ("Gérer son budget", "2 sur 3") in rows


def test_the_managers_pictures_say_what_to_do_when_empty(client, users, login, clock):
    clock.travel_to(datetime(2026, 12, 9, 10, tzinfo=PARIS))
    login(client, users["manager"])
    page = client.get("/t/alpha/").get_data(as_text=True)
    assert "Aucune orientation reçue d'un partenaire cette année" in page
    assert "Aucune séance d'atelier tenue cette année" in page


def _every_list_filled(session, tenant, in_tenant, users, clock, worker=None, n_caf=2):
    """:func:`_world` with a row in each of the manager's lists: a case stuck for 40
    days, one missing a document, a loan being repaid with an overdue follow-up and an
    open task; and :func:`_manager_world`'s referrals and workshops."""
    from core.models.accompaniment import AccompanimentTask, FollowUp
    from core.models.documents import CaseDocument

    made = _world(session, tenant, in_tenant, users, clock, worker=worker)
    with in_tenant(tenant):
        session.add(CaseDocument(case_id=made[2].id, code="rib", label="RIB"))
        made[4].state = State.repaying.value
        session.add(FollowUp(case_id=made[4].id, plan_month=1, planned_on=TODAY
                             - timedelta(days=10)))
        session.add(AccompanimentTask(case_id=made[4].id, kind="late_instalment",
                                      message="Échéance impayée"))
        session.commit()
    _manager_world(session, tenant, in_tenant, clock, n_caf=n_caf)


_CSRF = re.compile(r'(name="csrf_token" value=")[^"]*(")|(content=")[^"]*(" name="csrf)')


def test_the_managers_dashboard_never_counts_another_tenants_rows(
        client, users, login, session, tenant, other_tenant, in_tenant, make_user, clock):
    """Every block of the manager's page (its Core reads under the tenant wall among
    them) reads the same page once another tenant holds the same rows, and more."""
    _every_list_filled(session, tenant, in_tenant, users, clock)
    login(client, users["manager"])
    alone = _CSRF.sub(r"\1\3\2\4", client.get("/t/alpha/").get_data(as_text=True))
    assert "Échéance impayée" in alone and "Aucun suivi en retard" not in alone
    assert "Aucun dossier bloqué" not in alone and "Aucun dossier n'attend" not in alone
    assert _figure(alone, "Dossiers en cours") == "5"
    other_worker = make_user(other_tenant, "social_worker")
    _every_list_filled(session, other_tenant, in_tenant, users, clock, worker=other_worker,
                       n_caf=7)
    beside = _CSRF.sub(r"\1\3\2\4", client.get("/t/alpha/").get_data(as_text=True))
    assert beside == alone


def test_the_managers_stuck_cases_count_says_more_than_what_it_lists(
        client, users, login, session, tenant, in_tenant, clock, monkeypatch):
    """The stuck cases are listed up to ``STUCK_SHOWN`` (the oldest first); past it the
    key figure and the heading say "plus de" that many, never the cut list's length as
    the total."""
    from core.web import dashboards

    made = _world(session, tenant, in_tenant, users, clock)
    with in_tenant(tenant):
        made[2].state_changed_at = _local(TODAY - timedelta(days=35), 9)  # a second one
        session.commit()
    login(client, users["manager"])
    page = client.get("/t/alpha/").get_data(as_text=True)
    assert _figure(page, "Sans mouvement depuis 30 jours") == "2"
    monkeypatch.setattr(dashboards, "STUCK_SHOWN", 1)
    page = client.get("/t/alpha/").get_data(as_text=True)
    assert _figure(page, "Sans mouvement depuis 30 jours") == "plus de 1"
    assert "30 jours (plus de 1)</h2>" in page and "Les 1 plus anciens sont listés." in page
    listed = page.split('id="resp-bloques"')[1].split("</section>")[0]
    assert made[3].reference in listed and made[2].reference not in listed  # 40 days first


def test_the_lenders_submitted_files_count_says_more_than_what_it_lists(
        client, users, login, session, tenant, in_tenant, clock, monkeypatch):
    from core.web import dashboards

    made = _world(session, tenant, in_tenant, users, clock)
    with in_tenant(tenant):
        for case in made[1:3]:
            case.state = State.submitted_to_lender.value
        session.commit()
    login(client, users["lender_agent"])
    page = client.get("/t/alpha/").get_data(as_text=True)
    assert "en attente de décision (2)</h2>" in page
    monkeypatch.setattr(dashboards, "STUCK_SHOWN", 1)
    page = client.get("/t/alpha/").get_data(as_text=True)
    assert "en attente de décision (plus de 1)</h2>" in page
    assert "Les 1 plus anciens sont listés." in page
