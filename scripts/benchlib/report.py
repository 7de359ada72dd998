"""The comparison table, the machine it ran on, the targets of issue 5, and BENCHMARKS.md."""
import datetime
import os
import platform
import subprocess

COLUMNS = [
    ("server", "{server}"), ("c", "{concurrency}"), ("flows", "{flows}"), ("ok", "{succeeded}"),
    ("flows/s", "{flows_per_second:.1f}"), ("p50 ms", "{p50:.1f}"), ("p99 ms", "{p99:.1f}"),
    ("CPU ms/flow", "{cpu_per_flow}"), ("server+PG", "{cpu_split}"), ("peak RSS MB", "{rss_mb:.1f}"),
    ("errors", "{errors}"), ("stalls", "{stalled}"), ("tool ms/flow", "{tool_ms_per_flow:.2f}"),
    ("tool cores", "{tool_cores:.2f}"), ("commits/flow", "{commits_per_flow}"),
    ("stmts/flow", "{statements_per_flow}"), ("round trips/flow", "{round_trips_per_flow}"),
    ("ctx switches/flow server + PG", "{switches_per_flow}"), ("logs, pool", "{setup}"), ("note", "{note}"),
]


def _cell(result, template):
    try:
        return template.format(**result)
    except (KeyError, ValueError, TypeError):
        return "-"


def table(results):
    """A GitHub-flavoured Markdown table, one row per run."""
    head = "| " + " | ".join(name for name, _ in COLUMNS) + " |"
    rule = "|" + "|".join("---" for _ in COLUMNS) + "|"
    rows = ["| " + " | ".join(_cell(r, t) for _, t in COLUMNS) + " |" for r in results]
    return "\n".join([head, rule] + rows)


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(next(l for l in f if l.startswith("MemTotal:")).split()[1])
    return {"cores": os.cpu_count(), "memory_gb": round(mem_kb / 1048576, 1), "cpu": model,
            "kernel": platform.release()}


def _git_revision(repo):
    out = subprocess.run(["git", "-C", repo, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def targets(results):
    """Lines on the targets of issue 5, from this run's rows (None where a row is missing)."""
    def row(server, c, long=False):
        for r in results:
            if r["server"] == server and r["concurrency"] == c and r.get("long", False) == long and not r.get("frozen"):
                return r
        return None

    lines = []
    ours = [r for r in results if r["server"] == "acmeeh" and isinstance(r.get("cpu_per_flow_value"), float)]
    if ours:
        worst = max(r["cpu_per_flow_value"] for r in ours)
        lines.append("- server CPU per flow incl. PostgreSQL ≤ 8 ms: worst run %.1f ms — %s"
                     % (worst, "met" if worst <= 8 else "not met"))
    a32, ref32, peb32 = row("acmeeh", 32), row("reference", 32), row("pebble", 32)
    if a32 and ref32 and ref32["flows_per_second"] > 0:
        ratio = a32["flows_per_second"] / ref32["flows_per_second"]
        lines.append("- c=32 at least 10× the reference: %.1f× — %s" % (ratio, "met" if ratio >= 10 else "not met"))
    if a32 and not peb32 and any(r["server"] == "pebble" and r["concurrency"] == 32 for r in results):
        lines.append("- c=32 at least Pebble's flows/s: Pebble froze at c=32 (every attempt), no rate to compare")
    if a32 and peb32:
        lines.append("- c=32 at least Pebble's flows/s: %.1f vs %.1f — %s" % (
            a32["flows_per_second"], peb32["flows_per_second"],
            "met" if a32["flows_per_second"] >= peb32["flows_per_second"] else "not met"))
    a8 = row("acmeeh", 8)
    if a8:
        lines.append("- p99 of a flow at c=8 < 100 ms: %.1f ms — %s" % (a8["p99"], "met" if a8["p99"] < 100 else "not met"))
    if a32:
        lines.append("- peak RSS at c=32 < 60 MB: %.1f MB — %s" % (a32["rss_mb"], "met" if a32["rss_mb"] < 60 else "not met"))
    long_run = row("acmeeh", 32, long=True)
    if long_run:
        clean = long_run["errors_total"] == 0 and long_run["stalled"] == 0
        lines.append("- %d flows at c=32 with zero errors and stalls: %d errors, %d stalled — %s" % (
            long_run["flows"], long_run["errors_total"], long_run["stalled"], "met" if clean else "not met"))
    return lines


def write_benchmarks(path, repo, results, settings):
    m = machine()
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = [
        "# Benchmarks",
        "",
        "Written by `scripts/bench` (do not edit by hand). Full ACME issuance flows driven by",
        "`acmeeh-bench`: a new account per flow, newOrder for %d name(s), http-01 validated at the" % settings["names"],
        "tool's own responder on loopback, finalize with a fresh %s key's CSR, certificate download" % settings["key"],
        "and check. Every server shares this one machine and one PostgreSQL cluster with the tool.",
        "",
        "- date: %s" % now,
        "- machine: %d cores (%s), %.1f GB memory, Linux %s" % (m["cores"], m["cpu"], m["memory_gb"], m["kernel"]),
        "- acmeeh: commit %s, release build" % _git_revision(repo),
        "- command: `%s`" % settings["command"],
        "",
        table(results),
        "",
        "Columns: flows/s counts successful flows over the run's wall time; p50/p99 are whole-flow",
        "latencies; CPU ms/flow is user+system time of the server's process tree plus every",
        "PostgreSQL process (exited backends included, through the postmaster's cutime/cstime),",
        "from /proc, divided by successful flows (server+PG shows the split); peak RSS is VmHWM",
        "summed over the server's processes (PostgreSQL not included); tool columns are",
        "acmeeh-bench's own getrusage; commits/flow is the pg_stat_database xact_commit delta and",
        "stmts/flow the pg_stat_statements calls (BEGIN/COMMIT included), both over the",
        "non-system databases; round trips/flow is the server's own count (/healthz, acmeeh",
        "only); ctx switches/flow sums voluntary and involuntary switches of every thread of the",
        "server and of the PostgreSQL processes alive at the end (backends that exited are not",
        "counted); \"logs, pool\" is the server's log level, whether PostgreSQL ran durable",
        "(fsync and synchronous_commit on; otherwise both off) and the sessions the server held",
        "open at the end. Each run follows a warm-up (not measured) and VACUUM ANALYZE. A run",
        "whose server stops making progress is stopped and reported as frozen, then retried",
        "once on a restarted server.",
        "",
    ]
    lines = targets(results)
    if lines:
        text += ["## Targets of issue 5 (this run)", ""] + lines + [""]
    notes = list(settings.get("notes", []))
    for r in results:
        samples = r.get("raw", {}).get("error_samples") or []
        if samples:
            notes.append("%s c=%d flows=%d, first error: %s" % (r["server"], r["concurrency"], r["flows"], samples[0]))
    if notes:
        text += ["## Notes", ""] + ["- " + n for n in notes] + [""]
    with open(path, "w") as f:
        f.write("\n".join(text))
