"""The pool hands out the connection returned last: a process's few busy connections stay warm."""

from __future__ import annotations

import pytest

from portail.bootstrap import Services

pytestmark = pytest.mark.postgres


def test_le_pool_rend_la_derniere_connexion_rendue(services: Services) -> None:
    pool = services.portail.factory.datastore.pool  # type: ignore[attr-defined]
    a, b, c = pool.getconn(), pool.getconn(), pool.getconn()
    pids = {x: x.info.backend_pid for x in (a, b, c)}
    for x in (a, b, c):
        pool.putconn(x)
    # The last one returned first, then the one before it: never the one idle the longest.
    suivantes = [pool.getconn(), pool.getconn()]
    assert [x.info.backend_pid for x in suivantes] == [pids[c], pids[b]]
    for x in suivantes:
        pool.putconn(x)
    with services.portail.factory.datastore.get_connection() as conn:  # type: ignore[attr-defined]
        assert conn.info.backend_pid == pids[b]
