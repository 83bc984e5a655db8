"""Fixtures shared by deploy.sh's end-to-end modules (test_deploy*.py), one set per module: each module gets
its own emulator, its own copy of the repository and the environment pointing at that emulator. The helpers
they use are in deploy_harness.py; moto is imported only when a module asks for these fixtures.

Also loads the Hypothesis profile (tests/property_settings.py): deterministic unless HYPOTHESIS_PROFILE=fuzz."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import property_settings

property_settings.load_profile()

if TYPE_CHECKING:
    from deploy_harness import Cloud


@pytest.fixture(scope="module")
def cloud() -> Iterator[Cloud]:
    """moto's server with the stand-ins and patches (tests/moto_cloud.py), as deploy.sh's tests reach it."""
    import moto_cloud
    from deploy_harness import Cloud

    with moto_cloud.moto_server() as url:
        yield Cloud(url)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository that deploy.sh may change, sharing the project's virtual environment."""
    from deploy_harness import copy_workspace

    return copy_workspace(tmp_path_factory.mktemp("repo"))


@pytest.fixture(scope="module")
def env(cloud: Cloud, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A user's environment with no AWS configuration, fake credentials, pointed at the emulator."""
    from deploy_harness import clean_env

    return clean_env(tmp_path_factory.mktemp("home"), cloud)
