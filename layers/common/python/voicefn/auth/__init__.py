"""Who is calling: Bearer JWTs (HS256/RS256) for users, service keys for server-to-server callers."""

from __future__ import annotations

from voicefn.auth.jwt import issue_token, local_jwt_secret, verify_token
from voicefn.auth.principal import Principal, authenticate, valid_user_id

__all__ = ["Principal", "authenticate", "valid_user_id", "verify_token", "issue_token", "local_jwt_secret"]
