"""Property-based requests generated from the OpenAPI schema (schemathesis): no input, valid or not, gets
a 5xx, and every response matches what the schema documents. Bounded: a few dozen examples per operation."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import KEY

EXAMPLES = 40
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_no_generated_request_gets_a_server_error(serve, tmp_path) -> None:
    (tmp_path / "allowed").mkdir()
    client = serve(api_key=KEY, allowed_roots=[tmp_path / "allowed"])
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    for operation, mode in [(operation, mode) for operation in operations for mode in GenerationMode]:

        @given(case=operation.as_strategy(mode))
        @hypothesis_settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def no_server_error(case) -> None:
            case.call_and_validate(headers={"X-API-Key": KEY}, checks=CHECKS)

        try:
            no_server_error()
        except Unsatisfiable:  # no invalid input exists for an operation without parameters
            assert mode is GenerationMode.NEGATIVE, operation.label
