"""The Example channel (plugins/examples/rust) in Python: polls the Example platform's messages
API and replies in conversations. Built into a component by componentize-py (see README.md)."""

import json
from datetime import datetime
from urllib.parse import quote, urlencode

import wit_world
from componentize_py_types import Err
from wit_world.imports import config, http, secrets
from wit_world.imports import types as t

DEFAULT_BASE = "https://api.example.com"


def fail(error: t.ChannelError):
    raise Err(error)


def base() -> str:
    return (config.get("base_url") or DEFAULT_BASE).rstrip("/")


def call(method: str, url: str, body=None):
    """The platform's JSON answer; an error status becomes the channel-error the host acts on."""
    token = secrets.get("api_token") or fail(t.ChannelError_InvalidConfig("secret `api_token` is not set"))
    headers = [("authorization", f"Bearer {token}")]
    data = b""
    if body is not None:
        headers.append(("content-type", "application/json"))
        data = json.dumps(body).encode()
    try:
        resp = http.send(t.HttpRequest(method, url, headers, data), None)
    except Err as e:
        fail(t.ChannelError_Transient(f"the platform could not be reached: {e.value}"))
    words = f"HTTP {resp.status}: {resp.body[:300].decode(errors='replace')}"
    if resp.status == 401:
        fail(t.ChannelError_Unauthorized(words))
    if resp.status == 429:
        wait = next((v for k, v in resp.headers if k.lower() == "retry-after"), "60")
        fail(t.ChannelError_RateLimited(t.RateLimit(int(wait) * 1000 if wait.isdigit() else 60_000, words)))
    if resp.status >= 500 or resp.status == 408:
        fail(t.ChannelError_Transient(words))
    if resp.status >= 400:
        fail(t.ChannelError_Permanent(words))
    return json.loads(resp.body)


def millis(stamp):
    if not stamp:
        return None
    return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)


def message(m):
    if not (m.get("id") and m.get("conversation_id") and m.get("author", {}).get("id")):
        return None
    author = t.Author(m["author"]["id"], m["author"].get("name") or "Someone", None, None, None)
    direction = t.Direction.OUTBOUND if m.get("from_us") else t.Direction.INBOUND
    return t.Interaction(m["id"], t.InteractionKind.PRIVATE_MESSAGE, direction, m["conversation_id"], m.get("reply_to"), author,
                         m.get("text") or "", [], millis(m.get("created_at")), None, None, False, [], None)


class WitWorld(wit_world.WitWorld):
    def describe(self) -> t.ChannelInfo:
        reply = t.ActionCapability(t.ActionKind.REPLY, [])
        return t.ChannelInfo(
            platform="example-python",
            platform_name="Example (Python)",
            capabilities=[t.Capability(t.InteractionKind.PRIVATE_MESSAGE, [reply], [], 2000)],
            polls=True,
            webhooks=False,
            reply_window_hours=None,
            tagged_reply_window=None,
            settings=[
                t.Setting("api_token", "API token", "Settings → API on the Example dashboard", True, None, True),
                t.Setting("base_url", "API URL", "", False, DEFAULT_BASE, False),
            ],
            allowed_hosts=[DEFAULT_BASE],
        )

    def check(self) -> str:
        return "account " + str(call("GET", f"{base()}/v1/me").get("name", "?"))

    def fetch(self, cursor) -> t.Page:
        query = {k: v for k, v in [("since", cursor or ""), ("limit", "100")] if v}
        page = call("GET", f"{base()}/v1/messages?{urlencode(query)}")
        events = [t.Event_Interaction(i) for i in map(message, page.get("messages", [])) if i]
        more = page.get("has_more") is True
        return t.Page(events, page.get("next") or None, 0 if more else 5000)

    def handle_webhook(self, request) -> t.WebhookOutcome:
        fail(t.ChannelError_Unsupported("Example does not send webhooks"))

    def perform(self, target, action) -> t.ActionOutcome:
        if not isinstance(action, t.Action_Reply):
            fail(t.ChannelError_Unsupported("Example only takes replies"))
        url = f"{base()}/v1/conversations/{quote(target.thread_key, safe='')}/messages"
        sent = call("POST", url, {"text": action.value.text, "reply_to": target.platform_id})
        return t.ActionOutcome(message(sent))

    def media(self, target, attachment) -> t.HttpRequest:
        fail(t.ChannelError_Unsupported("Example messages carry no files"))
