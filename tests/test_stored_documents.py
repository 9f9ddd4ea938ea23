"""Documents stored on a case: content checked, size limit, tenant and role walls, the
checklist ticked, purge, subject access, tenant archive and backups with the files."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from core import cases, storage, workflow
from core.features import stored_documents
from core.models import AuditEvent, CaseDocument, DocumentStatus, State, StoredDocument, Tenant
from core.privacy import export, purge
from core.workflow import TransitionRequest

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture
def case(app, tenant, users, session, in_tenant):
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData(
            "Léa", "Martin", date(1995, 4, 2), email="lea@example.org"))
        c = cases.open_case(session, person, "mobility", "1500", actor=users["secretary"],
                            tenant=tenant)
        workflow.apply_transition(session, c, TransitionRequest("documents_requested",
                                                                c.version), users["secretary"])
        session.commit()
        return c


def url(case, suffix=""):
    return f"/t/alpha/cases/{case.id}/documents{suffix}"


def upload(client, case, data, name="piece.pdf", kind="identity", **fields):
    return client.post(url(case, "/files"), data={
        "kind": kind, "file": (io.BytesIO(data), name), **fields,
        "next": f"/t/alpha/cases/{case.id}"}, content_type="multipart/form-data")


def stored_rows(session, tenant, in_tenant) -> list[StoredDocument]:
    session.expire_all()
    with in_tenant(tenant):
        return list(session.scalars(select(StoredDocument)))


def files_on_disk(app) -> list[Path]:
    root = storage.files_dir(app)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_sniff_reads_the_content_not_the_name():
    assert stored_documents.sniff(PDF) == "application/pdf"
    assert stored_documents.sniff(PNG) == "image/png"
    assert stored_documents.sniff(JPEG) == "image/jpeg"
    assert stored_documents.sniff(b"MZ\x90\x00 executable") is None
    assert stored_documents.sniff(b"<html>%PDF-") is None


def test_a_valid_pdf_is_stored_outside_the_database_and_ticks_the_checklist(
        client, login, users, case, session, tenant, in_tenant, app):
    login(client, users["secretary"])
    r = upload(client, case, PDF, "carte identité.pdf", issued_on="2024-03-01",
               expires_on="2034-03-01")
    assert r.status_code == 302
    [row] = stored_rows(session, tenant, in_tenant)
    assert (row.kind, row.content_type, row.size) == ("identity", "application/pdf", len(PDF))
    assert row.issued_on == date(2024, 3, 1) and row.filename == "carte identité.pdf"
    [path] = files_on_disk(app)
    assert path.read_bytes() == PDF
    assert path.parent.parent.name == str(tenant.id) and "identit" not in str(path)
    assert len(path.name) == 64
    with in_tenant(tenant):
        line = session.scalar(select(CaseDocument).where(CaseDocument.code == "identity"))
        assert line.status == DocumentStatus.received
        assert session.scalar(select(AuditEvent).where(
            AuditEvent.action == "documents.attach")) is not None
    html = client.get(f"/t/alpha/cases/{case.id}").get_data(as_text=True)
    assert "Pièces déposées" in html and "carte identité.pdf" in html


def test_several_files_per_type_and_an_expired_one_does_not_tick(
        client, login, users, case, session, tenant, in_tenant):
    login(client, users["social_worker"])
    assert upload(client, case, PDF, kind="tax_notice", expires_on="2025-01-01",
                  issued_on="2024-01-01").status_code == 302
    with in_tenant(tenant):
        line = session.scalar(select(CaseDocument).where(CaseDocument.code == "tax_notice"))
        assert line.status == DocumentStatus.requested
    assert upload(client, case, PNG, "avis.png", kind="tax_notice").status_code == 302
    rows = stored_rows(session, tenant, in_tenant)
    assert sorted(r.content_type for r in rows) == ["application/pdf", "image/png"]
    with in_tenant(tenant):
        line = session.scalar(select(CaseDocument).where(CaseDocument.code == "tax_notice"))
        assert line.status == DocumentStatus.received


def test_a_spoofed_content_type_is_refused_whatever_its_name(
        client, login, users, case, session, tenant, in_tenant, app):
    login(client, users["secretary"])
    r = client.post(url(case, "/files"), data={
        "kind": "identity",
        "file": (io.BytesIO(b"<script>alert(1)</script>"), "scan.pdf", "application/pdf")},
        content_type="multipart/form-data")
    assert r.status_code == 422
    assert "ni un PDF, ni une image JPEG ou PNG" in r.get_data(as_text=True)
    assert stored_rows(session, tenant, in_tenant) == [] and files_on_disk(app) == []


def test_an_oversized_file_is_refused_and_nothing_is_left(
        client, login, users, case, session, tenant, in_tenant, app):
    app.config["CCAS_DOCUMENT_MAX_MB"] = 1
    login(client, users["secretary"])
    r = upload(client, case, PDF + b"0" * (1024 * 1024))
    assert r.status_code == 413
    assert "Fichier trop volumineux : 1 Mo au plus." in r.get_data(as_text=True)
    assert stored_rows(session, tenant, in_tenant) == [] and files_on_disk(app) == []


def test_bad_dates_are_refused_and_the_written_file_is_removed(
        client, login, users, case, session, tenant, in_tenant, app):
    login(client, users["secretary"])
    r = upload(client, case, PDF, issued_on="2026-03-01", expires_on="2025-01-01")
    assert r.status_code == 422
    assert "précède la date de délivrance" in r.get_data(as_text=True)
    r = upload(client, case, PDF, issued_on="2099-01-01")
    assert r.status_code == 422
    assert stored_rows(session, tenant, in_tenant) == [] and files_on_disk(app) == []


def test_a_failed_transaction_leaves_no_file(app, case, session, tenant, in_tenant, users):
    with in_tenant(tenant):
        stored_documents.attach(session, tenant, case, kind="identity", data=PDF,
                                filename="x.pdf", actor=users["secretary"])
        assert len(files_on_disk(app)) == 1
        session.rollback()
    assert files_on_disk(app) == []


def test_the_file_is_served_to_staff_with_a_safe_name_and_the_read_audited(
        client, login, users, case, session, tenant, in_tenant):
    login(client, users["secretary"])
    upload(client, case, JPEG, "../../etc/passwd.jpg")
    [row] = stored_rows(session, tenant, in_tenant)
    r = client.get(url(case, f"/files/{row.id}"))
    assert r.status_code == 200 and r.data == JPEG
    assert r.mimetype == "image/jpeg" and r.headers["X-Content-Type-Options"] == "nosniff"
    assert "passwd" not in r.headers["Content-Disposition"]
    assert row.filename == "passwd.jpg"
    with in_tenant(tenant):
        assert session.scalar(select(AuditEvent).where(
            AuditEvent.action == "documents.file_read")) is not None


def test_lender_sees_documents_only_once_the_case_is_submitted(
        client, login, users, case, session, tenant, in_tenant):
    login(client, users["secretary"])
    upload(client, case, PDF)
    [row] = stored_rows(session, tenant, in_tenant)
    login(client, users["lender_agent"])
    assert client.get(url(case, f"/files/{row.id}")).status_code == 404
    with in_tenant(tenant):
        c = session.get(type(case), (tenant.id, case.id))
        cases.add_interview(session, c, users["social_worker"], "2026-11-02", 50, "ok", "")
        cases.save_budget(session, c, users["social_worker"], {"salary": "1300",
                                                                "rent": "500"})
        for target in (State.evaluation, State.instruction, State.submitted_to_lender):
            workflow.apply_transition(session, c, TransitionRequest(target, c.version),
                                      users["manager"])
        session.commit()
    r = client.get(url(case, f"/files/{row.id}"))
    assert r.status_code == 200 and r.data == PDF
    html = client.get(f"/t/alpha/cases/{case.id}").get_data(as_text=True)
    assert "Pièces déposées" in html and "Déposer la pièce" not in html


@pytest.mark.parametrize("role", ["referrer", "funder"])
def test_roles_that_do_not_read_cases_never_get_a_document(
        client, login, users, case, session, tenant, in_tenant, role):
    login(client, users["secretary"])
    upload(client, case, PDF)
    [row] = stored_rows(session, tenant, in_tenant)
    login(client, users[role])
    assert client.get(url(case, f"/files/{row.id}")).status_code in (403, 404)


def test_another_tenants_document_url_is_404(client, login, users, case, session, tenant,
                                             in_tenant, other_tenant, make_user):
    login(client, users["secretary"])
    upload(client, case, PDF)
    [row] = stored_rows(session, tenant, in_tenant)
    stranger = make_user(other_tenant, "secretary")
    login(client, stranger)
    assert client.get(f"/t/beta/cases/{case.id}/documents/files/{row.id}").status_code == 404
    # the same document under another case of the right tenant: 404 too
    with in_tenant(tenant):
        person = cases.create_person(session, cases.PersonData("Paul", "Autre"))
        other = cases.open_case(session, person, "health", "300", tenant=tenant)
        session.commit()
    login(client, users["secretary"])
    assert client.get(url(other, f"/files/{row.id}")).status_code == 404


def test_removing_a_document_deletes_its_file_after_commit(
        client, login, users, case, session, tenant, in_tenant, app):
    login(client, users["secretary"])
    upload(client, case, PDF)
    [row] = stored_rows(session, tenant, in_tenant)
    assert client.post(url(case, f"/files/{row.id}/delete")).status_code == 302
    assert stored_rows(session, tenant, in_tenant) == [] and files_on_disk(app) == []


def test_erasure_leaves_no_file_on_disk(client, login, users, case, session, tenant,
                                        in_tenant, app):
    login(client, users["secretary"])
    upload(client, case, PDF)
    upload(client, case, PNG, kind="resources")
    assert len(files_on_disk(app)) == 2
    with in_tenant(tenant):
        person = session.get(type(case.person), (tenant.id, case.person_id))
        result = purge.anonymise_person(session, person, reason="erasure")
        session.commit()
    assert result.rows["stored_documents"] == 2
    assert stored_rows(session, tenant, in_tenant) == [] and files_on_disk(app) == []


def test_retention_purge_leaves_no_file_on_disk(client, login, users, case, session, tenant,
                                                in_tenant, app, clock):
    login(client, users["secretary"])
    upload(client, case, PDF)
    clock.travel_to("2029-06-01T10:00")
    with in_tenant(tenant):
        purge.purge(session, session.get(Tenant, tenant.id))
        session.commit()
    assert stored_rows(session, tenant, in_tenant) == [] and files_on_disk(app) == []


def test_subject_access_zip_carries_the_files_with_their_checksums(
        client, login, users, case, session, tenant, in_tenant):
    login(client, users["secretary"])
    upload(client, case, PDF)
    login(client, users["manager"])
    r = client.get(f"/t/alpha/admin/privacy/persons/{case.person_id}/export.zip")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(r.data))
    names = archive.namelist()
    assert "donnees.json" in names and "donnees.pdf" in names
    [piece] = [n for n in names if n.startswith("pieces/") and n.endswith(".pdf")]
    assert archive.read(piece) == PDF
    assert piece in archive.read("pieces/sommes.sha256").decode()
    data = json.loads(archive.read("donnees.json"))
    assert data["tables"]["stored_documents"]["rows"][0]["kind"] == "identity"
    with in_tenant(tenant):
        person = session.get(type(case.person), (tenant.id, case.person_id))
        assert len(export.stored_files(session, export.subject_data(session, person))) == 1


def test_tenant_archive_carries_the_files_and_import_writes_them_back(
        client, login, users, case, session, tenant, in_tenant, ccas, tmp_path, app):
    login(client, users["secretary"])
    upload(client, case, PDF)
    [row] = stored_rows(session, tenant, in_tenant)
    target = tmp_path / "alpha.zip"
    out = ccas("tenant", "export", "alpha", "--output", str(target))
    assert out.exit_code == 0, out.output
    with zipfile.ZipFile(target) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        entry = manifest["files"][row.storage_key]
        assert entry["sha256"] == row.sha256 and archive.read(entry["member"]) == PDF
    result = ccas("tenant", "import", str(target), "--slug", "gamma", "--new-ids")
    assert result.exit_code == 0, result.output
    session.expire_all()
    gamma = session.scalar(select(Tenant).where(Tenant.slug == "gamma"))
    assert storage.storage(app).read(gamma.id, row.storage_key) == PDF


def test_a_tampered_file_in_the_archive_is_refused(client, login, users, case, session,
                                                   tenant, in_tenant, ccas, tmp_path):
    login(client, users["secretary"])
    upload(client, case, PDF)
    target = tmp_path / "alpha.zip"
    ccas("tenant", "export", "alpha", "--output", str(target))
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(target) as src, zipfile.ZipFile(tampered, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, data.replace(b"%%EOF", b"%%EOX")
                         if item.filename.startswith("files/") else data)
    result = ccas("tenant", "import", str(tampered), "--slug", "delta", "--new-ids")
    assert result.exit_code != 0 and "somme de contrôle du fichier" in result.output


def test_deleting_a_tenant_removes_its_files(client, login, users, case, session, tenant,
                                            in_tenant, ccas, app):
    login(client, users["secretary"])
    upload(client, case, PDF)
    assert len(files_on_disk(app)) == 1
    result = ccas("tenant", "delete", "alpha", "--yes")
    assert result.exit_code == 0, result.output
    assert files_on_disk(app) == []


def test_backup_keeps_the_files_with_checksums_and_restore_puts_them_back(tmp_path):
    from core import backup

    files = tmp_path / "files"
    store = storage.DirectoryStorage(files)
    key = storage.new_key()
    store.put(7, key, PDF)
    target = tmp_path / "b.zip"
    assert backup.save_files(files, target) == 1
    with zipfile.ZipFile(target) as archive:
        assert f"{storage.checksum(PDF)}  7/{key}" in archive.read("SHA256SUMS").decode()
    store.delete(7, key)
    store.put(7, storage.new_key(), PNG)  # written after the backup: gone after restore
    assert backup.restore_files(target, files) == 1
    assert store.read(7, key) == PDF and list(store.keys(7)) == [key]
