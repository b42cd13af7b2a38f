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
    for name in ["floor/fetch_add_pair", "floor/cas_pair", "slotgate/try_acquire_release",
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
    for name in ["ring/slotgate", "ring/vyukov_reference", "ring/atomic_queue",
                 "ring/boost_lockfree", "ring/moodycamel"]:
        b = get(name)
        if b:
            out.append(f"| {name} | {ns(b):.1f} | {ns(b) / ns(ref):.2f}x |")

    out.append("\n### Contended: limit = threads / 2, 2 cores\n")
    out.append("| benchmark | threads | ops / s | vs std_counting_semaphore | p99 per op |")
    out.append("|---|---:|---:|---:|---:|")
    for t in (2, 4):
        base = get(f"contended/std_counting_semaphore/real_time/threads:{t}")
        for subj in ["slotgate", "slotgate_try_yield", "std_counting_semaphore",
                     "mutex_condvar_semaphore"]:
            b = get(f"contended/{subj}/real_time/threads:{t}")
            if not b or not base:
                continue
            ips = b.get("items_per_second", 0)
            out.append(f"| contended/{subj} | {t} | {ips / 1e6:.2f} M | "
                       f"{ips / base['items_per_second']:.2f}x | {b.get('p99_ns', 0):.0f} ns |")

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
    rs, rv, ra = get("ring/slotgate"), get("ring/vyukov_reference"), get("ring/atomic_queue")
    if rs and rv:
        goal(f"ring/slotgate within 1.5x of ring/vyukov_reference ({ns(rs) / ns(rv):.2f}x)",
             ns(rs) <= 1.5 * ns(rv))
    if rs and ra:
        goal(f"ring/slotgate no slower than ring/atomic_queue ({ns(rs):.1f} vs {ns(ra):.1f} ns)",
             ns(rs) <= ns(ra))
    for t in (2, 4):
        a = get(f"contended/slotgate/real_time/threads:{t}")
        b = get(f"contended/std_counting_semaphore/real_time/threads:{t}")
        if a and b:
            goal(f"contended throughput >= std_counting_semaphore at {t} threads "
                 f"({a['items_per_second'] / b['items_per_second']:.2f}x)",
                 a["items_per_second"] >= b["items_per_second"])
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
