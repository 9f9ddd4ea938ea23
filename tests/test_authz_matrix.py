"""The authorization matrix: every endpoint of the URL map (and every operation of the
OpenAPI document) × every role × every scope, against the declared policy
(``core.policy.policy_of``). See docs/authorization.md for the rules and the figures.

Scopes:
* ``own``: the user's tenant, objects of that tenant (referrals: of the referrer's own
  organisation);
* ``other_tenant``: the user's tenant URL (or token) with the other tenant's object ids
  → 404, never 403, never 200;
* ``other_org``: a referral of another partner organisation of the same tenant → 404 for a
  referrer, visible to the CCAS staff;
* ``foreign_slug``: the other tenant's URL with one's own session → signed out there
  (redirect to that tenant's sign-in page);
* ``plugin_off``: a plugin's pages in a tenant that has not enabled it → 404 for everyone.

Expected statuses: allowed and in scope → 2xx/3xx for a GET; for a POST (PUT, PATCH,
DELETE), sent with a valid body (tests/authz_bodies.py), the endpoint's success status and
the change made; role not allowed → 403; anonymous or platform operator on tenant pages →
redirect to the tenant's sign-in page (API: 401). A refused POST writes nothing (every
table's rows and the import folder are compared before and after). Every response,
PDF and XLSX included, is also scanned for data it must not hold (another tenant's people
and notes; private notes for roles that may not read them; case notes for referrers;
people's names for funders).

The world (tests/authz_world.py) is built once for the module; GET checks run first, then
each mutating check meets the same world: what a check changed is put back afterwards
(``WorldState``).
"""

from __future__ import annotations

import io
import re
import tempfile
import uuid
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

import pypdf
import pytest

from core.policy import policy_of
from core.testing.pytest_plugin import (
    TEST_PASSWORD,
    IsolatedClient,
    _in_tenant,
    _password_hash,
)

from .authz_bodies import BODIES, Ctx, hidden_fields

ROLES = ("manager", "secretary", "social_worker", "lender_agent", "referrer", "funder",
         "anonymous", "operator")
TENANT_ROLES = ROLES[:6]
PRIVATE_NOTE_ROLES = {"manager", "social_worker"}
EXEMPT = {"static"}
#: URL variables that name no tenant object (same sample in every scope)
NOT_OBJECTS = {"tenant", "year", "fmt_name", "name", "slug", "rider_version", "statement",
               "statement_format"}
#: endpoint-specific samples, when a variable's name means something else there
#: ("@key": the world's sample ``key`` in the check's scope; otherwise a literal)
ENDPOINT_SAMPLES = {
    "account.password_reset": {"token": "jeton-inconnu"},  # POST: a fresh link (bodies)
    # the FICP result is recorded for a case waiting for the check (404 otherwise)
    "credit_municipal.ficp_record": {"case_id": "@ficp_case_id"},
    # mutating endpoints: an object in the state their form acts on
    "referrals.accept": {"referral_id": "@pending_referral_id"},
    "referrals.decline": {"referral_id": "@pending_referral_id"},
    "api.decide_referral": {"referral_id": "@pending_referral_id"},
    "accompaniment.record": {"case_id": "@loan_case_id"},
    "accompaniment.report_change": {"case_id": "@loan_case_id"},
    "cases.budget": {"case_id": "@evaluation_case_id"},
    "cases.interview_new": {"case_id": "@evaluation_case_id"},
    "documents.create": {"case_id": "@documents_case_id"},
    "documents.mark": {"case_id": "@evaluation_case_id"},
    "documents.add": {"case_id": "@evaluation_case_id"},
    "suggestions.refresh": {"case_id": "@evaluation_case_id"},
    "suggestions.resolve": {"case_id": "@evaluation_case_id",
                            "suggestion_id": "@eval_suggestion_id"},
    "suggestions.override": {"case_id": "@evaluation_case_id",
                             "suggestion_id": "@eval_suggestion_id"},
    "appointments.outcome": {"appointment_id": "@held_appointment_id"},
    "workshops.cancel": {"invitation_id": "@registered_invitation_id"},
    "workshops.attendance": {"session_id": "@past_session_id",
                             "invitation_id": "@past_invitation_id"},
    "workshops.evaluate": {"session_id": "@past_session_id",
                           "invitation_id": "@attended_invitation_id"},
    "credit_municipal.loan_sign": {"loan_id": "@granted_loan_id"},
    "credit_municipal.loan_withdraw": {"loan_id": "@signed_loan_id"},
    "credit_municipal.loan_disburse": {"loan_id": "@ready_loan_id"},
    "credit_municipal.loan_rider_pdf": {"loan_id": "@rescheduled_loan_id"},
    "credit_municipal.loan_write_off": {"loan_id": "@defaulted_loan_id"},
    "credit_municipal.loan_recovery": {"loan_id": "@written_off_loan_id"},
    # the applicant's file: stored documents, household, a referral the partner follows up
    "documents.attach": {"case_id": "@evaluation_case_id"},
    "documents.remove_file": {"case_id": "@evaluation_case_id", "file_id": "@eval_file_id"},
    "household.add": {"case_id": "@evaluation_case_id"},
    "household.remove": {"case_id": "@evaluation_case_id"},
    "household.edit": {"case_id": "@evaluation_case_id"},
    "household.co_borrower": {"case_id": "@evaluation_case_id"},
    "referrals.start": {"referral_id": "@followed_referral_id"},
    "referrals.outcome": {"referral_id": "@followed_referral_id"},
    "api.follow_up_referral": {"referral_id": "@followed_referral_id"},
    # the applicant's file through the API: the case in evaluation, its file and member
    "api.attach_document": {"case_id": "@evaluation_case_id"},
    "api.remove_document": {"case_id": "@evaluation_case_id", "file_id": "@eval_file_id"},
    "api.add_household_member": {"case_id": "@evaluation_case_id"},
    "api.update_household_member": {"case_id": "@evaluation_case_id"},
    "api.remove_household_member": {"case_id": "@evaluation_case_id"},
    "api.set_co_borrower": {"case_id": "@evaluation_case_id"},
    # a person known only through a referral without case (the waiting one)
    **{f"privacy.referral_{name}": {"referral_id": "@pending_referral_id"}
       for name in ("page", "export_json", "export_pdf", "rectify", "erase")},
}
#: object-level rules beyond the role list, as (endpoint, role, scope) -> expectation
OBJECT_RULES = {
    # only the receiving organisation answers a referral: its sender gets 404
    ("referrals.accept", "referrer", "own"): "404",
    ("referrals.decline", "referrer", "own"): "404",
    ("api.decide_referral", "referrer", "own"): "404",
    # only the receiving partner follows a referral up: the CCAS that sent it gets 404
    **{(endpoint, role, scope): "404"
       for endpoint in ("referrals.start", "referrals.outcome", "api.follow_up_referral")
       for role in ("manager", "secretary", "social_worker")
       for scope in ("own", "other_org")},
}
OWN, OTHER_TENANT, OTHER_ORG, FOREIGN_SLUG, PLUGIN_OFF = (
    "own", "other_tenant", "other_org", "foreign_slug", "plugin_off")
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Endpoint:
    endpoint: str
    rule: str
    method: str
    policy: object  # frozenset of roles, "public", "operator", or None
    arguments: tuple
    plugin: bool

    @property
    def api(self) -> bool:
        return self.rule.startswith("/api/")

    @property
    def tenant_page(self) -> bool:
        return self.rule.startswith("/t/<tenant>")

    @property
    def mutating(self) -> bool:
        return self.method in MUTATING


@dataclass(frozen=True)
class Check:
    ep: Endpoint
    role: str
    scope: str

    @property
    def id(self) -> str:
        return f"{self.ep.endpoint}[{self.ep.method}]-{self.role}-{self.scope}"


# -- the catalogue: URL map and OpenAPI document, read at collection time ---------------------

_CATALOGUE: dict = {}


def catalogue() -> dict:
    if _CATALOGUE:
        return _CATALOGUE
    from core.api import openapi
    from core.app import create_app

    with tempfile.TemporaryDirectory(prefix="ccas-authz-") as tmp:
        app = create_app({"CCAS_ENV": "test", "SECRET_KEY": "x",
                          "CCAS_DATABASE_URL": f"sqlite:///{tmp}/catalogue.sqlite3"})
        owners = app.extensions.get("ccas_plugin_blueprints", {})
        endpoints = []
        for rule in app.url_map.iter_rules():
            if rule.endpoint in EXEMPT:
                continue
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                endpoints.append(Endpoint(
                    endpoint=rule.endpoint, rule=rule.rule, method=method,
                    policy=policy_of(app.view_functions[rule.endpoint]),
                    arguments=tuple(sorted(rule.arguments)),
                    plugin=rule.endpoint.split(".")[0] in owners))
        with app.app_context():
            document = openapi.document()
    operations = {(path, method.upper()) for path, item in document["paths"].items()
                  for method in item if method in ("get", "post", "put", "patch", "delete")}
    api_rules = {(re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", ep.rule), ep.method)
                 for ep in endpoints if ep.api and ep.policy != "public"}
    _CATALOGUE.update(endpoints=sorted(endpoints, key=lambda e: (e.rule, e.method)),
                      operations=operations, api_rules=api_rules)
    return _CATALOGUE


def scopes_of(ep: Endpoint) -> list[str]:
    if ep.policy in ("public", "operator") or ep.policy is None:
        return [OWN]
    objects = set(ep.arguments) - NOT_OBJECTS
    scopes = [OWN]
    if objects:
        scopes.append(OTHER_TENANT)
    if "referral_id" in objects:
        scopes.append(OTHER_ORG)
    if ep.tenant_page:
        scopes.append(PLUGIN_OFF if ep.plugin else FOREIGN_SLUG)
    return scopes


def all_checks() -> list[Check]:
    checks = [Check(ep, role, scope) for ep in catalogue()["endpoints"]
              for scope in scopes_of(ep) for role in ROLES]
    # reads first, then the writes (each one meets the world as it was, see WorldState)
    return sorted(checks, key=lambda c: c.ep.mutating)


CHECKS = all_checks()
#: (expectation, status) -> count, filled by the matrix, printed by test_figures
OUTCOMES: Counter = Counter()


def expectation(check: Check) -> str:
    ep, role, scope = check.ep, check.role, check.scope
    policy = ep.policy
    done = "success" if ep.mutating else "ok"
    if policy == "public":
        return "success" if ep.mutating else "public"
    if policy == "operator":
        return done if role == "operator" else "operator_login"
    if scope == PLUGIN_OFF:
        return "404"
    if role in ("anonymous", "operator") or scope == FOREIGN_SLUG:
        return "401" if ep.api else "login"
    if role not in policy:
        return "403"
    if (ep.endpoint, role, scope) in OBJECT_RULES:
        return OBJECT_RULES[(ep.endpoint, role, scope)]
    if scope == OTHER_TENANT or (scope == OTHER_ORG and role == "referrer"):
        return "404"
    return done


def _is_login(response, slug: str | None) -> bool:
    location = response.headers.get("Location", "")
    path = location.split("?")[0]
    if slug is None:
        return path.endswith("/operator/login")
    return path.endswith(f"/t/{slug}/login")


def verdict(expected: str, response, slug: str, body=None) -> bool:
    status = response.status_code
    if expected == "public":
        return status < 500 and status != 403
    if expected == "ok":
        return 200 <= status < 300 or (300 <= status < 400 and not _is_login(response, slug))
    if expected == "success":
        if status not in body.success:
            return False
        if 300 <= status < 400:
            path = urlsplit(response.headers.get("Location", "")).path
            if body.location is not None:
                return path == body.location.format(slug=slug)
            return not (_is_login(response, slug) or _is_login(response, None))
        return True
    if expected == "login":
        return status == 302 and _is_login(response, slug)
    if expected == "operator_login":
        return status == 403 or (status == 302 and _is_login(response, None))
    return status == int(expected)


# -- the world, once per module ---------------------------------------------------------------


@pytest.fixture(scope="module")
def world_app(ccas_database, tmp_path_factory):
    from core.app import create_app

    ccas_database.empty()
    import_dir = tmp_path_factory.mktemp("imports")
    application = create_app(ccas_database.app_config(
        SECRET_KEY="test-secret", WTF_CSRF_ENABLED=False, CCAS_BASE_URL="http://localhost",
        CCAS_IMPORT_DIR=str(import_dir), CCAS_FILES_DIR=str(tmp_path_factory.mktemp("files"))))
    application.test_client_class = IsolatedClient
    application.config["AUTHZ_IMPORT_DIR"] = import_dir
    ctx = application.app_context()
    ctx.push()
    try:
        yield application
    finally:
        ctx.pop()
        ccas_database.empty()


@pytest.fixture(scope="module")
def world(world_app):
    from core import accounts
    from core.db import db

    from .authz_world import build_world

    built = build_world(db.session, _in_tenant, _password_hash(),
                        world_app.config["AUTHZ_IMPORT_DIR"])
    accounts.create_operator(db.session, "operator@platform.test", TEST_PASSWORD)
    db.session.commit()
    return built


@pytest.fixture(scope="module")
def clients(world_app, world):
    """``(slug, role) -> client`` signed in (anonymous: none), and ``(slug, role, "api")
    -> bearer token``."""
    from core import accounts
    from core.db import db

    out = {}
    for slug, tw in world.items():
        for role in TENANT_ROLES:
            client = world_app.test_client()
            with _in_tenant(tw.tenant):
                email = tw.users[role].email
                _row, token = accounts.create_token(db.session, email, "authz")
                db.session.commit()
            response = client.post(f"/t/{slug}/login",
                                   data={"email": email, "password": TEST_PASSWORD})
            assert response.status_code == 302, (slug, role, response.status_code)
            out[(slug, role)] = client
            out[(slug, role, "api")] = token
        out[(slug, "anonymous")] = world_app.test_client()
        operator = world_app.test_client()
        response = operator.post("/operator/login", data={
            "email": "operator@platform.test", "password": TEST_PASSWORD})
        assert response.status_code == 302, response.status_code
        out[(slug, "operator")] = operator
    return out


@pytest.fixture(scope="module")
def world_state(world_app, world, clients, ccas_database, tmp_path_factory):
    from .authz_world import WorldState

    state = WorldState(ccas_database, world_app.config["AUTHZ_IMPORT_DIR"],
                       tmp_path_factory.mktemp("world-copy"))
    yield state
    state.close()


def sample(ep: Endpoint, name: str, scope: str, world: dict):
    own, other = world["alpha"], world["beta"]
    override = ENDPOINT_SAMPLES.get(ep.endpoint, {}).get(name)
    if override is not None and not override.startswith("@"):
        return override
    if override is not None:
        name = override[1:]
    if name == "tenant":
        return other.slug if scope in (FOREIGN_SLUG, PLUGIN_OFF) else own.slug
    source = other if scope in (OTHER_TENANT, FOREIGN_SLUG, PLUGIN_OFF) else own
    if scope == OTHER_ORG and name in own.other_org_ids:
        return own.other_org_ids[name]
    return source.ids.get(name)


def url_values(ep: Endpoint, scope: str, world: dict) -> dict:
    values = {name: sample(ep, name, scope, world) for name in ep.arguments}
    missing = sorted(name for name, value in values.items() if value is None)
    if missing:
        pytest.fail(f"{ep.endpoint} ({ep.rule}): no sample for URL variable(s) {missing}: "
                    "add one to tests/authz_world.py")
    return values


def fill(rule: str, values: dict) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(values[m.group(1)]), rule)


def build_url(ep: Endpoint, scope: str, world: dict) -> str:
    return fill(ep.rule, url_values(ep, scope, world))


def forbidden_markers(role: str, slug: str, world: dict) -> dict[str, str]:
    """What ``role`` of tenant ``slug`` must never receive, with the reason."""
    own = world[slug].markers
    out = {}
    for other_slug, tw in world.items():
        if other_slug != slug:
            out.update({value: f"another tenant's data ({kind})"
                        for kind, value in tw.markers.items()})
    if role not in PRIVATE_NOTE_ROLES:
        out[own["private_note"]] = "a private interview note"
        out[own["followup_private"]] = "a private follow-up note"
    if role == "lender_agent":
        out[own["eval_note"]] = "the evaluation of a file not yet submitted to the lender"
    if role == "referrer":
        for kind in ("shared_note", "private_note", "followup_shared", "followup_private",
                     "eval_note"):
            out[own[kind]] = f"a case note ({kind})"
        out[own["other_org_person"]] = "another organisation's referral"
    if role == "funder":
        out[own["person"]] = "a person's name (funders get aggregates only)"
    return out


def read(check: Check, url: str, clients: dict):
    """A GET check, with the role's own client (or bearer token)."""
    slug = "beta" if check.scope == PLUGIN_OFF else "alpha"
    client = clients[(slug, check.role)]
    if check.ep.api:
        token = clients.get((slug, check.role, "api"))
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return client.get(url, headers=headers)
    return client.get(url)


def disposable(client):
    """A new client carrying ``client``'s session: what a write does to the session (a
    sign-out, one-time form tokens, flashed messages) stays out of the role's client."""
    from flask import current_app

    from core.web import sessions

    copy = current_app.test_client()
    session_cookie = current_app.config["SESSION_COOKIE_NAME"]
    for name in (session_cookie,
                 current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")):
        cookie = client.get_cookie(name)
        if cookie is not None:
            # a server-side session: the copy gets its own (same content, new id)
            value = (sessions.clone(current_app, cookie.value) if name == session_cookie
                     else cookie.value)
            if value is not None:
                copy.set_cookie(name, value, domain=cookie.domain, path=cookie.path)
    return copy


def page_url(name: str, ep: Endpoint, url: str, values: dict) -> str:
    """The page showing the form of ``ep`` (``self``: the endpoint's own GET)."""
    if name == "self":
        return url
    rules = [e.rule for e in catalogue()["endpoints"] if e.endpoint == name and e.method == "GET"]
    assert rules, f"{ep.endpoint}: unknown form page {name}"
    return fill(rules[0], values)


def context(check: Check, world: dict, clients: dict) -> Ctx:
    """What the body factory of a mutating check works with; its client is a copy of the
    role's (the tenant's for ``plugin_off``), the URL names the other tenant's objects in
    the ``other_tenant``, ``foreign_slug`` and ``plugin_off`` scopes."""
    scope = check.scope
    client_slug = "beta" if scope == PLUGIN_OFF else "alpha"
    return Ctx(world=world, role=check.role, values=url_values(check.ep, scope, world),
               own_slug=client_slug,
               url_slug="beta" if scope in (OTHER_TENANT, FOREIGN_SLUG, PLUGIN_OFF) else "alpha",
               client=disposable(clients[(client_slug, check.role)]))


def write(check: Check, ctx: Ctx, clients: dict, state) -> tuple:
    """A mutating check: the endpoint's valid body (tests/authz_bodies.py), sent with a copy
    of the role's session (or its token). Returns ``(response, url, before, after)`` where
    ``before``/``after`` are the world's fingerprints around the request."""
    ep, role = check.ep, check.role
    body = BODIES[ep.endpoint]
    before = state.ensure()
    client, values = ctx.client, ctx.values
    prepared = body.prepare is not None
    if prepared:
        values.update(body.prepare(ctx) or {})
    url = fill(ep.rule, values)
    data = body.make(ctx)
    if body.page and not ep.api and expectation(check) == "success":
        form_page = page_url(body.page, ep, url, values)
        page = client.get(form_page)
        if page.status_code == 200:
            data = {**hidden_fields(page.get_data(as_text=True), form_page, url), **data}
        prepared = True
    if prepared:
        before = state.fingerprint()
    if ep.api:
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        token = clients.get((ctx.own_slug, role, "api"))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if body.multipart:
            response = client.open(url, method=ep.method, data=data, headers=headers,
                                   content_type="multipart/form-data")
        else:
            response = client.open(url, method=ep.method, json=data, headers=headers)
    else:
        response = client.open(url, method=ep.method, data=data)
    return response, url, before, state.fingerprint()


# -- the matrix -------------------------------------------------------------------------------


def test_every_endpoint_declares_its_policy():
    missing = [ep.endpoint for ep in catalogue()["endpoints"] if ep.policy is None]
    assert missing == [], f"endpoints without a policy entry: {missing}"


def test_the_openapi_document_and_the_url_map_list_the_same_api_operations():
    cat = catalogue()
    assert cat["operations"] == cat["api_rules"], (
        f"in OpenAPI only: {sorted(cat['operations'] - cat['api_rules'])}; "
        f"in the URL map only: {sorted(cat['api_rules'] - cat['operations'])}")


@pytest.mark.parametrize("check", CHECKS, ids=[c.id for c in CHECKS])
def test_authorization_matrix(check, world, clients, world_state):
    ep = check.ep
    if ep.policy is None:
        pytest.fail(f"{ep.endpoint} ({ep.rule}) has no policy entry")
    if ep.mutating and ep.endpoint not in BODIES:
        pytest.fail(f"{ep.method} {ep.endpoint} ({ep.rule}) has no valid body: add one to "
                    "BODIES in tests/authz_bodies.py")
    slug = "beta" if check.scope in (FOREIGN_SLUG, PLUGIN_OFF) else "alpha"
    expected = expectation(check)
    body = BODIES.get(ep.endpoint) if ep.mutating else None
    ctx = context(check, world, clients) if ep.mutating else None
    try:
        if ep.mutating:
            response, url, before, after = write(check, ctx, clients, world_state)
        else:
            url = build_url(ep, check.scope, world)
            response = read(check, url, clients)
        OUTCOMES[(expected, response.status_code)] += 1
        where = f"{ep.method} {url} as {check.role} ({check.scope})"
        assert verdict(expected, response, slug, body), (
            f"{where}: expected {expected}, got {response.status_code} "
            f"{response.headers.get('Location', '')} {_text(response)[:300]!r}")
        if ep.mutating:
            changed = sorted(name for name in after if after[name] != before[name])
            if expected == "success":
                if body.writes:
                    assert changed, f"{where}: answered {response.status_code}, wrote nothing"
                if body.then is not None:
                    problem = body.then(ctx)
                    assert problem is None, f"{where}: {problem}"
            else:
                assert changed == [], (
                    f"{where}: refused ({response.status_code}) but wrote {changed}")
        if check.role in TENANT_ROLES:
            home = "beta" if check.scope == PLUGIN_OFF else "alpha"
            leaks = leaks_in(response, forbidden_markers(check.role, home, world))
            assert leaks == [], f"{where} shows {leaks}"
    finally:
        if ctx is not None:
            for undo in ctx.cleanups:
                undo()
            world_state.restore()


def test_every_mutating_endpoint_has_a_valid_body():
    endpoints = catalogue()["endpoints"]
    mutating = {ep.endpoint for ep in endpoints if ep.mutating}
    assert sorted(mutating - set(BODIES)) == [], "mutating endpoints without a valid body"
    assert sorted(set(BODIES) - mutating) == [], "bodies for endpoints that no longer exist"


def test_the_loan_pages_and_the_loan_api_admit_the_same_roles():
    """One policy for loan data (docs/authorization.md): the API is no wider than the
    lender's loan page."""
    policies = {ep.endpoint: ep.policy for ep in catalogue()["endpoints"]}
    page = policies["credit_municipal.loan_detail"]
    for endpoint in ("api.loan_get", "api.loan_schedule", "credit_municipal_api.loan",
                     "credit_municipal_api.loan_schedule"):
        assert policies[endpoint] == page, endpoint
    assert "secretary" not in page


# -- data minimisation, made explicit (the matrix scans every answer as well) -------------------


def _text(response) -> str:
    """The text of an answer: HTML, JSON, CSV, ICS as they are; the text of a PDF (pypdf)
    and the cells of an XLSX workbook (openpyxl); nothing for other binary answers. A PDF
    that cannot be parsed (a referral attachment is the file a partner uploaded) is read
    as raw bytes."""
    data = response.get_data()
    mimetype = response.mimetype
    if mimetype == "application/pdf":
        try:
            reader = pypdf.PdfReader(io.BytesIO(data))
            return "\n".join(page.extract_text() or "" for page in reader.pages)
        except pypdf.errors.PdfReadError:
            return data.decode("latin-1")
    if mimetype == XLSX:
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        return "\n".join(str(value) for sheet in book.worksheets
                         for row in sheet.iter_rows(values_only=True)
                         for value in row if value is not None)
    if mimetype.startswith("text/") or mimetype in ("application/json",
                                                    "application/problem+json"):
        return response.get_data(as_text=True)
    return ""


def leaks_in(response, forbidden: dict[str, str]) -> list[str]:
    """The forbidden markers in ``response`` (whitespace ignored: a PDF may wrap a word)."""
    text = _text(response)
    compact = re.sub(r"\s+", "", text)
    return [f"{reason} ({marker})" for marker, reason in forbidden.items()
            if marker in text or marker in compact]


def test_the_lender_reads_the_instructed_file_but_not_the_private_notes(world, clients):
    alpha = world["alpha"]
    case_id = alpha.ids["case_id"]
    page = clients[("alpha", "lender_agent")].get(f"/t/alpha/cases/{case_id}")
    token = clients[("alpha", "lender_agent", "api")]
    api = clients[("alpha", "anonymous")].get(f"/api/v1/cases/{case_id}",
                                              headers={"Authorization": f"Bearer {token}"})
    for response in (page, api):
        assert response.status_code == 200
        assert alpha.markers["shared_note"] in _text(response)
        assert alpha.markers["private_note"] not in _text(response)
        assert alpha.markers["person"] in _text(response)
    social_worker = clients[("alpha", "social_worker")].get(f"/t/alpha/cases/{case_id}")
    assert alpha.markers["private_note"] in _text(social_worker)


def test_the_lender_does_not_know_a_case_never_sent_to_the_ficp_check(world, clients):
    alpha = world["alpha"]
    case_id = alpha.case_ids["intake"]
    assert clients[("alpha", "lender_agent")].get(
        f"/t/alpha/cases/{case_id}").status_code == 404
    assert clients[("alpha", "secretary")].get(f"/t/alpha/cases/{case_id}").status_code == 200
    token = clients[("alpha", "lender_agent", "api")]
    listed = clients[("alpha", "anonymous")].get(
        "/api/v1/cases?per_page=100", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert case_id not in {item["id"] for item in listed["items"]}
    assert alpha.case_ids["ficp"] in {item["id"] for item in listed["items"]}


def case_readers():
    """Every GET endpoint taking a case id, with the tenant roles its policy allows."""
    return [(ep, role) for ep in catalogue()["endpoints"]
            if ep.method == "GET" and "case_id" in ep.arguments
            and isinstance(ep.policy, frozenset) for role in sorted(ep.policy)]


@pytest.mark.parametrize("case_label", ["main", "intake", "loan", "ficp", "evaluation"])
def test_every_case_reading_endpoint_shows_each_role_only_what_it_may_read(
        case_label, world, clients):
    """The matrix reads one sample case; here every case reader reads every kind of case
    (states before and after the file reaches the lender, a loan with follow-ups)."""
    alpha = world["alpha"]
    case_id = alpha.case_ids[case_label]
    problems = []
    for ep, role in case_readers():
        url = fill(ep.rule, {**url_values(ep, OWN, world), "case_id": case_id})
        if ep.api:
            response = clients[("alpha", "anonymous")].get(url, headers={
                "Authorization": f"Bearer {clients[('alpha', role, 'api')]}"})
        else:
            response = clients[("alpha", role)].get(url)
        if response.status_code >= 500 or response.status_code in (401, 403):
            problems.append(f"{url} as {role}: {response.status_code}")
        if role == "lender_agent" and case_label == "intake" and response.status_code != 404:
            problems.append(f"{url} as {role}: {response.status_code}, expected 404")
        problems += [f"{url} as {role} shows {leak}" for leak in
                     leaks_in(response, forbidden_markers(role, "alpha", world))]
    assert problems == []


def test_a_referrer_sees_its_referral_without_the_case_notes(world, clients):
    alpha = world["alpha"]
    response = clients[("alpha", "referrer")].get(
        f"/t/alpha/orientations/{alpha.ids['referral_id']}")
    assert response.status_code == 200 and "Alice" in _text(response)
    for kind in ("shared_note", "private_note", "followup_shared", "followup_private"):
        assert alpha.markers[kind] not in _text(response)
    listing = _text(clients[("alpha", "referrer")].get("/t/alpha/orientations/"))
    assert "Alice" in listing and alpha.markers["other_org_person"] not in listing


def test_a_funder_gets_no_page_listing_people(world, clients):
    client = clients[("alpha", "funder")]
    marker = world["alpha"].markers["person"]
    readable = [ep for ep in catalogue()["endpoints"]
                if ep.method == "GET" and isinstance(ep.policy, frozenset)
                and "funder" in ep.policy and not ep.api]
    assert readable, "the funder reads no page at all?"
    for ep in readable:
        response = client.get(build_url(ep, OWN, world))
        assert response.status_code == 200, ep.endpoint
        assert marker not in _text(response), ep.endpoint


def test_a_disabled_plugin_s_pages_answer_404(world, clients):
    plugin_pages = [ep for ep in catalogue()["endpoints"] if ep.plugin]
    assert plugin_pages
    assert any(ep.api for ep in plugin_pages)  # the plugin's API routes too
    for ep in plugin_pages:
        if ep.method == "GET":
            headers = ({"Authorization": f"Bearer {clients[('beta', 'manager', 'api')]}"}
                       if ep.api else {})
            assert clients[("beta", "manager")].get(
                build_url(ep, PLUGIN_OFF, world), headers=headers).status_code == 404, \
                ep.endpoint


def test_the_leak_scan_reads_pdf_and_xlsx_answers(world, clients):
    """The scan is not blind to documents: a person's name is found in the text of the
    subject-access PDF, the report's title in the cells of the XLSX workbook."""
    alpha = world["alpha"]
    manager = clients[("alpha", "manager")]
    pdf = manager.get(f"/t/alpha/admin/privacy/persons/{alpha.ids['person_id']}/export.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert leaks_in(pdf, {alpha.markers["person"]: "a name"}) == [
        f"a name ({alpha.markers['person']})"]
    year = alpha.ids["year"]
    xlsx = manager.get(f"/t/alpha/bilans/{year}.xlsx")
    assert xlsx.status_code == 200 and xlsx.mimetype == XLSX
    assert f"Bilan {year} du microcrédit personnel" in _text(xlsx)


def test_every_report_format_is_scanned_for_people(world, clients):
    """The matrix downloads one format of the yearly report; here every format (PDF and
    XLSX included) is read by every role allowed to, and scanned like any answer."""
    from core.reports.export import FORMATS

    year = world["alpha"].ids["year"]
    [download] = [ep for ep in catalogue()["endpoints"] if ep.endpoint == "reports.download"]
    problems = []
    for fmt_name in FORMATS:
        for role in sorted(download.policy):
            response = clients[("alpha", role)].get(f"/t/alpha/bilans/{year}.{fmt_name}")
            if response.status_code != 200:
                problems.append(f"{fmt_name} as {role}: {response.status_code}")
            problems += [f"{fmt_name} as {role} shows {leak}" for leak in
                         leaks_in(response, forbidden_markers(role, "alpha", world))]
    assert problems == []


def test_figures():
    """The size of the matrix (recorded in docs/authorization.md)."""
    endpoints = catalogue()["endpoints"]
    scopes = {c.scope for c in CHECKS}
    mutating = [c for c in CHECKS if c.ep.mutating]
    figures = {
        "endpoints": len({(e.rule, e.endpoint) for e in endpoints}),
        "endpoint_methods": len(endpoints),
        "mutating_endpoint_methods": sum(1 for e in endpoints if e.mutating),
        "api_operations": len(catalogue()["operations"]),
        "roles": len(ROLES),
        "scopes": len(scopes),
        "checks": len(CHECKS),
        "by_scope": {s: sum(1 for c in CHECKS if c.scope == s) for s in sorted(scopes)},
        "mutating_checks": len(mutating),
        "expected": dict(sorted(Counter(
            (expectation(c), "write" if c.ep.mutating else "read") for c in CHECKS).items())),
    }
    print("authorization matrix:", figures)
    print("outcomes (expected, status):", dict(sorted(OUTCOMES.items())))
    assert figures["checks"] == sum(len(scopes_of(e)) for e in endpoints) * len(ROLES)
    assert all(c.ep.endpoint in BODIES for c in mutating)
