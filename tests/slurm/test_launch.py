"""`launch` (async steps) under real Slurm: concurrency, dependsOn, signalOnParentStepExit."""

from __future__ import annotations

import json
import time

import pytest

from .jobc_run import assert_no_steps_left, run_job, sleep_until_signalled

pytestmark = pytest.mark.slurm

RES = {"tasks": 4, "cpusPerTask": 1, "memPerCpu": 100, "gpusPerTask": 0}


def spec(*steps, resources=RES) -> str:
    return json.dumps({"resources": resources, "steps": list(steps)})


def launch(*steps, handle=None, signal=None, name=None) -> dict:
    body: dict = {"steps": list(steps)}
    if handle:
        body["handleName"] = handle
    if signal is not None:
        body["signalOnParentStepExit"] = signal
    step: dict = {"launch": body}
    if name:
        step["name"] = name
    return step


def run(command: str, depends_on=None, shell="/bin/bash", **extra) -> dict:
    step: dict = {"run": {"command": command, "shell": shell, **extra}}
    if depends_on:
        step["dependsOn"] = depends_on
    return step


def stamp(name: str) -> str:
    return f'date +%s.%N > "$OUT/{name}"'


def t(ran, name: str) -> float:
    return float(ran.read(name))


# A launched step that records which signal reached it, then exits 0.
def service(tag: str, seconds: int = 20) -> str:
    return (
        f'for s in HUP INT QUIT TERM USR1; do trap "echo $s > \\"\\$OUT/signal-{tag}\\"; exit 0" $s; done\n'
        f'touch "$OUT/up-{tag}"\n'
        f"{sleep_until_signalled(seconds)}\n"
        f'touch "$OUT/finished-{tag}"\n'
    )


def wait_for(tag: str) -> str:
    return f'for _ in $(seq 100); do [ -e "$OUT/up-{tag}" ] && break; sleep 0.1; done; [ -e "$OUT/up-{tag}" ]'


def test_sibling_launches_run_concurrently_and_the_longer_survives_the_shorter(slurm, tmp_path):
    ran = run_job(
        slurm,
        tmp_path,
        spec(
            launch(run(stamp("short-start") + "; sleep 1; " + stamp("short-end")), handle="short"),
            launch(run(stamp("long-start") + "; sleep 3; " + stamp("long-end")), handle="long"),
            run(stamp("foreground")),
            run(stamp("after-short"), depends_on=["short"]),
            run(stamp("after-long"), depends_on=["long"]),
        ),
    )
    assert ran.rc == 0, ran
    # Both started before either ended, and the foreground step did not wait for them.
    assert max(t(ran, "short-start"), t(ran, "long-start")) < t(ran, "short-end")
    assert t(ran, "foreground") < t(ran, "short-end")
    # The shorter ended first; the longer one kept running and finished its work.
    assert t(ran, "short-end") + 1.5 < t(ran, "long-end")
    assert t(ran, "short-end") <= t(ran, "after-short") < t(ran, "long-end") <= t(ran, "after-long")


@pytest.mark.slurm_both
def test_depends_on_waits_for_the_launch(slurm, tmp_path):
    ran = run_job(
        slurm,
        tmp_path,
        spec(
            launch(run('sleep 2; echo ready > "$OUT/result"'), handle="Producer"),
            run('[ -e "$OUT/result" ] && echo early > "$OUT/not-waiting" || echo none > "$OUT/not-waiting"'),
            run('cat "$OUT/result" > "$OUT/consumed"', depends_on=["producer"]),  # handles ignore case
        ),
    )
    assert ran.rc == 0, ran
    assert ran.read("not-waiting").strip() == "none"
    assert ran.read("consumed").strip() == "ready"


def test_await_inside_parallel_loop_body(slurm, tmp_path):
    ran = run_job(
        slurm,
        tmp_path,
        spec(
            {
                "for": {
                    "parallel": True,
                    "items": ["a", "b"],
                    "steps": [
                        launch(run('sleep 1; echo "$item" > "$OUT/launched-$item"'), handle="job"),
                        run('[ ! -e "$OUT/launched-$item" ] && touch "$OUT/early-$item"'),
                        run('cat "$OUT/launched-$item" > "$OUT/awaited-$item"', depends_on=["job"]),
                    ],
                }
            },
            {
                "for": {
                    "parallel": False,
                    "range": {"begin": 1, "end": 2},
                    "steps": [
                        launch(run('sleep 1; echo "$index" > "$OUT/launched-$index"'), handle="job"),
                        run('cat "$OUT/launched-$index" > "$OUT/awaited-$index"', depends_on=["job"]),
                    ],
                }
            },
        ),
    )
    assert ran.rc == 0, ran
    for key in ("a", "b", "1", "2"):
        assert ran.read(f"awaited-{key}").strip() == key
    assert (ran.out / "early-a").exists() and (ran.out / "early-b").exists()


@pytest.mark.slurm_both
def test_signal_on_parent_step_exit(slurm, tmp_path):
    ran = run_job(
        slurm,
        tmp_path,
        spec(
            launch(run(service("term15")), signal=15),
            launch(run(service("default"))),
            launch(run(service("hup", 20)), signal=1),
            launch(run(service("zero", 2)), signal=0),
            run("; ".join(wait_for(x) for x in ("term15", "default", "hup", "zero"))),
            resources={**RES, "tasks": 5},  # four launches and the foreground step at once
        ),
    )
    assert ran.rc == 0, ran
    assert ran.read("signal-term15").strip() == "TERM"
    assert ran.read("signal-default").strip() == "TERM"
    assert ran.read("signal-hup").strip() == "HUP"
    for tag in ("term15", "default", "hup"):
        assert not (ran.out / f"finished-{tag}").exists()
    # 0: never signalled; the job waits until it finished its work.
    assert not (ran.out / "signal-zero").exists()
    assert (ran.out / "finished-zero").exists()
    assert ran.res.elapsed < 15, ran
    assert_no_steps_left(slurm, ran.res.job_id)


def test_launch_inside_launch_and_loop_iteration_is_signalled_at_its_own_scope_end(slurm, tmp_path):
    ran = run_job(
        slurm,
        tmp_path,
        spec(
            launch(
                launch(run(service("inner"))),
                run(wait_for("inner") + "; sleep 1; " + stamp("outer-done")),
                handle="outer",
            ),
            {
                "for": {
                    "parallel": False,
                    "items": ["x"],
                    "steps": [
                        launch(run(service("loop"))),
                        run(wait_for("loop")),
                    ],
                }
            },
            run(stamp("after-loop")),
            run(stamp("after-outer"), depends_on=["outer"]),
        ),
    )
    assert ran.rc == 0, ran
    # The inner launch got TERM when the outer launch's steps ended, not when the job ended.
    assert ran.read("signal-inner").strip() == "TERM"
    assert (ran.out / "outer-done").exists()
    # A launch in a loop iteration is signalled when the iteration ends, before the next step.
    assert ran.read("signal-loop").strip() == "TERM"
    assert (ran.out / "after-loop").exists()


def test_launch_without_trap_is_stopped_and_the_job_succeeds(slurm, tmp_path):
    # Slurm signals every process of the step one after the other: the sleep may die before the shell,
    # which could then start its next command; `&&` keeps a killed sleep from counting as finished.
    ran = run_job(
        slurm,
        tmp_path,
        spec(
            launch(run('touch "$OUT/up-x"; sleep 30 && touch "$OUT/finished"', shell="/bin/sh")),
            run(wait_for("x")),
        ),
    )
    assert ran.rc == 0, ran
    assert not (ran.out / "finished").exists()
    assert ran.res.elapsed < 15, ran


@pytest.mark.slurm_both
def test_launch_ignoring_term_is_cancelled_after_the_grace_period(slurm, tmp_path):
    # options.launch_grace is 3 s in the tests' site profile; the launch would finish after 7 s.
    ran = run_job(
        slurm,
        tmp_path,
        spec(
            launch(
                run(
                    'trap "" TERM; date +%s > "$OUT/up-x"; for _ in $(seq 14); do sleep 0.5; done; '
                    'touch "$OUT/finished"'
                )
            ),
            run(wait_for("x")),
        ),
    )
    assert ran.rc == 0, ran
    assert ran.res.elapsed < 15, ran
    assert_no_steps_left(slurm, ran.res.job_id)
    time.sleep(max(0.0, float(ran.read("up-x")) + 8 - time.time()))
    assert not (ran.out / "finished").exists()


def test_loop_iteration_end_stops_only_its_own_launches(slurm, tmp_path):
    # A launch of the job's steps ("hog", 2 of the 4 CPUs for 5 s) outlives a loop iteration that has
    # a launch of its own. Ending the iteration stops the iteration's launch (still waiting for 3 CPUs
    # here), never the outer one; and the stopped launch does not start later, when CPUs free up.
    ran = run_job(
        slurm,
        tmp_path,
        spec(
            launch(
                run('touch "$OUT/up-hog"; sleep 5; touch "$OUT/hog-done"', resources={"cpusPerTask": 2}), handle="hog"
            ),
            {
                "for": {
                    "parallel": False,
                    "items": ["x"],
                    "steps": [
                        run(wait_for("hog"), resources={"cpusPerTask": 1}),
                        launch(run('touch "$OUT/late-start"; sleep 30', resources={"cpusPerTask": 3})),
                    ],
                }
            },
            run("sleep 3", depends_on=["hog"], resources={"cpusPerTask": 1}),  # leaves 3 CPUs free
            resources={**RES, "tasks": 2, "cpusPerTask": 2},
        ),
    )
    assert ran.rc == 0, ran
    assert (ran.out / "hog-done").exists(), ran
    assert not (ran.out / "late-start").exists(), ran
