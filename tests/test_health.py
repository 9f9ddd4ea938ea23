def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_reports_database_at_head(client):
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.get_json()["migrations"] == "head"


def test_readyz_is_503_when_the_database_is_unreachable(ccas_database, app_config):
    from core.app import create_app

    url = ("postgresql+psycopg://nobody@127.0.0.1:1/none" if ccas_database.dialect == "postgresql"
           else "sqlite:////nonexistent-dir/x.sqlite3")
    app = create_app({**app_config, "CCAS_DATABASE_URL": url, "CCAS_DATABASE_OWNER_URL": url})
    r = app.test_client().get("/readyz")
    assert r.status_code == 503
    assert r.get_json()["database"] == "unreachable"
