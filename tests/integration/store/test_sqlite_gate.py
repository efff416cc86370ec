"""SQLite transactions of one process take turns in arrival order, and give up like SQLite."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from tickwork.store.engine import _WriterGate, create_store_engine


def _wait_until(check: object, what: str) -> None:
    deadline = time.monotonic() + 10
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.001)


def test_waiting_transactions_go_in_arrival_order() -> None:
    gate = _WriterGate()
    order: list[str] = []
    gate.enter("first")

    def take(name: str) -> None:
        gate.enter(name)
        order.append(name)
        gate.leave(name)

    second = threading.Thread(target=take, args=("second",))
    second.start()
    _wait_until(lambda: gate._next_ticket == 2, "the second to queue")
    third = threading.Thread(target=take, args=("third",))
    third.start()
    _wait_until(lambda: gate._next_ticket == 3, "the third to queue")

    gate.leave("first")
    second.join(5)
    third.join(5)
    assert order == ["second", "third"]


def test_a_wait_past_the_timeout_fails_like_sqlite_and_frees_its_turn() -> None:
    gate = _WriterGate(timeout_s=0.05)
    gate.enter("holder")
    with pytest.raises(sa.exc.OperationalError, match="database is locked"):
        gate.enter("impatient")
    gate.leave("holder")
    gate.enter("next")  # the abandoned turn is skipped, not waited for
    gate.leave("next")


def test_an_engine_serves_threads_without_losing_a_write(tmp_path: object) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path}/gate.db")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE counter (n INTEGER NOT NULL)")
        conn.exec_driver_sql("INSERT INTO counter VALUES (0)")

    def bump() -> None:
        for _ in range(50):
            with engine.begin() as conn:
                n = conn.exec_driver_sql("SELECT n FROM counter").scalar_one()
                conn.exec_driver_sql(f"UPDATE counter SET n = {n + 1}")

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT n FROM counter").scalar_one() == 200
    engine.dispose()
