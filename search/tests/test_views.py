"""The search page and the JSON API, as a browser and a client see them."""

import json
import re

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chat.tests.factories import MessageFactory, RoomFactory
from search.selectors import PAGE_SIZE

pytestmark = pytest.mark.django_db

# Everything FTS5 or tsquery would read as syntax, and then some.
SPECIAL = "\"'*^:()-+&|!<>{}[],.;@#/\\~`=?%$_ \t\n\x00NEARANDORNOT"


@pytest.fixture
def ann_client(client, ann):
    client.force_login(ann)
    return client


def test_search_page_redirects_anonymous_users_to_log_in(client):
    response = client.get("/chat/search/?q=cat")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_search_api_refuses_anonymous_users_with_json(client):
    response = client.get("/api/search/?q=cat")
    assert response.status_code == 403
    assert response.json()["error"] == "not_authenticated"


def test_search_page_is_not_a_room_named_search(ann_client):
    response = ann_client.get("/chat/search/")
    assert response.status_code == 200
    assert response.templates[0].name == "search/results.html"


def test_every_page_has_the_search_box(ann_client):
    page = ann_client.get(reverse("chat:lobby")).content.decode()
    assert 'role="search"' in page
    assert 'action="/chat/search/"' in page


def test_result_links_to_the_message_in_its_room(ann_client, ann, lobby):
    message = MessageFactory(user=ann, room=lobby, body="meet at <noon> & bring cake")
    page = ann_client.get("/chat/search/", {"q": "cake"}).content.decode()
    assert f'href="/chat/lobby/?around={message.id}"' in page
    assert "&lt;noon&gt; &amp; bring <mark>cake</mark>" in page or "bring <mark>cake</mark>" in page
    assert "#lobby" in page
    assert "ann" in page


def test_api_answers_messages_snippets_and_a_cursor(ann_client, ann, lobby):
    ids = [MessageFactory(user=ann, room=lobby, body=f"cake {n}").id for n in range(PAGE_SIZE + 1)]
    first = ann_client.get("/api/search/", {"q": "cake"}).json()
    assert [r["message"]["id"] for r in first["results"]] == ids[::-1][:PAGE_SIZE]
    assert first["results"][0]["snippet"].startswith("<mark>cake</mark>")
    second = ann_client.get("/api/search/", {"q": "cake", "cursor": first["next"]}).json()
    assert second == {"results": [second["results"][0]], "next": None}
    assert second["results"][0]["message"]["id"] == ids[0]


def test_page_links_to_older_results(ann_client, ann, lobby):
    for n in range(PAGE_SIZE + 1):
        MessageFactory(user=ann, room=lobby, body=f"cake {n}")
    page = ann_client.get("/chat/search/", {"q": "cake"}).content.decode()
    (cursor,) = re.findall(r'rel="next" href="\?q=cake&amp;cursor=([\w-]+)"', page)
    older = ann_client.get("/chat/search/", {"q": "cake", "cursor": cursor}).content.decode()
    assert older.count('data-testid="search-result"') == 1


@pytest.fixture
def searchable(ann):
    room = RoomFactory(name="hostile")
    for body in ['say "hi" NEAR(a b)', "a & b | !c <-> d:*", "plain words here", "ça va? 日本語"]:
        MessageFactory(user=ann, room=room, body=body)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.one_of(
        st.text(),
        st.text(alphabet=SPECIAL),
        st.lists(st.sampled_from(['"', "-", "from:", "in:", "NEAR", "*", "a", "words"])).map(
            "".join
        ),
    )
)
@example("\x00")
@example("x" * 5000)
@example('"' * 5000)
@example("-" * 2500 + "a")
@example("from:" + "a" * 200 + " in:" + "b" * 100)
@example("words\x00here")
@example('NEAR("a" "b", 2) AND col:here OR -"unclosed')
def test_any_query_answers_200_with_a_well_formed_page(ann_client, searchable, text):
    response = ann_client.get("/api/search/", {"q": text})
    assert response.status_code == 200
    answer = json.loads(response.content)
    assert set(answer) == {"results", "next"}
    for result in answer["results"]:
        assert set(result) == {"message", "snippet"}
        assert result["snippet"].count("<mark>") == result["snippet"].count("</mark>")
        assert "<" not in re.sub(r"</?mark>", "", result["snippet"])
    page = ann_client.get("/chat/search/", {"q": text})
    assert page.status_code == 200


def test_search_is_no_room_name(ann_client):
    from chat import services
    from chat.services.errors import ChatError

    response = ann_client.post(reverse("chat:lobby"), {"room": "search"})
    assert response.status_code == 200
    assert "reserved" in response.content.decode()
    with pytest.raises(ChatError):
        services.get_or_create_room("search")
