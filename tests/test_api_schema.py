"""Schemathesis runs every /api/v1 operation with generated parameters, with a valid token,
a narrower one, none, a wrong one and a revoked one: no answer is a server
error, every answer matches what the OpenAPI schema says (status code, content type, body,
headers), and without a valid token the answer is 401 whatever the parameters.

The app is called in-process through Litestar's TestClient without entering its lifespan,
as tests/conftest.py's `client` does: no PostgreSQL pool is opened on another event loop,
so the test's own queries and the rest of the suite are not disturbed.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.api.v1 import API_PATH, SCHEMA_PATH, router
from app.asgi import create_app
from tests import test_api
from tests.test_api import bearer, make_token

BASE_URL = "http://testserver.local"
VALID = ("city", "jiefang")
# Each operation, in each mode, tries this many generated requests (about 4 s in all on
# SQLite); the same ones on every run (derandomized), so a CI failure is one to repeat.
MAX_EXAMPLES = 100

# The dataset of tests/test_api.py: a city training with enrollments in both counties,
# one run by 中站区 for itself, and tokens for 解放区 and for the city.
data = test_api.data

POSITIVE_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Invalid parameters (a page of 0, a word for an id, …) must be refused with a 4xx.
NEGATIVE_CHECKS = [*POSITIVE_CHECKS, negative_data_rejection]


@pytest.fixture
def app_client():
    """The app in-process; its lifespan (the PostgreSQL pool) is deliberately not entered."""
    httpx_log = logging.getLogger("httpx")
    level = httpx_log.level
    httpx_log.setLevel(logging.WARNING)  # not a log line per generated request
    yield TestClient(app=create_app(), base_url=BASE_URL)
    httpx_log.setLevel(level)


@pytest.fixture
def api_schema(app_client) -> schemathesis.BaseSchema:
    response = app_client.get(f"{SCHEMA_PATH}/openapi.json")
    assert response.status_code == 200
    schema = schemathesis.openapi.from_dict(response.json())
    schema.config.generation.update(
        # The Authorization header is this test's to choose (see `credentials`), and unknown
        # query parameters are ignored by design, as most APIs do: not "negative" data here.
        with_security_parameters=False,
        allow_extra_parameters=False,
    )
    return schema


@pytest.fixture
async def credentials(data, tree, people) -> dict[str, dict[str, str]]:
    """Authorization headers: the two tokens of `data`, a revoked one, a wrong one, Basic
    instead of Bearer, and none at all."""
    revoked = await make_token(tree["city"], people["admin"], revoked=True)
    return {
        "city": bearer(data["city"]),
        "jiefang": bearer(data["jiefang"]),
        "revoked": bearer(revoked),
        "wrong": bearer("wrong-token"),
        "basic": {"Authorization": f"Basic {data['city']}"},
        "none": {},
    }


def _known_ids(data: dict[str, Any], tree: dict[str, Any]) -> dict[str, list[int]]:
    """Ids that exist, so generated requests also reach the answers with data in them."""
    return {
        "training_id": [data["training"].id, data["own"].id],
        "batch": [data["first"].id, data["second"].id, data["own_batch"].id],
        "unit": [unit.id for unit in tree.values()],
    }


def _operations(schema: schemathesis.BaseSchema) -> list:
    return [result.ok() for result in schema.get_all_operations()]


def test_the_schema_documents_every_api_operation(api_schema):
    documented = {(op.method.upper(), op.path) for op in _operations(api_schema)}
    routed = {
        ("GET", route.path.replace(":int}", "}"))
        for route in router.routes
        if route.path.startswith(API_PATH)
    }
    assert documented == routed
    assert len(documented) == 6


def _fuzz(operation, mode, client, credentials, known, statuses) -> None:
    """Send generated requests for one operation and check each answer."""
    checks = POSITIVE_CHECKS if mode == GenerationMode.POSITIVE else NEGATIVE_CHECKS
    if mode == GenerationMode.NEGATIVE and not (
        len(operation.path_parameters) + len(operation.query)
    ):
        return  # the list of trainings takes no parameter that could be wrong

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=operation.as_strategy(generation_mode=mode),
        # Mostly valid tokens, so most requests get past the door.
        who=st.sampled_from([*VALID, *VALID, *sorted(credentials)]),
        draw=st.data(),
    )
    def run(case, who, draw):
        if mode == GenerationMode.POSITIVE:
            # Now and then an id that exists instead of a random one.
            for location in (case.path_parameters, case.query):
                for name in list(location or {}):
                    if name in known and draw.draw(st.booleans()):
                        location[name] = draw.draw(st.sampled_from(known[name]))
        kwargs = case.as_transport_kwargs(base_url=BASE_URL, headers=credentials[who])
        response = client.request(
            kwargs["method"], kwargs["url"], params=kwargs["params"], headers=kwargs["headers"]
        )
        statuses.setdefault(operation.label, set()).add(response.status_code)
        case.validate_response(response, checks=checks)
        if mode == GenerationMode.POSITIVE and who not in VALID:
            assert response.status_code == 401, (who, kwargs["url"], response.text)

    run()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_generated_requests_get_no_server_error_and_match_the_schema(
    mode, api_schema, app_client, credentials, data, tree
):
    known = _known_ids(data, tree)
    statuses: dict[str, set[int]] = {}
    for operation in _operations(api_schema):
        _fuzz(operation, mode, app_client, credentials, known, statuses)

    with_parameters = {
        op.label for op in _operations(api_schema) if op.path != f"{API_PATH}/trainings"
    }
    assert set(statuses) >= with_parameters
    if mode == GenerationMode.POSITIVE:
        # The run reached real answers, not only refusals.
        for label, seen in statuses.items():
            assert 200 in seen and 401 in seen, (label, seen)


# ------------------------------------------------------------------------- regressions


def test_a_bad_parameter_gets_the_documented_400_body(app_client, api_schema, data):
    """Found by schemathesis: a 400 said {"error": …} while the schema promised Litestar's
    {"status_code", "detail"}; the schema now documents the body the API sends."""
    training = data["training"].id
    for url in (
        f"{API_PATH}/trainings/{training}/roster?page=0",
        f"{API_PATH}/trainings/{training}/roster?page_size=1001",
        f"{API_PATH}/trainings/{training}/summary?batch=eins",
    ):
        response = app_client.get(url, headers=bearer(data["city"]))
        assert response.status_code == 400, url
        assert response.json()["error"].startswith("请求参数不正确")
    raw = app_client.get(f"{SCHEMA_PATH}/openapi.json").json()
    for operation in _operations(api_schema):
        if operation.path != f"{API_PATH}/trainings":  # the list takes no parameters
            bad_request = raw["paths"][operation.path]["get"]["responses"]["400"]
            body = bad_request["content"]["application/json"]["schema"]
            assert body == {"$ref": "#/components/schemas/ApiError"}, operation.label


def test_ids_at_and_past_the_database_limits_are_not_found_not_errors(app_client, data):
    training = data["training"].id
    city = bearer(data["city"])
    for url, status in (
        (f"{API_PATH}/trainings/{2**31}/batches", 404),
        (f"{API_PATH}/trainings/{2**64}/summary", 404),
        (f"{API_PATH}/trainings/-1/summary", 404),
        (f"{API_PATH}/trainings/{training}/summary?batch={2**63}", 404),
        (f"{API_PATH}/trainings/{training}/roster?unit={2**31}", 404),
        (f"{API_PATH}/trainings/{training}/roster?page={2**31 - 1}&page_size=1000", 200),
    ):
        response = app_client.get(url, headers=city)
        assert response.status_code == status, (url, response.text)
        assert response.headers["content-type"].startswith("application/json")
