#!/usr/bin/env python3
"""Turn one Google Benchmark JSON run and the callgrind counts into markdown tables of ratios."""
import json
import sys


def load(path):
    with open(path) as f:
        data = json.load(f)
    runs = {}
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        name = b.get("run_name", b["name"])
        runs[name] = b
    return data.get("context", {}), runs


def ns(b):
    scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
    return b["real_time"] * scale


def main():
    if len(sys.argv) < 2:
        print("usage: report.py BENCH.json [ICOUNT.txt]", file=sys.stderr)
        return 2
    ctx, runs = load(sys.argv[1])
    icount = {}
    if len(sys.argv) > 2:
        with open(sys.argv[2]) as f:
            for line in f:
                name, ir = line.split()
                icount[name] = float(ir)

    def get(name):
        return runs.get(name)

    out = []
    out.append(f"Machine: {ctx.get('num_cpus', '?')} CPUs at {ctx.get('mhz_per_cpu', '?')} MHz, "
               f"{ctx.get('host_name', '')}; one run, times are medians of the repetitions.\n")

    out.append("### Uncontended acquire + release (one thread)\n")
    out.append("| benchmark | ns / op | vs floor/cas_pair | allocations |")
    out.append("|---|---:|---:|---:|")
    floor = get("floor/cas_pair")
    for name in ["floor/fetch_add_pair", "floor/cas_pair", "floor/checked_pair",
                 "floor/stamped_pair", "floor/protocol_pair",
                 "slotgate/try_acquire_release", "slotgate/try_acquire_release_basic_port",
                 "slotgate/try_acquire_release_cooldown", "slotgate/try_acquire_release_gated",
                 "std_counting_semaphore/try_acquire_release", "posix_sem/try_acquire_release",
                 "mutex_condvar_semaphore/try_acquire_release"]:
        b = get(name)
        if not b:
            continue
        allocs = b.get("allocs")
        out.append(f"| {name} | {ns(b):.1f} | {ns(b) / ns(floor):.2f}x | "
                   f"{'' if allocs is None else int(allocs)} |")

    out.append("\n### Ring: try_push + try_pop (one thread)\n")
    out.append("| benchmark | ns / op | vs ring/vyukov_reference |")
    out.append("|---|---:|---:|")
    ref = get("ring/vyukov_reference")
    for name in ["ring/slotgate", "ring/vyukov_reference", "ring/boost_lockfree",
                 "ring/moodycamel"]:
        b = get(name)
        if b:
            out.append(f"| {name} | {ns(b):.1f} | {ns(b) / ns(ref):.2f}x |")

    out.append("\n### Contended: limit = threads / 2, 2 cores\n")
    out.append("| benchmark | threads | ops / s | vs std_counting_semaphore | p99 per op | "
               "acquires that queued |")
    out.append("|---|---:|---:|---:|---:|---:|")
    for t in (2, 4):
        base = get(f"contended/std_counting_semaphore/real_time/threads:{t}")
        for subj in ["slotgate", "slotgate_parked", "slotgate_try_yield", "std_counting_semaphore",
                     "fifo_fair_semaphore", "mutex_condvar_semaphore"]:
            b = get(f"contended/{subj}/real_time/threads:{t}")
            if not b or not base:
                continue
            ips = b.get("items_per_second", 0)
            q = b.get("queued_share")
            out.append(f"| contended/{subj} | {t} | {ips / 1e6:.2f} M | "
                       f"{ips / base['items_per_second']:.2f}x | {b.get('p99_ns', 0):.0f} ns | "
                       f"{'' if q is None else f'{100 * q:.1f}%'} |")

    out.append("\n### 64 threads on one slot, parked (slotgate's spinning off)\n")
    out.append("| benchmark | ops / s | vs fifo_fair_semaphore | p99 per op | futex wake calls "
               "per queued grant | threads woken per queued grant |")
    out.append("|---|---:|---:|---:|---:|---:|")
    base = get("sleepers64/fifo_fair_semaphore/real_time/threads:64")
    for subj in ["slotgate", "fifo_fair_semaphore", "std_counting_semaphore"]:
        b = get(f"sleepers64/{subj}/real_time/threads:64")
        if not b or not base:
            continue
        ips = b.get("items_per_second", 0)
        calls = b.get("wake_calls_per_queued_grant")
        woken = b.get("woken_per_queued_grant")
        out.append(f"| sleepers64/{subj} | {ips / 1e3:.1f} k | "
                   f"{ips / base['items_per_second']:.2f}x | {b.get('p99_ns', 0) / 1e3:.0f} us | "
                   f"{'' if calls is None else f'{calls:.3f}'} | "
                   f"{'' if woken is None else f'{woken:.3f}'} |")

    out.append("\n### Hand-off: release to a blocked acquirer running again\n")
    out.append("| benchmark | wake-up latency | vs std_counting_semaphore |")
    out.append("|---|---:|---:|")
    base = get("handoff/std_counting_semaphore/manual_time")
    for subj in ["slotgate", "std_counting_semaphore", "mutex_condvar_semaphore"]:
        b = get(f"handoff/{subj}/manual_time")
        if b and base:
            out.append(f"| handoff/{subj} | {ns(b) / 1e3:.1f} us | {ns(b) / ns(base):.2f}x |")

    if icount:
        out.append("\n### Instructions per operation (callgrind, the stable figure)\n")
        out.append("| path | instructions | vs floor/cas_pair |")
        out.append("|---|---:|---:|")
        f = icount.get("floor/cas_pair")
        for name, ir in icount.items():
            out.append(f"| {name} | {ir:.1f} | {ir / f:.2f}x |" if f else f"| {name} | {ir:.1f} | |")

    goals = []

    def goal(text, ok):
        goals.append(f"- [{'x' if ok else ' '}] {text}")

    sg = get("slotgate/try_acquire_release")
    if sg and floor:
        goal(f"slotgate/try_acquire_release <= 3x floor/cas_pair ({ns(sg) / ns(floor):.2f}x)",
             ns(sg) <= 3 * ns(floor))
        for other in ["std_counting_semaphore/try_acquire_release", "posix_sem/try_acquire_release"]:
            o = get(other)
            if o:
                goal(f"slotgate/try_acquire_release faster than {other.split('/')[0]} "
                     f"({ns(sg):.1f} vs {ns(o):.1f} ns)", ns(sg) < ns(o))
    rs, rv, rm = get("ring/slotgate"), get("ring/vyukov_reference"), get("ring/moodycamel")
    if rs and rv:
        goal(f"ring/slotgate within 1.5x of ring/vyukov_reference ({ns(rs) / ns(rv):.2f}x)",
             ns(rs) <= 1.5 * ns(rv))
    if rs and rm:
        goal(f"ring/slotgate no slower than ring/moodycamel ({ns(rs):.1f} vs {ns(rm):.1f} ns)",
             ns(rs) <= ns(rm))
    std_sem = get("std_counting_semaphore/try_acquire_release")
    if sg and std_sem:
        goal(f"uncontended slotgate <= 1.0x std_counting_semaphore "
             f"({ns(sg) / ns(std_sem):.2f}x)", ns(sg) <= ns(std_sem))
        basic = get("slotgate/try_acquire_release_basic_port")
        if basic:
            goal(f"uncontended slotgate on a port without a usage source (posix BasicPort) <= 1.0x "
                 f"std_counting_semaphore ({ns(basic) / ns(std_sem):.2f}x)",
                 ns(basic) <= ns(std_sem))
        for fl in ["floor/checked_pair", "floor/stamped_pair", "floor/protocol_pair"]:
            f = get(fl)
            if f:
                goal(f"{fl} <= 1.0x std_counting_semaphore ({ns(f) / ns(std_sem):.2f}x; "
                     f"slotgate is {ns(sg) / ns(f):.2f}x it)", ns(f) <= ns(std_sem))
    a = get("contended/slotgate/real_time/threads:2")
    b = get("contended/std_counting_semaphore/real_time/threads:2")
    if a and b:
        r = a["items_per_second"] / b["items_per_second"]
        goal(f"contended at 2 threads >= 0.5x std_counting_semaphore ({r:.2f}x)", r >= 0.5)
    b = get("contended/fifo_fair_semaphore/real_time/threads:4")
    for subj, what in [("slotgate", "contended"),
                       ("slotgate_parked", "strictly FIFO (spinning off)")]:
        a = get(f"contended/{subj}/real_time/threads:4")
        if a and b:
            r = a["items_per_second"] / b["items_per_second"]
            goal(f"{what} at 4 threads >= fifo_fair_semaphore ({r:.2f}x; p99 "
                 f"{a.get('p99_ns', 0):.0f} vs {b.get('p99_ns', 0):.0f} ns)", r >= 1.0)
    a = get("sleepers64/slotgate/real_time/threads:64")
    if a and a.get("wake_calls_per_queued_grant") is not None:
        w = a["wake_calls_per_queued_grant"]
        goal(f"one wake-up per grant with 64 parked ({w:.3f} wake calls per queued grant)",
             w <= 1.01)
    allocs = [(n, b.get("allocs")) for n, b in runs.items() if n.startswith(("slotgate/", "ring/slotgate"))]
    goal("zero heap allocations in every slotgate benchmark (" +
         ", ".join(f"{n}: {int(a)}" for n, a in allocs if a is not None) + ")",
         all(a == 0 for _, a in allocs if a is not None))
    out.append("\n### Goals\n")
    out.extend(goals)
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
