"""Error pages: Chinese, with a way back, and never a stack trace."""

from __future__ import annotations

from app import home
from tests.conftest import login, post_form


async def test_unknown_page_gives_a_chinese_404_with_a_way_home(client, people):
    response = await client.get("/no-such-page")
    assert response.status_code == 404
    assert "页面不存在" in response.text
    assert 'href="/"' in response.text


async def test_a_failure_inside_a_page_gives_a_chinese_500_without_a_trace(
    client, people, monkeypatch
):
    await login(client, "admin")

    def broken(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(home.Unit, "count", broken)
    response = await client.get("/")
    assert response.status_code == 500
    assert "系统出了点问题" in response.text
    assert "Traceback" not in response.text
    assert "secret internal detail" not in response.text


async def test_bad_query_values_give_a_chinese_400(client, people):
    await login(client, "admin")
    response = await client.get("/people?page=abc")
    assert response.status_code == 400
    assert "格式不正确" in response.text


async def test_403_page_explains_and_offers_a_way_back(client, people):
    await login(client, "13800000001")
    response = await client.get("/units", headers={"referer": "http://testserver.local/"})
    assert response.status_code == 403
    assert "没有访问此页面的权限" in response.text
    assert "返回上一页" in response.text


async def test_a_form_sent_after_the_session_ended_leads_back_to_its_page(client, people):
    await client.get("/login")
    response = await post_form(
        client,
        "/units",
        {"name": "新单位"},
        headers={"referer": "http://testserver.local/units?x=1"},
    )
    assert response.status_code == 302
    assert response.headers["location"] == "/login?next=/units%3Fx%3D1"
