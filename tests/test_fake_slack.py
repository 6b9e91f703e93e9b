"""The fake Slack behaves like Slack for the real slack_sdk and slack_bolt clients."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from slack_bolt import App, BoltRequest
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from tests.fakes.slack_api import FakeSlack

CHANNEL = "C0ANALYTICS"
USER = "U0ANALYST"


def web_client(fake: FakeSlack, **options: Any) -> WebClient:
    return WebClient(token=fake.bot_token, base_url=fake.base_url, **options)


def table(rows: int, columns: int = 2) -> dict[str, Any]:
    return {
        "type": "table",
        "rows": [[{"type": "raw_text", "text": f"r{r}c{c}"} for c in range(columns)] for r in range(rows)],
    }


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


@contextmanager
def socket_mode_app(fake: FakeSlack, app: App) -> Iterator[SocketModeHandler]:
    handler = SocketModeHandler(app, app_token=fake.app_token)
    handler.connect()
    try:
        fake.wait_for_connections(1)
        yield handler
    finally:
        handler.close()


def test_a_posted_message_can_be_read_back_edited_and_found_in_its_thread(fake_slack: FakeSlack) -> None:
    client = web_client(fake_slack)
    assert client.auth_test()["user_id"] == fake_slack.bot_user_id
    fake_slack.seed_thread(
        CHANNEL, "1690000000.000100", [{"user": USER, "text": "how many orders yesterday?"}]
    )

    posted = client.chat_postMessage(channel=CHANNEL, thread_ts="1690000000.000100", text="Working on it")
    client.chat_update(
        channel=CHANNEL, ts=posted["ts"], text="1,204 orders", blocks=[section("*1,204* orders")]
    )

    [message] = fake_slack.messages(CHANNEL, thread_ts="1690000000.000100")
    assert (message.text, message.edits[0]["text"]) == ("1,204 orders", "Working on it")
    assert message.blocks == [section("*1,204* orders")]
    replies = client.conversations_replies(channel=CHANNEL, ts="1690000000.000100")["messages"]
    assert [reply["text"] for reply in replies] == ["how many orders yesterday?", "1,204 orders"]
    assert replies[1]["bot_id"] == fake_slack.bot_id and replies[1]["ts"] == posted["ts"]
    assert client.chat_getPermalink(channel=CHANNEL, message_ts=posted["ts"])["permalink"].startswith(
        "https://"
    )


def test_timestamps_are_unique_and_increasing(fake_slack: FakeSlack) -> None:
    client = web_client(fake_slack)
    stamps = [client.chat_postMessage(channel=CHANNEL, text=str(n))["ts"] for n in range(3)]
    assert stamps == sorted(set(stamps), key=float)
    assert all(len(stamp.split(".")[1]) == 6 for stamp in stamps)


def test_wrong_tokens_and_unknown_methods_are_refused_like_slack(fake_slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as refused:
        WebClient(token="xoxb-stolen", base_url=fake_slack.base_url).chat_postMessage(
            channel=CHANNEL, text="hi"
        )
    assert refused.value.response.status_code == 200 and refused.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as untyped:
        web_client(fake_slack).apps_connections_open(app_token=fake_slack.bot_token)
    assert untyped.value.response["error"] == "not_allowed_token_type"
    with pytest.raises(SlackApiError) as unknown:
        web_client(fake_slack).api_call("chat.teleport", params={"channel": CHANNEL})
    assert unknown.value.response["error"] == "unknown_method"
    assert [call.ok for call in fake_slack.calls] == [False, False, False]


@pytest.mark.parametrize(
    ("blocks", "pointer"),
    [
        ([table(101)], "/blocks/0/rows"),
        ([section("x" * 3001)], "/blocks/0/text/text"),
        ([table(2, columns=21)], "/blocks/0/rows/0"),
        ([{"type": "table", "rows": [[{"type": "raw_text", "text": "a"}], []]}], "/blocks/0/rows/1"),
        (
            [
                {
                    "type": "table",
                    "rows": [[{"type": "raw_text", "text": "a"}, {"type": "raw_text", "text": ""}]],
                }
            ],
            "/1/text",
        ),
        ([table(2), table(2)], "/blocks/1"),
        ([{"type": "markdown", "text": "m" * 7000}, {"type": "markdown", "text": "m" * 5001}], "/blocks]"),
        ([section("ok")] * 51, "/blocks]"),
    ],
    ids=[
        "101 rows",
        "3001-char section",
        "21 columns",
        "ragged rows",
        "empty cell",
        "two tables",
        "markdown",
        "51",
    ],
)
def test_blocks_beyond_slack_limits_answer_invalid_blocks(
    fake_slack: FakeSlack, blocks: list[dict[str, Any]], pointer: str
) -> None:
    with pytest.raises(SlackApiError) as rejected:
        web_client(fake_slack).chat_postMessage(channel=CHANNEL, text="fallback", blocks=blocks)
    response = rejected.value.response
    assert response.status_code == 200
    assert response["error"] == "invalid_blocks"
    assert any(pointer in error for error in response["errors"]), response["errors"]
    assert fake_slack.messages(CHANNEL) == []


def test_valid_table_and_markdown_blocks_are_accepted(fake_slack: FakeSlack) -> None:
    blocks = [
        {"type": "markdown", "text": "**Orders** by day"},
        {**table(100, columns=20), "column_settings": [{"align": "right"}, None, {"is_wrapped": True}]},
    ]
    web_client(fake_slack).chat_postMessage(channel=CHANNEL, text="Orders by day", blocks=blocks)
    assert fake_slack.messages(CHANNEL)[0].blocks == blocks


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({}, "no_text"),
        ({"text": "x" * 40_001}, "msg_too_long"),
        ({"text": "hi", "blocks": "[not json"}, "invalid_blocks_format"),
    ],
)
def test_message_errors(fake_slack: FakeSlack, arguments: dict[str, Any], error: str) -> None:
    with pytest.raises(SlackApiError) as rejected:
        web_client(fake_slack).api_call("chat.postMessage", params={"channel": CHANNEL, **arguments})
    assert rejected.value.response["error"] == error


def test_rate_limit_answers_429_with_retry_after_and_the_retry_handler_succeeds(
    fake_slack: FakeSlack,
) -> None:
    fake_slack.fail_next("chat.postMessage", retry_after=1)
    with pytest.raises(SlackApiError) as limited:
        web_client(fake_slack).chat_postMessage(channel=CHANNEL, text="too fast")
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "1"
    assert limited.value.response["error"] == "ratelimited"

    fake_slack.fail_next("chat.postMessage", retry_after=1)
    patient = web_client(fake_slack, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    patient.chat_postMessage(channel=CHANNEL, text="eventually")

    attempts = fake_slack.calls_to("chat.postMessage")
    assert [(call.status, call.injected) for call in attempts] == [(429, True), (429, True), (200, False)]
    assert attempts[2].at - attempts[1].at >= 1.0
    assert [message.text for message in fake_slack.messages(CHANNEL)] == ["eventually"]


def test_scripted_errors_and_server_errors(fake_slack: FakeSlack) -> None:
    client = web_client(fake_slack)
    fake_slack.fail_next("chat.update", error="invalid_blocks")
    fake_slack.fail_next("chat.postMessage", status=503, times=2)
    with pytest.raises(SlackApiError) as scripted:
        client.chat_update(channel=CHANNEL, ts="1.0", text="x")
    assert (scripted.value.response.status_code, scripted.value.response["error"]) == (200, "invalid_blocks")
    for _ in range(2):
        with pytest.raises(SlackApiError) as outage:
            client.chat_postMessage(channel=CHANNEL, text="x")
        assert outage.value.response.status_code == 503
    client.chat_postMessage(channel=CHANNEL, text="back")
    with pytest.raises(AssertionError, match=r"chat\.delete"):
        fake_slack.wait_for("chat.delete", timeout=0.05)


def test_files_upload_v2_delivers_the_bytes_into_the_thread(fake_slack: FakeSlack) -> None:
    client = web_client(fake_slack)
    parent = client.chat_postMessage(channel=CHANNEL, text="Here is your chart")["ts"]
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40

    response = client.files_upload_v2(
        channel=CHANNEL,
        thread_ts=parent,
        content=png,
        filename="orders.png",
        title="Orders",
        initial_comment="Chart",
    )

    [upload] = fake_slack.uploads(CHANNEL, thread_ts=parent)
    assert (upload.filename, upload.title, upload.content) == ("orders.png", "Orders", png)
    assert response["file"]["id"] == upload.file_id and response["file"]["size"] == len(png)
    shared = client.conversations_replies(channel=CHANNEL, ts=parent)["messages"][-1]
    assert shared["text"] == "Chart" and shared["files"][0]["name"] == "orders.png"
    assert fake_slack.calls_to("files.getUploadURLExternal")[0].args["length"] == str(len(png))


def test_the_upload_url_also_accepts_a_multipart_form(fake_slack: FakeSlack) -> None:
    client = web_client(fake_slack)
    target = client.files_getUploadURLExternal(filename="rows.csv", length=8)
    body = (
        b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="rows.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\nid,total\r\n--b0undary--\r\n"
    )
    headers = {"Content-Type": "multipart/form-data; boundary=b0undary"}
    with urllib.request.urlopen(
        urllib.request.Request(target["upload_url"], data=body, headers=headers)
    ) as answer:
        assert answer.read() == b"OK - 8"
    client.files_completeUploadExternal(
        files=[{"id": target["file_id"], "title": "Rows"}], channel_id=CHANNEL
    )
    assert [upload.content for upload in fake_slack.uploads(CHANNEL)] == [b"id,total"]


def test_chat_stream_builds_up_one_message(fake_slack: FakeSlack) -> None:
    client = web_client(fake_slack)
    question = fake_slack.app_mention("orders by week?", user=USER, channel=CHANNEL)
    streamer = client.chat_stream(
        channel=CHANNEL,
        thread_ts=question["ts"],
        recipient_team_id=fake_slack.team_id,
        recipient_user_id=USER,
        buffer_size=10,
    )
    for piece in ["Orders **rose** ", "by 12% ", "week over week."]:
        streamer.append(markdown_text=piece)
    streamer.stop(blocks=[section("Was this helpful?")])

    [answer] = fake_slack.messages(CHANNEL, thread_ts=question["ts"])
    assert answer.text == "Orders **rose** by 12% week over week."
    assert (answer.streaming, answer.blocks) == ("completed", [section("Was this helpful?")])
    assert [
        len(fake_slack.calls_to(m)) for m in ("chat.startStream", "chat.appendStream", "chat.stopStream")
    ] == [1, 1, 1]
    with pytest.raises(SlackApiError) as stopped:
        client.chat_appendStream(channel=CHANNEL, ts=answer.ts, markdown_text="more")
    assert stopped.value.response["error"] == "message_not_in_streaming_state"


def test_an_expired_stream_refuses_appends(fake_slack: FakeSlack) -> None:
    client = web_client(fake_slack)
    started = client.chat_startStream(
        channel=CHANNEL, thread_ts="1690000000.000100", markdown_text="Thinking"
    )
    fake_slack.expire_stream(CHANNEL, started["ts"])
    with pytest.raises(SlackApiError) as expired:
        client.chat_appendStream(channel=CHANNEL, ts=started["ts"], markdown_text="...")
    assert expired.value.response["error"] == "message_not_in_streaming_state"


def test_without_streaming_the_stream_methods_are_unknown() -> None:
    with FakeSlack(streaming=False) as fake:
        with pytest.raises(SlackApiError) as unknown:
            web_client(fake).chat_startStream(
                channel=CHANNEL, thread_ts="1690000000.000100", markdown_text="hi"
            )
        assert unknown.value.response["error"] == "unknown_method"


def test_assistant_status_prompts_reactions_and_home(fake_slack: FakeSlack) -> None:
    client = web_client(fake_slack)
    thread = "1690000000.000100"
    client.assistant_threads_setStatus(
        channel_id=CHANNEL, thread_ts=thread, status="is querying the warehouse…"
    )
    client.assistant_threads_setStatus(channel_id=CHANNEL, thread_ts=thread, status="")
    prompts = [{"title": "Revenue", "message": "What was revenue last week?"}]
    client.assistant_threads_setSuggestedPrompts(channel_id=CHANNEL, thread_ts=thread, prompts=prompts)
    posted = client.chat_postMessage(channel=CHANNEL, text="hi")["ts"]
    client.reactions_add(channel=CHANNEL, timestamp=posted, name="eyes")
    client.views_publish(user_id=USER, view={"type": "home", "blocks": [section("Welcome")]})
    client.chat_postEphemeral(channel=CHANNEL, user=USER, text="only you")

    assert fake_slack.statuses(CHANNEL, thread) == ["is querying the warehouse…", ""]
    assert fake_slack.suggested_prompts(CHANNEL, thread) == prompts
    assert fake_slack.message(CHANNEL, posted).reactions == {"eyes": [fake_slack.bot_user_id]}
    assert fake_slack.home_view(USER)["blocks"] == [section("Welcome")]  # type: ignore[index]
    assert [message.text for message in fake_slack.ephemeral_messages(CHANNEL, USER)] == ["only you"]
    client.chat_delete(channel=CHANNEL, ts=posted)
    assert fake_slack.messages(CHANNEL) == []


def test_event_builders_use_slack_shapes(fake_slack: FakeSlack) -> None:
    mention = fake_slack.app_mention("revenue?", user=USER, channel=CHANNEL)
    reply = fake_slack.channel_message("and last year?", user=USER, channel=CHANNEL, thread_ts=mention["ts"])
    direct = fake_slack.direct_message("hello", user=USER)
    for event in (mention, reply, direct):
        assert {"type", "user", "text", "ts", "channel", "event_ts", "team", "blocks"} <= event.keys()
    assert mention["text"] == f"<@{fake_slack.bot_user_id}> revenue?"
    assert mention["blocks"][0]["elements"][0]["elements"][0] == {
        "type": "user",
        "user_id": fake_slack.bot_user_id,
    }
    assert (reply["channel_type"], reply["parent_user_id"]) == ("channel", USER)
    assert direct["channel_type"] == "im" and direct["channel"].startswith("D")
    assert fake_slack.app_home_opened(USER)["tab"] == "messages"
    payload = fake_slack.event_payload(mention)
    assert payload["type"] == "event_callback" and payload["event_id"].startswith("Ev")
    assert payload["authorizations"][0]["user_id"] == fake_slack.bot_user_id


def test_socket_mode_client_gets_hello_and_envelopes_and_its_acks_are_timed(fake_slack: FakeSlack) -> None:
    received: list[dict[str, Any]] = []
    clients = [
        SocketModeClient(app_token=fake_slack.app_token, web_client=web_client(fake_slack)) for _ in range(2)
    ]

    def acknowledge(client: SocketModeClient, request: SocketModeRequest) -> None:
        received.append(request.to_dict() | {"retry_attempt": request.retry_attempt})
        client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))

    hellos: list[dict[str, Any]] = []
    for client in clients:
        client.socket_mode_request_listeners.append(acknowledge)  # type: ignore[arg-type]
        client.on_message_listeners.append(lambda raw: hellos.append(json.loads(raw)))
        client.connect()
    try:
        fake_slack.wait_for_connections(2)
        event = fake_slack.app_mention("hi", user=USER, channel=CHANNEL)
        envelope_id = fake_slack.send_event(event, retry_attempt=1, retry_reason="timeout")
        ack = fake_slack.wait_for_ack(envelope_id)
        assert 0 <= ack.latency_seconds < 2 and ack.payload is None
        broadcast = fake_slack.broadcast_event(event, event_id="Ev0SAMEEVENT")
        for envelope in broadcast:
            fake_slack.wait_for_ack(envelope)
    finally:  # each close waits up to 1 s for the client's message queue, so close them together
        closers = [threading.Thread(target=client.close) for client in clients]
        for closer in closers:
            closer.start()
        for closer in closers:
            closer.join()

    assert hellos[0]["type"] == "hello" and hellos[0]["connection_info"] == {"app_id": fake_slack.app_id}
    assert {hello["num_connections"] for hello in hellos if hello.get("type") == "hello"} == {1, 2}
    first = next(request for request in received if request["envelope_id"] == envelope_id)
    assert (first["type"], first["retry_attempt"], first["payload"]["event"]) == ("events_api", 1, event)
    assert {request["payload"]["event_id"] for request in received[1:]} == {"Ev0SAMEEVENT"}
    assert {sent.connection for sent in fake_slack.envelopes[1:]} == {0, 1}


def test_bolt_app_in_socket_mode_answers_a_mention_in_its_thread(fake_slack: FakeSlack) -> None:
    app = App(client=web_client(fake_slack))

    @app.event("app_mention")
    def answer(event: dict[str, Any], say: Any) -> None:
        say(text="Revenue was $1.2M", thread_ts=event["ts"])

    with socket_mode_app(fake_slack, app):
        mention = fake_slack.app_mention("revenue last week?", user=USER, channel=CHANNEL)
        ack = fake_slack.wait_for_ack(fake_slack.send_event(mention))
        fake_slack.wait_for("chat.postMessage")

    assert ack.latency_seconds < 1
    assert [message.text for message in fake_slack.messages(CHANNEL, thread_ts=mention["ts"])] == [
        "Revenue was $1.2M"
    ]


def test_bolt_app_in_socket_mode_handles_a_slash_command_and_a_button(fake_slack: FakeSlack) -> None:
    app = App(client=web_client(fake_slack))
    clicked = threading.Event()

    @app.command("/blueprint")
    def command(ack: Any, respond: Any, command: dict[str, Any]) -> None:
        ack(text=f"Looking up {command['text']}")
        respond(text="Done", response_type="in_channel")

    @app.action("helpful")
    def button(ack: Any, body: dict[str, Any]) -> None:
        ack()
        assert body["actions"][0]["block_id"] == "feedback"
        clicked.set()

    buttons = {
        "type": "actions",
        "block_id": "feedback",
        "elements": [
            {
                "type": "button",
                "action_id": "helpful",
                "value": "yes",
                "text": {"type": "plain_text", "text": "Yes"},
            }
        ],
    }
    posted = web_client(fake_slack).chat_postMessage(channel=CHANNEL, text="Helpful?", blocks=[buttons])["ts"]
    with socket_mode_app(fake_slack, app):
        command_ack = fake_slack.wait_for_ack(
            fake_slack.send_slash_command("/blueprint", "revenue", user=USER, channel=CHANNEL)
        )
        button_ack = fake_slack.wait_for_ack(
            fake_slack.send_block_action("helpful", "yes", user=USER, channel=CHANNEL, message_ts=posted)
        )
        assert clicked.wait(5)
        eventually(lambda: bool(fake_slack.responses(CHANNEL)))

    assert command_ack.payload == {"text": "Looking up revenue"}
    assert button_ack.payload is None
    assert fake_slack.responses(CHANNEL)[0].body["text"] == "Done"
    assert [message.text for message in fake_slack.messages(CHANNEL)] == ["Helpful?", "Done"]


def test_a_disconnect_message_makes_bolt_reconnect_and_events_keep_flowing(fake_slack: FakeSlack) -> None:
    app = App(client=web_client(fake_slack))
    app.event("app_mention")(lambda event, say: say(text="still here", thread_ts=event["ts"]))

    with socket_mode_app(fake_slack, app):
        fake_slack.send_disconnect(reason="refresh_requested")
        fake_slack.wait_for("apps.connections.open", count=2)
        # The client opens its new connection, then closes the old one.
        eventually(lambda: fake_slack.connections_accepted == 2 and fake_slack.open_connections == 1)
        mention = fake_slack.app_mention("there?", user=USER, channel=CHANNEL)
        fake_slack.wait_for_ack(fake_slack.send_event(mention))
        fake_slack.wait_for("chat.postMessage")

    assert [message.text for message in fake_slack.messages(CHANNEL, thread_ts=mention["ts"])] == [
        "still here"
    ]


def test_signed_headers_pass_bolt_verification_and_forged_or_stale_ones_fail(fake_slack: FakeSlack) -> None:
    app = App(client=web_client(fake_slack), signing_secret=fake_slack.signing_secret)
    seen: list[str] = []
    app.event("app_mention")(lambda event: seen.append(event["text"]))
    body = json.dumps(
        fake_slack.event_payload(fake_slack.app_mention("hi", user=USER, channel=CHANNEL))
    ).encode()

    def post(headers: dict[str, str]) -> int:
        request = BoltRequest(body=body.decode(), headers={**headers, "content-type": "application/json"})
        return app.dispatch(request).status

    assert post(fake_slack.signed_headers(body)) == 200
    assert post(fake_slack.signed_headers(body, secret="not-the-secret")) == 401
    assert post(fake_slack.signed_headers(body, timestamp=int(time.time()) - 600)) == 401


def test_closing_stops_every_server_thread() -> None:
    fake = FakeSlack()
    client = SocketModeClient(
        app_token=fake.app_token, web_client=web_client(fake), auto_reconnect_enabled=False
    )
    client.connect()
    fake.wait_for_connections(1)
    fake.close()
    client.close()
    leftovers = [thread for thread in threading.enumerate() if thread.name.startswith("fake-slack")]
    assert leftovers == []
    assert all(not thread.is_alive() for thread in fake._socket_threads)
