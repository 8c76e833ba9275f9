"""The name rule of the registration form: Chinese characters, Latin letters, the middle dot; a name in
Chinese characters has no space inside ("张 三" is refused with invalid_name), spaces around a name go,
a foreign name keeps single spaces."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from registration.entries.request import RequestError, read_request
from tests.registration.test_registration_api import make_event, person, post

Client = AsyncTestClient[Litestar]


@pytest.mark.parametrize("name", ["张 三", "张\u3000三", "欧阳 娜娜", "阿依古丽 买买提", "阿依古丽 · 买买提",
                                  "李 Ming"])
def test_a_space_inside_a_chinese_name_is_refused(name: str) -> None:
    with pytest.raises(RequestError) as refused:
        read_request(person(name=name))
    assert (refused.value.code, refused.value.field) == ("invalid_name", "name")
    assert "空格" in refused.value.zh


@pytest.mark.parametrize(("typed", "stored"), [
    ("  张三 ", "张三"), ("阿依古丽·买买提", "阿依古丽·买买提"), ("Maria  Garcia", "Maria Garcia"),
    (" John Smith-Jones ", "John Smith-Jones"),
])
def test_names_the_rule_keeps(typed: str, stored: str) -> None:
    assert read_request(person(name=typed)).members[0].name == stored


def test_an_instructor_name_follows_the_same_rule() -> None:
    with pytest.raises(RequestError) as refused:
        read_request(person(instructors=[{"name": "陈 老师", "phone": "13600136000"}]))
    assert (refused.value.code, refused.value.field) == ("invalid_name", "instructors[0].name")


async def test_the_api_refuses_it_and_names_the_field(admin: Any, client: Client) -> None:
    event_id = await make_event(admin)
    refused = await post(client, event_id, person(name="张 三"))
    assert refused.status_code == 422
    body = refused.json()
    assert (body["code"], body["field"]) == ("invalid_name", "name") and "空格" in body["message"]
    accepted = await post(client, event_id, person(name="阿依古丽·买买提"))
    assert accepted.status_code == 201, accepted.text
