"""`for` loops under real Slurm: items and ranges, sequential and parallel, nesting, failures."""

from __future__ import annotations

import json
import time

import pytest

from .jobc_run import assert_no_steps_left, run_job

pytestmark = pytest.mark.slurm

RES = {"tasks": 4, "cpusPerTask": 1, "memPerCpu": 100, "gpusPerTask": 0}


def spec(*steps, resources=RES) -> str:
    return json.dumps({"resources": resources, "steps": list(steps)})


def loop(over: dict, *steps, parallel=False) -> dict:
    return {"for": {"parallel": parallel, **over, "steps": list(steps)}}


def run(command: str, **extra) -> dict:
    return {"run": {"command": command, **extra}}


def lines(ran, name: str) -> list[str]:
    return ran.read(name).splitlines()


def test_sequential_items_and_ranges(slurm, tmp_path):
    record = 'printf "%s\\n" "$item" >> "$OUT/items"'
    ran = run_job(
        slurm,
        tmp_path,
        spec(
            loop({"items": ["a", "b c", "it's", "$(echo no)", "*"]}, run(record)),
            loop({"range": {"begin": 1, "end": 3}}, run('echo "$index" >> "$OUT/up"')),
            loop({"range": {"begin": 10, "end": 2, "increment": -4}}, run('echo "$index" >> "$OUT/down"')),
            loop({"range": {"begin": -3, "end": 4, "increment": 3}}, run('echo "$index" >> "$OUT/neg"')),
            loop({"range": {"begin": 5, "end": 5}}, run('echo "$index" >> "$OUT/one"')),
        ),
        name="job.json",
    )
    assert ran.rc == 0, ran
    assert lines(ran, "items") == ["a", "b c", "it's", "$(echo no)", "*"]
    assert lines(ran, "up") == ["1", "2", "3"]
    assert lines(ran, "down") == ["10", "6", "2"]
    assert lines(ran, "neg") == ["-3", "0", "3"]
    assert lines(ran, "one") == ["5"]


def test_nested_loops_two_and_three_deep(slurm, tmp_path):
    ran = run_job(
        slurm,
        tmp_path,
        spec(
            # items outside range
            loop(
                {"items": ["a", "b"]},
                loop({"range": {"begin": 1, "end": 2}}, run('echo "$item$index" >> "$OUT/items-range"')),
            ),
            # range outside items
            loop(
                {"range": {"begin": 3, "end": 1, "increment": -2}},
                loop({"items": ["x", "y"]}, run('echo "$index$item" >> "$OUT/range-items"')),
            ),
            # three deep; the inner items loop shadows $item, which comes back after it
            loop(
                {"items": ["a", "b"]},
                loop(
                    {"range": {"begin": 1, "end": 2}},
                    loop({"items": ["x", "y"]}, run('echo "$item$index" >> "$OUT/three"')),
                    run('echo "after:$item$index" >> "$OUT/three"'),
                ),
            ),
        ),
        name="job.json",
    )
    assert ran.rc == 0, ran
    assert lines(ran, "items-range") == ["a1", "a2", "b1", "b2"]
    assert lines(ran, "range-items") == ["3x", "3y", "1x", "1y"]
    assert lines(ran, "three") == [
        "x1",
        "y1",
        "after:a1",
        "x2",
        "y2",
        "after:a2",
        "x1",
        "y1",
        "after:b1",
        "x2",
        "y2",
        "after:b2",
    ]


STAMP = 'echo "$(date +%s.%N) {tag} start" >> "$OUT/times"; sleep 2; echo "$(date +%s.%N) {tag} end" >> "$OUT/times"'


def _intervals(ran) -> dict[str, tuple[float, float]]:
    seen: dict[str, dict[str, float]] = {}
    for line in lines(ran, "times"):
        stamp, tag, what = line.split()
        seen.setdefault(tag, {})[what] = float(stamp)
    return {tag: (t["start"], t["end"]) for tag, t in seen.items()}


def _overlap(intervals) -> bool:
    return max(s for s, _ in intervals) < min(e for _, e in intervals)


@pytest.mark.slurm_both
def test_parallel_items_and_range_iterations_overlap(slurm, tmp_path):
    ran = run_job(
        slurm,
        tmp_path,
        spec(
            loop({"items": ["a", "b", "c"]}, run(STAMP.format(tag="item-$item")), parallel=True),
            loop(
                {"range": {"begin": 9, "end": 1, "increment": -4}}, run(STAMP.format(tag="index-$index")), parallel=True
            ),
        ),
        name="job.json",
    )
    assert ran.rc == 0, ran
    got = _intervals(ran)
    assert set(got) == {"item-a", "item-b", "item-c", "index-9", "index-5", "index-1"}
    items = [got[f"item-{x}"] for x in "abc"]
    ranges = [got[f"index-{x}"] for x in (9, 5, 1)]
    assert _overlap(items), got
    assert _overlap(ranges), got
    # The second loop starts only after every iteration of the first has ended.
    assert max(e for _, e in items) <= min(s for s, _ in ranges), got


def test_nested_parallel_and_sequential_both_orders(slurm, tmp_path):
    ran = run_job(
        slurm,
        tmp_path,
        spec(
            # parallel outside, sequential inside: the outer iterations overlap, inner ones do not
            loop(
                {"items": ["a", "b"]},
                loop({"range": {"begin": 1, "end": 2}}, run(STAMP.format(tag="po-$item$index"))),
                parallel=True,
            ),
            # sequential outside, parallel inside
            loop(
                {"items": ["a", "b"]},
                loop({"range": {"begin": 1, "end": 2}}, run(STAMP.format(tag="sp-$item$index")), parallel=True),
            ),
        ),
        name="job.json",
    )
    assert ran.rc == 0, ran
    got = _intervals(ran)
    assert {t for t in got if t.startswith("po-")} == {"po-a1", "po-a2", "po-b1", "po-b2"}
    assert _overlap([got["po-a1"], got["po-b1"]]) and _overlap([got["po-a2"], got["po-b2"]]), got
    assert got["po-a1"][1] <= got["po-a2"][0] and got["po-b1"][1] <= got["po-b2"][0], got
    assert _overlap([got["sp-a1"], got["sp-a2"]]) and _overlap([got["sp-b1"], got["sp-b2"]]), got
    assert max(got["sp-a1"][1], got["sp-a2"][1]) <= min(got["sp-b1"][0], got["sp-b2"][0]), got


def test_three_deep_parallel_sequential_parallel(slurm, tmp_path):
    ran = run_job(
        slurm,
        tmp_path,
        spec(
            loop(
                {"items": ["a", "b"]},
                loop(
                    {"range": {"begin": 1, "end": 2}},
                    loop({"range": {"begin": 7, "end": 8}}, run('echo "$item$index" >> "$OUT/deep"'), parallel=True),
                ),
                parallel=True,
            ),
        ),
        name="job.json",
    )
    assert ran.rc == 0, ran
    # The innermost range shadows the middle one: each (item, middle) pair prints item7 and item8.
    assert sorted(lines(ran, "deep")) == sorted(["a7", "a8"] * 2 + ["b7", "b8"] * 2)


@pytest.mark.slurm_both
def test_failing_sequential_iteration_stops_the_loop(slurm, tmp_path):
    ran = run_job(
        slurm,
        tmp_path,
        spec(
            loop(
                {"items": ["1", "2", "3"]},
                run('echo "$item" >> "$OUT/ran"; [ "$item" != 2 ] || exit 4'),
                run('echo "$item" >> "$OUT/second"'),
            ),
            run('touch "$OUT/after-loop"'),
        ),
        name="job.json",
    )
    assert ran.rc == 4, ran
    assert lines(ran, "ran") == ["1", "2"]
    assert lines(ran, "second") == ["1"]
    assert not (ran.out / "after-loop").exists()


def test_failing_parallel_iteration_fails_the_job_and_stops_siblings(slurm, tmp_path):
    # `sleep 5 && touch`: Slurm signals the step's processes one by one, so the sleep may die first and the
    # shell go on to its next command before its own signal; only a sleep that ran its 5 s may count.
    body = (
        'echo "$(date +%s)" > "$OUT/started-$item"\n'
        'case "$item" in\n'
        "  fail) sleep 1; exit 3 ;;\n"
        '  slow) sleep 5 && touch "$OUT/slow-finished" ;;\n'
        "esac\n"
    )
    ran = run_job(
        slurm,
        tmp_path,
        spec(
            loop({"items": ["fail", "slow", "quick"]}, run(body), run('touch "$OUT/next-$item"'), parallel=True),
            run('touch "$OUT/after-loop"'),
        ),
        name="job.json",
        timeout=60,
    )
    assert ran.rc == 3, ran
    assert {p.name for p in ran.out.iterdir()} >= {"started-fail", "started-slow", "started-quick"}
    assert (ran.out / "next-quick").exists()  # a sibling that ended in time went on
    assert not (ran.out / "next-fail").exists()
    assert not (ran.out / "after-loop").exists()
    assert ran.res.elapsed < 15, ran
    assert_no_steps_left(slurm, ran.res.job_id)
    # The slow sibling would have written its file 5 s after it started: wait past that.
    started = float(ran.read("started-slow"))
    time.sleep(max(0.0, started + 6.5 - time.time()))
    assert not (ran.out / "slow-finished").exists(), "an iteration kept running after the job ended"
    assert not (ran.out / "next-slow").exists()
    assert not ran.storage.joinpath(".jobc").exists()
