"""POST /api/audio/uploads and GET /api/audio/uploads/{ticket_id} on the account function."""

from __future__ import annotations

import pytest

from tests.stack import Stack

MiB = 1024 * 1024
BODY = {"purpose": "asr", "filename": "talk.wav", "content_type": "audio/wav", "size": 1234}


def test_a_ticket_in_the_envelope_and_its_status(stack: Stack) -> None:
    with stack.client("uploader") as client:
        created = client.post("/api/audio/uploads", json=BODY)
        assert created.status_code == 200
        body = created.json()
        assert (body["code"], body["message"]) == (200, "success")
        ticket = body["data"]
        assert set(ticket) == {"ticket_id", "key", "post", "put_url", "put_headers", "expires_at"}
        assert ticket["key"] == f"uploads/asr/uploader/{ticket['ticket_id']}.wav"
        assert ticket["post"]["url"].startswith(stack.base_url + "/_objects/")
        assert ticket["post"]["fields"]["key"] == ticket["key"]
        assert ticket["put_url"].startswith(stack.base_url + "/_objects/")

        status = client.get(f"/api/audio/uploads/{ticket['ticket_id']}")
    assert status.status_code == 200
    data = status.json()["data"]
    assert data == {"ticket_id": ticket["ticket_id"], "purpose": "asr", "key": ticket["key"], "status": "WAITING",
                    "expires_at": ticket["expires_at"], "created_at": data["created_at"]}


@pytest.mark.parametrize("change,param", [
    ({"content_type": "video/mp4"}, "content_type"),
    ({"content_type": "audio/flac", "purpose": "voice"}, "content_type"),
    ({"size": 200 * MiB + 1}, "size"),
    ({"size": 10 * MiB + 1, "purpose": "voice"}, "size"),
    ({"size": 0}, "size"),
    ({"purpose": "video"}, "purpose"),
    ({"callback_url": "http://127.0.0.1:9/hook"}, "callback_url"),
    ({"callback_url": "file:///etc/passwd"}, "callback_url"),
])
def test_refusals_are_400_envelopes(stack: Stack, change: dict, param: str) -> None:
    with stack.client("uploader") as client:
        response = client.post("/api/audio/uploads", json={**BODY, **change})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == 400 and body["data"] is None
    assert body["error"] in ("INVALID_PARAMETER", "INVALID_AUDIO")
    assert param in body["message"]


@pytest.mark.parametrize("body", [{"purpose": "asr", "content_type": "audio/wav"},   # no size
                                  {"purpose": "asr", "size": 10},                     # no content type
                                  {"purpose": "asr", "content_type": "audio/wav", "size": "big"}])
def test_malformed_bodies_are_400_envelopes(stack: Stack, body: dict) -> None:
    with stack.client("uploader") as client:
        response = client.post("/api/audio/uploads", json=body)
    assert response.status_code == 400 and response.json()["error"] == "INVALID_PARAMETER"


def test_a_public_callback_url_is_accepted(stack: Stack) -> None:
    with stack.client("uploader") as client:
        response = client.post("/api/audio/uploads", json={**BODY, "callback_url": "https://93.184.216.34/done"})
    assert response.status_code == 200


def test_nobody_else_sees_a_ticket(stack: Stack) -> None:
    with stack.client("owner-user") as owner:
        ticket_id = owner.post("/api/audio/uploads", json=BODY).json()["data"]["ticket_id"]
    with stack.client("other-user") as other:
        theirs = other.get(f"/api/audio/uploads/{ticket_id}")
        missing = other.get(f"/api/audio/uploads/{'0' * 32}")
    assert theirs.status_code == 404 and theirs.json()["error"] == "NOT_FOUND"
    assert missing.status_code == 404 and missing.json() == {**theirs.json(), "message": missing.json()["message"]}


def test_tickets_need_a_token(stack: Stack) -> None:
    with stack.client() as anonymous:
        assert anonymous.post("/api/audio/uploads", json=BODY).status_code == 401
        assert anonymous.get(f"/api/audio/uploads/{'0' * 32}").json()["error"] == "UNAUTHORIZED"
