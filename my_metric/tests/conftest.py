# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
import copy
from typing import Iterator

import pytest

from datadog_checks.base.types import InstanceType

from . import common


@pytest.fixture(scope='session')
def dd_environment() -> Iterator[InstanceType]:
    yield copy.deepcopy(common.INSTANCE)


@pytest.fixture
def instance() -> InstanceType:
    return copy.deepcopy(common.INSTANCE)
