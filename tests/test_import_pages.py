"""The manager's upload page: preview with errors, nothing written before confirming,
confirm writes, skip-invalid, rejects download; other roles refused."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from core.models import Case
from tests.test_import import DIRTY, TOULOUSE_CP1252


@pytest.fixture
def app_config(app_config, tmp_path):
    """Uploads wait in the test's temporary folder, not in the instance folder."""
    return {**app_config, "CCAS_IMPORT_DIR": str(tmp_path / "imports")}


def upload(client, data, name="historique.csv"):
    return client.post("/t/alpha/reprise/",
                       data={"fichier": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def cases_count(session, tenant, in_tenant):
    session.expire_all()
    with in_tenant(tenant):
        return session.scalar(select(func.count()).select_from(Case))


def token_of(html: str) -> str:
    return re.search(r"/t/alpha/reprise/([A-Za-z0-9_-]+)/confirmer", html).group(1)


def test_preview_shows_first_rows_and_writes_nothing(client, login, users, session, tenant,
                                                     in_tenant):
    login(client, users["manager"])
    page = upload(client, TOULOUSE_CP1252)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Dupré" in html and "4 dossiers seraient créés" in html
    assert cases_count(session, tenant, in_tenant) == 0
    done = client.post(f"/t/alpha/reprise/{token_of(html)}/confirmer")
    assert done.status_code == 200 and "4 dossiers créés" in done.get_data(as_text=True)
    assert cases_count(session, tenant, in_tenant) == 4


def test_preview_lists_errors_and_confirm_without_skipping_writes_nothing(
        client, login, users, session, tenant, in_tenant):
    login(client, users["manager"])
    html = upload(client, DIRTY).get_data(as_text=True)
    assert "Ligne 3, colonne date_demande : date inexistante « 2019-02-30 »." in html
    token = token_of(html)
    refused = client.post(f"/t/alpha/reprise/{token}/confirmer")
    assert refused.status_code == 422
    assert cases_count(session, tenant, in_tenant) == 0
    rejects = client.get(f"/t/alpha/reprise/{token}/rejets.csv")
    assert rejects.status_code == 200 and "2019-02-30" in rejects.data.decode("utf-8-sig")
    done = client.post(f"/t/alpha/reprise/{token}/confirmer", data={"ignorer_invalides": "oui"})
    assert done.status_code == 200
    assert cases_count(session, tenant, in_tenant) == 2


def test_upload_without_file_shows_the_field_error(client, login, users):
    login(client, users["manager"])
    page = client.post("/t/alpha/reprise/", data={}, content_type="multipart/form-data")
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert 'aria-invalid="true"' in html and 'id="fichier-erreur"' in html


def test_a_file_missing_required_columns_is_refused_on_the_form(client, login, users):
    login(client, users["manager"])
    page = upload(client, b"nom;prenom\nA;B\n")
    assert page.status_code == 422 and "Colonnes obligatoires absentes" in page.get_data(
        as_text=True)


def test_unknown_token_is_not_found(client, login, users):
    login(client, users["manager"])
    assert client.post("/t/alpha/reprise/" + "x" * 32 + "/confirmer").status_code == 404


@pytest.mark.parametrize("role", ["secretary", "social_worker", "referrer", "lender_agent",
                                  "funder"])
def test_only_the_manager_imports(client, login, users, role):
    login(client, users[role])
    assert client.get("/t/alpha/reprise/").status_code == 403


def waiting_uploads(app):
    from core.importer.uploads import store_for

    return sorted(p.name for p in store_for(app).root.glob("*"))


def test_a_confirmed_upload_leaves_no_file_behind(client, login, users, app):
    login(client, users["manager"])
    token = token_of(upload(client, TOULOUSE_CP1252).get_data(as_text=True))
    assert len(waiting_uploads(app)) == 2  # the bytes and the file's name
    assert client.post(f"/t/alpha/reprise/{token}/confirmer").status_code == 200
    assert waiting_uploads(app) == []


def test_uploads_are_private_to_the_service_user(client, login, users, app):
    import stat

    from core.importer.uploads import store_for

    login(client, users["manager"])
    upload(client, TOULOUSE_CP1252)
    for path in store_for(app).root.glob("*"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_unconfirmed_upload_expires_and_is_swept(client, login, users, app, session,
                                                    tenant, in_tenant):
    import os
    import time

    from core.importer.uploads import store_for

    login(client, users["manager"])
    token = token_of(upload(client, TOULOUSE_CP1252).get_data(as_text=True))
    store = store_for(app)
    day_old = time.time() - store.ttl_seconds - 60
    for path in store.root.glob("*"):
        os.utime(path, (day_old, day_old))
    # past its time to live the token no longer answers, and nothing is imported
    assert client.post(f"/t/alpha/reprise/{token}/confirmer").status_code == 404
    assert cases_count(session, tenant, in_tenant) == 0
    assert waiting_uploads(app) == []


def test_a_new_upload_sweeps_the_expired_ones_of_every_tenant(client, login, users, app):
    import os
    import time

    from core.importer.uploads import store_for

    store = store_for(app)
    store.root.mkdir(parents=True, exist_ok=True)
    stale = store.save(999, b"nom;prenom\nX;Y\n", "vieux.csv")
    old = time.time() - store.ttl_seconds - 1
    for path in store.root.glob(f"999-{stale}.*"):
        os.utime(path, (old, old))
    login(client, users["manager"])
    upload(client, TOULOUSE_CP1252)
    assert not any(name.startswith("999-") for name in waiting_uploads(app))
    assert len(waiting_uploads(app)) == 2


def test_another_tenant_cannot_confirm_an_upload(client, login, users, app, other_tenant,
                                                 make_user):
    login(client, users["manager"])
    token = token_of(upload(client, TOULOUSE_CP1252).get_data(as_text=True))
    client.post("/deconnexion")
    stranger = make_user(other_tenant, "manager")
    login(client, stranger)
    slug = other_tenant.slug
    assert client.post(f"/t/{slug}/reprise/{token}/confirmer").status_code == 404
    assert client.get(f"/t/{slug}/reprise/{token}/rejets.csv").status_code == 404


def test_ccas_import_sweep_removes_expired_uploads(app, ccas, tmp_path, monkeypatch):
    import os
    import time

    from core.importer.uploads import UploadStore

    store = UploadStore(tmp_path / "imports", ttl_hours=24)
    fresh = store.save(1, b"a", "a.csv")
    stale = store.save(1, b"b", "b.csv")
    old = time.time() - 25 * 3600
    for path in (tmp_path / "imports").glob(f"1-{stale}.*"):
        os.utime(path, (old, old))
    monkeypatch.setenv("CCAS_IMPORT_DIR", str(tmp_path / "imports"))
    result = ccas("import", "sweep")
    assert result.exit_code == 0, result.output
    assert "1 fichier en attente supprimé" in result.output
    assert store.load(1, fresh) is not None and store.load(1, stale) is None
