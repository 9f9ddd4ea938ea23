"""Staff time pages: recording one's time, the secretary's phone calls, the manager's split
per month and worker with its chart and table."""

from __future__ import annotations

from sqlalchemy import select

from core.models.accompaniment import TimeEntry


def test_a_social_worker_records_time_and_sees_it(client, users, login, session, tenant,
                                                  in_tenant):
    login(client, users["social_worker"])
    response = client.post("/t/alpha/temps/", data={
        "day": "2026-03-02", "minutes": "40", "activity": "workshop",
        "category": "accompaniment", "note": "Atelier budget"})
    assert response.status_code == 302
    html = client.get("/t/alpha/temps/").get_data(as_text=True)
    assert "02/03/2026" in html and "Atelier collectif" in html


def test_the_secretary_is_offered_and_allowed_phone_calls_only(client, users, login):
    login(client, users["secretary"])
    html = client.get("/t/alpha/temps/").get_data(as_text=True)
    assert 'value="phone_call"' in html and 'value="interview"' not in html
    refused = client.post("/t/alpha/temps/", data={
        "day": "2026-03-02", "minutes": "40", "activity": "interview", "category": "intake"})
    assert refused.status_code == 422 and 'aria-describedby="activity-erreur"' in \
        refused.get_data(as_text=True)
    assert client.post("/t/alpha/temps/", data={
        "day": "2026-03-02", "minutes": "10", "activity": "phone_call",
        "category": "intake"}).status_code == 302


def test_the_manager_sees_the_split_per_month_and_worker(client, users, login, session,
                                                         tenant, in_tenant):
    login(client, users["social_worker"])
    for day, minutes, category in (("2026-01-10", 90, "instruction"),
                                   ("2026-02-03", 30, "accompaniment")):
        client.post("/t/alpha/temps/", data={"day": day, "minutes": str(minutes),
                                             "activity": "other", "category": category})
    login(client, users["manager"])
    response = client.get("/t/alpha/temps/rapport?du=2026-01-01&au=2026-12-31")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "janv. 2026" in html and "févr. 2026" in html and "1 h 30" in html
    assert users["social_worker"].full_name in html
    assert '<svg class="time-bars" role="img"' in html and "<caption>" in html
    assert "aucun prêt accordé sur la période" in html
    assert "75,0 %" in html  # instruction share: 90 of 120 minutes
    with in_tenant(tenant):
        assert len(session.scalars(select(TimeEntry)).all()) == 2


def test_the_report_is_the_managers_only(client, users, login):
    for role in ("social_worker", "secretary", "lender_agent", "funder"):
        login(client, users[role])
        assert client.get("/t/alpha/temps/rapport").status_code == 403


def test_an_invalid_period_is_explained(client, users, login):
    login(client, users["manager"])
    response = client.get("/t/alpha/temps/rapport?du=2026-05-01&au=2026-01-01")
    assert response.status_code == 422
    assert "La fin de la période précède son début." in response.get_data(as_text=True)
