"""Runs of a named workflow: its steps one after another, in the order ``needs`` asks for,
each able to read the results of the steps before it."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from tickwork.ids import new_id
from tickwork.node import Node
from tickwork.schedule.policies import ExecutionStatus
from tickwork.store.tables import workflows
from tickwork.testing import FakeClock

from .rig import T0, get_run, run, running_node, settle, steps
from .sink import serving


def store_workflow(node: Node, name: str, steps: list[dict[str, Any]]) -> None:
    document = {"name": name, "namespace": "default", "steps": steps}
    with node.engine.begin() as conn:
        conn.execute(
            sa.insert(workflows).values(
                id=new_id(),
                namespace="default",
                name=name,
                version=1,
                document=document,
                created_at=T0,
                updated_at=T0,
            )
        )


def workflow_schedule(name: str, workflow: str) -> dict[str, Any]:
    return {
        "name": name,
        "trigger": {"cron": "0 0 1 1 *"},
        "workflow": workflow,
        "retry": {"max_attempts": 1},
        "input": {"who": "tickwork"},
    }


def test_steps_run_in_needs_order_and_read_earlier_results(store_url: str) -> None:
    async def scenario() -> None:
        async with serving() as sink, running_node(store_url, FakeClock(T0)) as node:
            store_workflow(
                node,
                "report",
                [
                    {
                        "name": "notify",
                        "needs": ["build"],
                        "action": {
                            "kind": "http",
                            "url": sink.url,
                            "body": {
                                "built": "{{ steps.build.result.stdout | trim }}",
                                "for": "{{ input.who }}",
                            },
                        },
                    },
                    {"name": "build", "action": {"kind": "shell", "argv": ["echo", "v1.2"]}},
                ],
            )
            schedule = node.schedules.create(workflow_schedule("nightly", "report"))
            triggered, _ = node.schedules.trigger_now(schedule.id)
            await settle(node)

            done = get_run(node, triggered.id)
            assert done.status is ExecutionStatus.SUCCEEDED
            assert [s.step for s in steps(node, triggered.id)] == ["build", "notify"]
            [request] = sink.received
            assert json.loads(request.body) == {"built": "v1.2", "for": "tickwork"}
            assert done.result["build"]["exit_code"] == 0
            assert done.result["notify"] == {"ok": True}

    run(scenario)


def test_a_failing_step_stops_the_attempt_and_names_itself(store_url: str) -> None:
    async def scenario() -> None:
        async with running_node(store_url, FakeClock(T0)) as node:
            store_workflow(
                node,
                "brittle",
                [
                    {"name": "first", "action": {"kind": "shell", "argv": ["true"]}},
                    {
                        "name": "second",
                        "needs": ["first"],
                        "action": {"kind": "shell", "argv": ["false"]},
                    },
                    {
                        "name": "third",
                        "needs": ["second"],
                        "action": {"kind": "shell", "argv": ["true"]},
                    },
                ],
            )
            schedule = node.schedules.create(workflow_schedule("fragile", "brittle"))
            triggered, _ = node.schedules.trigger_now(schedule.id)
            await settle(node)

            done = get_run(node, triggered.id)
            assert done.status is ExecutionStatus.FAILED
            assert done.error == "step second: exited with code 1"
            assert [(s.step, s.status) for s in steps(node, triggered.id)] == [
                ("first", ExecutionStatus.SUCCEEDED),
                ("second", ExecutionStatus.FAILED),
            ]

    run(scenario)


def test_a_run_of_a_missing_workflow_fails_with_the_reason(store_url: str) -> None:
    async def scenario() -> None:
        async with running_node(store_url, FakeClock(T0)) as node:
            schedule = node.schedules.create(workflow_schedule("orphan", "nowhere"))
            triggered, _ = node.schedules.trigger_now(schedule.id)
            await settle(node)

            done = get_run(node, triggered.id)
            assert done.status is ExecutionStatus.FAILED
            assert done.error == "workflow 'nowhere' is not defined in this namespace"

    run(scenario)
