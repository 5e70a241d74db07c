"""The JSON API for channel gateways. Views only authenticate, parse and translate errors.

The rules live in ``intake.services``; the contract is documented in ``docs/api.md``.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from core.rowcache import Precompiled
from intake.services import IntakeError, intake_receive
from tickets.models import IntakeChannel, hash_token


def error_response(error: IntakeError) -> JsonResponse:
    response = JsonResponse(error.as_json(), status=error.status, json_dumps_params={"ensure_ascii": False})
    if error.status == 401:
        response["WWW-Authenticate"] = "Bearer"
    elif error.status == 405:
        response["Allow"] = "POST"
    return response


def authenticate_channel(request: HttpRequest) -> IntakeChannel:
    """The intake channel whose token is in ``Authorization: Bearer <token>``."""
    scheme, _sep, token = request.META.get("HTTP_AUTHORIZATION", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise IntakeError("unauthorized", _("Send the channel token as “Authorization: Bearer <token>”."), 401)
    found = _CHANNEL_BY_TOKEN.objects(hash_token(token))
    channel = found[0] if found else None
    if channel is None:
        raise IntakeError("unauthorized", _("The channel token is not valid."), 401)
    if not channel.is_active or channel.revoked_at is not None:
        raise IntakeError("channel_revoked", _("This channel has been switched off or its token revoked."), 403)
    return channel


# Every request looks its channel up by the token's hash (a unique index): the SQL is compiled once per process.
_CHANNEL_BY_TOKEN = Precompiled(
    lambda token_hash: (
        IntakeChannel.objects.select_related("default_queue", "default_type__default_queue")
        .filter(token_hash=token_hash)
        .order_by()[:1]
    ),
    "\x00opsdesk-placeholder-token-hash",
    prepare=True,
)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def read_json(request: HttpRequest) -> Any:
    """The parsed body, refusing a wrong content type, an oversized body and malformed JSON."""
    if request.content_type != "application/json":
        raise IntakeError("unsupported_media_type", _("Send the body as “Content-Type: application/json”."), 415)
    limit = settings.INTAKE_MAX_BODY_BYTES
    too_large = IntakeError(
        "payload_too_large", _("The request body is larger than %(limit)d bytes.") % {"limit": limit}, 413
    )
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise too_large
    raw = request.read(limit + 1)  # the stream, not request.body: never buffer more than the limit
    if len(raw) > limit:
        raise too_large
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise IntakeError("malformed_json", _("The request body is not valid UTF-8 JSON."), 400) from None


@csrf_exempt
@never_cache
def intake_message(request: HttpRequest) -> JsonResponse:
    """``POST /api/intake/v1/messages``: one customer message from a gateway."""
    try:
        if request.method != "POST":
            raise IntakeError("method_not_allowed", _("Use POST."), 405)
        channel = authenticate_channel(request)
        result = intake_receive(channel, read_json(request))
    except IntakeError as error:
        return error_response(error)
    return JsonResponse(
        {
            "ticket": result.ticket.pk,
            "message": result.message.pk,
            "created_ticket": result.created_ticket,
            "duplicate": result.duplicate,
        },
        status=200 if result.duplicate else 201,
    )
