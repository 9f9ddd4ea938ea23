"""A real OpenID Connect provider for tests, built with Authlib's server components
(``AuthorizationServer``, ``AuthorizationCodeGrant`` with the ``OpenIDCode`` and PKCE
``CodeChallenge`` extensions) on a small Flask app, served by werkzeug on a free
loopback port in a thread, signing its ID tokens with its own RSA key (published as
JWKS). No network beyond 127.0.0.1.

The person "signed in" at the provider is :attr:`TestProvider.person` (the authorize
endpoint consents at once, as a provider with an open session does). Knobs make it
misbehave the way a broken or hostile provider would: another audience, an expired
token, a token issued for an earlier sign-in (replayed nonce)…

Times in its tokens come from the platform clock (``core.clock``), so a test that moves
the clock moves the provider's too.

    with TestProvider(redirect_uri="http://localhost/t/alpha/login/oidc/callback") as op:
        op.person = {"sub": "42", "email": "a@ville.fr", "email_verified": True}
        ... op.issuer, op.client_id, op.client_secret ...
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.core.models import AuthorizationCodeMixin
from flask import Flask, jsonify, redirect, request
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server

from .. import clock

_KEY: RSAKey | None = None


def new_key(kid: str) -> RSAKey:
    """A fresh RSA signing key (a rotation, or a forger's key)."""
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig"}, private=True)


def _signing_key() -> RSAKey:
    """One RSA key per test process (generating one costs a tenth of a second)."""
    global _KEY
    if _KEY is None:
        _KEY = new_key("test-provider-key")
    return _KEY


@dataclass
class _Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list[str]

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope):
        return scope

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        return secrets.compare_digest(self.client_secret, client_secret or "")

    def check_endpoint_auth_method(self, method, endpoint):
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


@dataclass
class _Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    person: dict
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = 0

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time


@dataclass
class TestProvider:
    """The provider; start it with ``with`` (or :meth:`start` / :meth:`stop`)."""

    __test__ = False  # not a pytest test class

    redirect_uri: str
    client_id: str = "ccas-network"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    person: dict = field(default_factory=lambda: {
        "sub": "agent-1", "email": "agent@ville.test", "email_verified": True})
    #: Knobs: the audience put in ID tokens (``None``: the client), their lifetime in
    #: seconds (negative: already expired), and an ID token to send instead of the fresh
    #: one (a token replayed from an earlier sign-in).
    audience: str | None = None
    expires_in: int = 300
    replay_id_token: str | None = None
    #: More knobs: the ``iss`` put in ID tokens (``None``: the issuer), and a key that
    #: signs them instead of the published one (a forgery under the published key's id).
    token_issuer: str | None = None
    forge_with: RSAKey | None = None
    #: Whether the discovery document announces an end-session endpoint.
    supports_logout: bool = True
    #: What the provider saw: ID tokens issued, authorization requests, logouts.
    issued_id_tokens: list[str] = field(default_factory=list)
    authorize_requests: list[dict] = field(default_factory=list)
    logouts: list[dict] = field(default_factory=list)

    def __post_init__(self):
        self.key = _signing_key()
        self.codes: dict[str, _Code] = {}
        self.used_nonces: set[str] = set()
        self.client = _Client(self.client_id, self.client_secret, [self.redirect_uri])
        self.app = self._build_app()
        self._server = None
        self._thread = None
        self.issuer = ""

    # -- serving ---------------------------------------------------------------------

    def start(self) -> TestProvider:
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}/op"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> TestProvider:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- the Authlib server ----------------------------------------------------------

    def _build_app(self) -> Flask:
        provider = self
        app = Flask("test_identity_provider")
        app.config["OAUTH2_ACCESS_TOKEN_GENERATOR"] = True

        class CodeGrant(AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

            def save_authorization_code(self, code, request):
                data = request.payload.data
                provider.used_nonces.add(data.get("nonce"))
                provider.codes[code] = _Code(
                    code=code, client_id=request.client.client_id,
                    redirect_uri=request.payload.redirect_uri, scope=request.scope,
                    person=dict(request.user), nonce=data.get("nonce"),
                    code_challenge=data.get("code_challenge"),
                    code_challenge_method=data.get("code_challenge_method"),
                    auth_time=int(clock.timestamp()),
                )

            def query_authorization_code(self, code, client):
                found = provider.codes.get(code)
                if found is not None and found.client_id == client.client_id:
                    return found
                return None

            def delete_authorization_code(self, authorization_code):
                provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code):
                return authorization_code.person

        class OpenID(OpenIDCode):
            def resolve_client_private_key(self, client):
                return provider.forge_with or provider.key

            def get_client_algorithm(self, client):
                return "RS256"

            def get_encode_header(self, client):
                return {"alg": "RS256", "kid": provider.key.kid}

            def get_client_claims(self, client):
                now = int(clock.timestamp())
                return {"iss": provider.token_issuer or provider.issuer,
                        "aud": [provider.audience or client.client_id], "iat": now,
                        "exp": now + provider.expires_in, "auth_time": now}

            def exists_nonce(self, nonce, request):
                return nonce in provider.used_nonces

            def generate_user_info(self, user, scope):
                return UserInfo(**user)

        server = AuthorizationServer(
            app, query_client=lambda cid: provider.client if cid == provider.client_id else None,
            save_token=lambda token, request: None,
        )
        server.register_grant(CodeGrant, [OpenID(require_nonce=True), CodeChallenge(required=True)])

        @app.get("/op/.well-known/openid-configuration")
        def discovery():
            base = provider.issuer
            document = {
                "issuer": base,
                "authorization_endpoint": base + "/authorize",
                "token_endpoint": base + "/token",
                "jwks_uri": base + "/jwks",
                "userinfo_endpoint": base + "/userinfo",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                          "client_secret_post"],
            }
            if provider.supports_logout:
                document["end_session_endpoint"] = base + "/logout"
            return jsonify(document)

        @app.get("/op/jwks")
        def jwks():
            return jsonify(KeySet([provider.key]).as_dict(private=False))

        @app.get("/op/authorize")
        def authorize():
            provider.authorize_requests.append(dict(request.args))
            grant = server.get_consent_grant(end_user=dict(provider.person))
            return server.create_authorization_response(grant=grant,
                                                        grant_user=dict(provider.person))

        @app.post("/op/token")
        def token():
            response = server.create_token_response()
            payload = response.get_json(silent=True) or {}
            if "id_token" in payload:
                provider.issued_id_tokens.append(payload["id_token"])
                if provider.replay_id_token:
                    payload["id_token"] = provider.replay_id_token
                    response.set_data(jsonify(payload).get_data())
            return response

        @app.get("/op/logout")
        def logout():
            provider.logouts.append(dict(request.args))
            target = request.args.get("post_logout_redirect_uri")
            return redirect(target) if target else ("Déconnecté", 200)

        return app
