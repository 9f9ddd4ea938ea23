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

Expected statuses: allowed and in scope → 2xx/3xx (POST with an empty body: a 4xx
validation answer is fine, but never 401/403/404/5xx); role not allowed → 403; anonymous
or platform operator on tenant pages → redirect to the tenant's sign-in page (API: 401).
Every response is also scanned for data it must not hold (another tenant's people and
notes; private notes for roles that may not read them; case notes for referrers; people's
names for funders).

The world (tests/authz_world.py) is built once for the module; GET checks run before
POST checks so that no POST changes what a GET check reads.
"""

from __future__ import annotations

import re
import tempfile
import uuid
from collections import Counter
from dataclasses import dataclass

import pytest

from core.policy import policy_of
from core.testing.pytest_plugin import TEST_PASSWORD, IsolatedClient, _in_tenant, _password_hash

ROLES = ("manager", "secretary", "social_worker", "lender_agent", "referrer", "funder",
         "anonymous", "operator")
TENANT_ROLES = ROLES[:6]
PRIVATE_NOTE_ROLES = {"manager", "social_worker"}
EXEMPT = {"static"}
#: URL variables that name no tenant object (same sample in every scope)
NOT_OBJECTS = {"tenant", "year", "fmt_name", "name", "slug"}
#: endpoint-specific samples, when a variable's name means something else there
#: ("@key": the world's sample ``key`` in the check's scope; otherwise a literal)
ENDPOINT_SAMPLES = {
    "account.password_reset": {"token": "jeton-inconnu"},
    # the FICP result is recorded for a case waiting for the check (404 otherwise)
    "credit_municipal.ficp_record": {"case_id": "@ficp_case_id"},
}
#: object-level rules beyond the role list, as (endpoint, role, scope) -> expectation
OBJECT_RULES = {
    # only the receiving organisation answers a referral: its sender gets 404
    ("referrals.accept", "referrer", "own"): "404",
    ("referrals.decline", "referrer", "own"): "404",
    ("api.decide_referral", "referrer", "own"): "404",
}
OWN, OTHER_TENANT, OTHER_ORG, FOREIGN_SLUG, PLUGIN_OFF = (
    "own", "other_tenant", "other_org", "foreign_slug", "plugin_off")


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
            methods = rule.methods - {"HEAD", "OPTIONS"}
            method = "GET" if "GET" in methods else sorted(methods)[0]
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
    # reads first: a POST with an empty body may still change the shared world
    return sorted(checks, key=lambda c: c.ep.method != "GET")


CHECKS = all_checks()
#: (expectation, status) -> count, filled by the matrix, printed by test_figures
OUTCOMES: Counter = Counter()


def expectation(check: Check) -> str:
    ep, role, scope = check.ep, check.role, check.scope
    policy = ep.policy
    if policy == "public":
        return "public"
    if policy == "operator":
        return "ok" if role == "operator" else "operator_login"
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
    return "ok" if ep.method == "GET" else "accepted"


def _is_login(response, slug: str | None) -> bool:
    location = response.headers.get("Location", "")
    path = location.split("?")[0]
    if slug is None:
        return path.endswith("/operator/login")
    return path.endswith(f"/t/{slug}/login")


def verdict(expected: str, response, slug: str) -> bool:
    status = response.status_code
    if expected == "public":
        return status < 500 and status != 403
    if expected == "ok":
        return 200 <= status < 300 or (300 <= status < 400 and not _is_login(response, slug))
    if expected == "accepted":
        return status < 500 and status not in (401, 403, 404) and not (
            300 <= status < 400 and _is_login(response, slug))
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
    application = create_app({
        "CCAS_ENV": "test", "CCAS_DATABASE_URL": ccas_database.app_url,
        "CCAS_DATABASE_OWNER_URL": ccas_database.owner_url, "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False, "CCAS_LOG_LEVEL": "WARNING",
        "CCAS_BASE_URL": "http://localhost", "CCAS_IMPORT_DIR": str(import_dir),
    })
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


def build_url(ep: Endpoint, scope: str, world: dict) -> str:
    values = {name: sample(ep, name, scope, world) for name in ep.arguments}
    missing = sorted(name for name, value in values.items() if value is None)
    if missing:
        pytest.fail(f"{ep.endpoint} ({ep.rule}): no sample for URL variable(s) {missing}: "
                    "add one to tests/authz_world.py")

    def fill(match):
        return str(values[match.group(1)])

    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", fill, ep.rule)


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


def request(check: Check, url: str, clients: dict):
    ep, role = check.ep, check.role
    slug = "beta" if check.scope == PLUGIN_OFF else "alpha"
    if ep.policy == "public" and ep.method != "GET":
        from flask import current_app

        client = current_app.test_client()  # e.g. sign-out: keep the role's session
    else:
        client = clients[(slug, role)]
    if ep.api:
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        token = clients.get((slug, role, "api"))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if ep.method == "GET":
            return client.get(url, headers=headers)
        return client.open(url, method=ep.method, json={}, headers=headers)
    if ep.method == "GET":
        return client.get(url)
    return client.open(url, method=ep.method, data={})


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
def test_authorization_matrix(check, world, clients):
    if check.ep.policy is None:
        pytest.fail(f"{check.ep.endpoint} ({check.ep.rule}) has no policy entry")
    url = build_url(check.ep, check.scope, world)
    response = request(check, url, clients)
    slug = "beta" if check.scope in (FOREIGN_SLUG, PLUGIN_OFF) else "alpha"
    expected = expectation(check)
    OUTCOMES[(expected, response.status_code)] += 1
    assert verdict(expected, response, slug), (
        f"{check.ep.method} {url} as {check.role} ({check.scope}): expected {expected}, "
        f"got {response.status_code} {response.headers.get('Location', '')}")
    if check.role in TENANT_ROLES:
        body = response.get_data(as_text=True) if response.mimetype.startswith(
            ("text/", "application/json", "application/problem")) else ""
        home = "beta" if check.scope == PLUGIN_OFF else "alpha"
        leaks = [f"{reason} ({marker})" for marker, reason in
                 forbidden_markers(check.role, home, world).items() if marker in body]
        assert leaks == [], f"{check.ep.method} {url} as {check.role} shows {leaks}"


# -- data minimisation, made explicit (the matrix scans every answer as well) -------------------


def _text(response) -> str:
    return response.get_data(as_text=True)


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
        url = build_url(ep, OWN, world).replace(alpha.ids["case_id"], case_id)
        if ep.api:
            response = clients[("alpha", "anonymous")].get(url, headers={
                "Authorization": f"Bearer {clients[('alpha', role, 'api')]}"})
        else:
            response = clients[("alpha", role)].get(url)
        if response.status_code >= 500 or response.status_code in (401, 403):
            problems.append(f"{url} as {role}: {response.status_code}")
        if role == "lender_agent" and case_label == "intake" and response.status_code != 404:
            problems.append(f"{url} as {role}: {response.status_code}, expected 404")
        body = _text(response) if response.mimetype != "application/pdf" else ""
        problems += [f"{url} as {role} shows {reason}" for marker, reason in
                     forbidden_markers(role, "alpha", world).items() if marker in body]
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
    for ep in plugin_pages:
        if ep.method == "GET":
            assert clients[("beta", "manager")].get(
                build_url(ep, PLUGIN_OFF, world)).status_code == 404, ep.endpoint


def test_figures():
    """The size of the matrix (recorded in docs/authorization.md)."""
    endpoints = catalogue()["endpoints"]
    scopes = {c.scope for c in CHECKS}
    figures = {
        "endpoints": len(endpoints),
        "api_operations": len(catalogue()["operations"]),
        "roles": len(ROLES),
        "scopes": len(scopes),
        "checks": len(CHECKS),
        "by_scope": {s: sum(1 for c in CHECKS if c.scope == s) for s in sorted(scopes)},
    }
    print("authorization matrix:", figures)
    print("outcomes (expected, status):", dict(sorted(OUTCOMES.items())))
    assert figures["checks"] == sum(len(scopes_of(e)) for e in endpoints) * len(ROLES)
