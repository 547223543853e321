"""Every operation of the trimmed description that the sandbox routes claim is exercised."""

from __future__ import annotations

import warnings
from typing import Any

from fastapi import FastAPI

from tests.sandbox import (
    test_contract_apps,
    test_contract_collab,
    test_contract_git,
    test_contract_history,
    test_contract_packages,
)
from tests.sandbox.conftest import World
from tests.sandbox.openapi_check import claimed_operations, operation_keys, run_contract

AREAS = (
    test_contract_apps,
    test_contract_git,
    test_contract_history,
    test_contract_packages,
    test_contract_collab,
)


# Operations of the trimmed description the sandbox does not serve yet; when it does, add them
# to a scenario and drop them here.
NOT_IN_SANDBOX: frozenset[tuple[str, str]] = frozenset()


def sandbox_paths(app: FastAPI) -> dict[str, Any]:
    with warnings.catch_warnings():
        # Browser pages share handlers across methods; their duplicate operation ids don't matter.
        warnings.simplefilter("ignore", UserWarning)
        paths: dict[str, Any] = app.openapi()["paths"]
    return paths


async def test_every_claimed_operation_is_exercised(world: World, sandbox_app: FastAPI) -> None:
    hook = await run_contract(world, [s for area in AREAS for s in area.SCENARIOS])
    claimed = claimed_operations(sandbox_paths(sandbox_app))
    assert sorted(operation_keys() - claimed) == sorted(NOT_IN_SANDBOX)
    assert sorted(claimed - hook.succeeded()) == []
