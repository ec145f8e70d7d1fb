#!/usr/bin/env python3
"""Times `palisade scan` (and optionally Checkov) on generated corpora; prints Markdown.

Called by bench/run.sh, which builds the binary and generates the corpora first.
Python 3 standard library only.

Each timed run is `/usr/bin/time -v CMD`, with the wall time taken around it
with time.perf_counter() and the peak RSS read from the "Maximum resident set
size" line. One untimed warm-up run per corpus comes first, so every timed run
reads the corpus from the page cache.
"""

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time

MB = 1_000_000


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return ""


def machine():
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_kb = 0
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "mem_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "loadavg": open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else [],
    }


def tree_pss_kb(root_pid):
    """Sum of PSS (or RSS when smaps_rollup is unreadable) over root_pid and its descendants."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            children.setdefault(ppid, []).append(int(entry))
        except (OSError, ValueError):
            continue
    total = 0
    stack = [root_pid]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def timed(cmd, stdout_path=os.devnull, timeout=None, sample_tree=False):
    """Runs cmd under /usr/bin/time -v. Returns dict(wall, rss_kb, rc, tree_pss_kb, stderr)."""
    full = ["/usr/bin/time", "-v"] + cmd
    with open(stdout_path, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(full, stdout=out, stderr=subprocess.PIPE)
        peak = [0]
        stop = threading.Event()

        def sampler():
            while not stop.wait(0.1):
                peak[0] = max(peak[0], tree_pss_kb(proc.pid))

        thread = None
        if sample_tree:
            thread = threading.Thread(target=sampler, daemon=True)
            thread.start()
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        wall = time.perf_counter() - start
        stop.set()
        if thread:
            thread.join()
    err = err.decode("utf-8", "replace")
    rss = None
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    if m:
        rss = int(m.group(1))
    cpu = None
    mu = re.search(r"User time \(seconds\): ([\d.]+)", err)
    ms = re.search(r"System time \(seconds\): ([\d.]+)", err)
    if mu and ms:
        cpu = float(mu.group(1)) + float(ms.group(1))
    rc = proc.returncode
    m = re.search(r"Exit status: (\d+)", err)
    if m:
        rc = int(m.group(1))
    m = re.search(r"Command terminated by signal (\d+)", err)
    if m:
        rc = 128 + int(m.group(1))
    return {"wall": wall, "cpu": cpu, "rss_kb": rss, "rc": rc, "tree_pss_kb": peak[0] or None, "stderr": err}


def fmt_time(s):
    return f"{s * 1000:.0f} ms" if s < 10 else f"{s:.1f} s"


def fmt_mb(kb):
    return "n/a" if kb is None else f"{kb / 1024:.0f} MiB"


def fmt_rate(x):
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.1f}"


def corpus_info(path):
    with open(path.rstrip("/") + ".summary.json", encoding="utf-8") as f:
        return json.load(f)


def report_summary(path):
    """Counts from a palisade JSON report, read defensively (the schema is palisade's)."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    out = {}

    def walk(node, prefix=""):
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool) and prefix in ("", "summary."):
                    out[prefix + k] = v
                elif isinstance(v, dict) and k in ("summary", "counts", "totals"):
                    walk(v, prefix + k + ".")
                elif isinstance(v, list) and k in ("findings", "errors", "input_errors", "inputErrors", "objects"):
                    out[prefix + k + ".len"] = len(v)
    walk(data)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--corpus-dir", required=True)
    ap.add_argument("--sizes", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--checkov", default="")
    ap.add_argument("--peer-sizes", default="1000")
    ap.add_argument("--peer-runs", type=int, default=3)
    ap.add_argument("--peer-timeout", default="1000:900,*:600",
                    help="per-size timeouts in seconds, SIZE:SECONDS,... with * for the rest")
    ap.add_argument("--single-files", default="",
                    help="LABEL=FILE ... : single-file corpora scanned with -o json and -o table")
    ap.add_argument("--single-timeout", type=int, default=600)
    ap.add_argument("--git-label", default="", help="what was built, when not the work tree")
    ap.add_argument("--out-dir", required=True)
    args = ap.parse_args()

    sizes = [int(s) for s in args.sizes.split()]
    peer_sizes = [int(s) for s in args.peer_sizes.split()] if args.checkov else []
    timeouts = {}
    for part in args.peer_timeout.split(","):
        k, v = part.split(":")
        timeouts[k.strip()] = int(v)
    os.makedirs(args.out_dir, exist_ok=True)
    log = open(os.path.join(args.out_dir, "measure.log"), "w", encoding="utf-8")

    def note(msg):
        print(msg, file=sys.stderr, flush=True)
        log.write(msg + "\n")
        log.flush()

    env = machine()
    env["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    env["palisade_version"] = sh(f"{args.bin} --version")
    env["rustc"] = sh("rustc --version")
    env["git"] = sh("git -C '%s' rev-parse --short HEAD" % os.path.dirname(os.path.abspath(__file__))) + (
        " (dirty tree)" if sh("git -C '%s' status --porcelain --untracked-files=no" % os.path.dirname(os.path.abspath(__file__))) else "")
    if args.git_label:
        env["git"] = args.git_label
    if args.checkov:
        env["checkov_version"] = sh(f"{args.checkov} --version")
    note(f"machine: {json.dumps(env)}")

    results = {"machine": env, "palisade": [], "checkov": []}
    for n in sizes:
        corpus = os.path.join(args.corpus_dir, str(n))
        info = corpus_info(corpus)
        cmd = [args.bin, "scan", corpus, "-o", "json", "--out", "/dev/null"]
        # Untimed: a report kept for sanity checks (counts of findings / errors), and the warm-up.
        report_path = os.path.join(args.out_dir, f"palisade-{n}.json")
        first = timed([args.bin, "scan", corpus, "-o", "json", "--out", report_path])
        counts = report_summary(report_path)
        note(f"palisade {n}: warm-up rc={first['rc']} {first['wall']:.3f}s report={counts}")
        if first["rc"] not in (0, 1):
            note(f"  exit {first['rc']}: stderr tail:\n{first['stderr'][-2000:]}")
        runs = []
        for i in range(args.runs):
            r = timed(cmd)
            runs.append(r)
            note(f"palisade {n}: run {i + 1}/{args.runs}: {r['wall']:.3f}s cpu={r['cpu']}s rss={r['rss_kb']}KiB rc={r['rc']}")
        walls = [r["wall"] for r in runs]
        med = statistics.median(walls)
        rss = max(r["rss_kb"] or 0 for r in runs)
        results["palisade"].append({
            "size": n, "objects": info["objects"], "workloads": info["workloads"], "files": info["files"],
            "bytes": info["bytes"], "walls": walls, "median": med, "min": min(walls), "max": max(walls),
            "cpu_median": statistics.median(r["cpu"] or 0 for r in runs),
            "rss_kb": rss, "rcs": sorted({r["rc"] for r in runs}), "report": counts,
        })

    results["single"] = []
    for spec in args.single_files.split():
        label, path = spec.split("=", 1)
        info = corpus_info(os.path.dirname(path))
        for fmt in ("json", "table"):
            cmd = ["timeout", str(args.single_timeout), args.bin, "scan", path, "-o", fmt, "--out", "/dev/null"]
            runs = []
            for i in range(3):
                r = timed(cmd)
                runs.append(r)
                note(f"single {label} -o {fmt}: run {i + 1}: {r['wall']:.3f}s cpu={r['cpu']}s "
                     f"rss={r['rss_kb']}KiB rc={r['rc']}")
                if r["wall"] > 10 or r["rc"] == 124:
                    break
            ok = [r for r in runs if r["rc"] != 124]
            results["single"].append({
                "label": label, "format": fmt, "objects": info["objects"], "bytes": info["bytes"],
                "timed_out": len(ok) < len(runs), "timeout": args.single_timeout,
                "median": statistics.median(r["wall"] for r in ok) if ok else None,
                "cpu_median": statistics.median(r["cpu"] or 0 for r in ok) if ok else None,
                "runs": len(runs), "rss_kb": max(r["rss_kb"] or 0 for r in runs),
                "rcs": sorted({r["rc"] for r in runs}),
            })

    for n in peer_sizes:
        corpus = os.path.join(args.corpus_dir, str(n))
        if not os.path.isdir(corpus):
            note(f"checkov {n}: no corpus, skipped")
            continue
        info = corpus_info(corpus)
        limit = timeouts.get(str(n), timeouts.get("*", 600))
        cmd = ["timeout", str(limit), args.checkov, "-d", corpus, "--framework", "kubernetes",
               "--quiet", "--compact", "-o", "json"]
        runs = []
        n_runs = args.peer_runs if n == min(peer_sizes) else 1
        for i in range(n_runs):
            out_path = os.path.join(args.out_dir, f"checkov-{n}.json") if i == 0 else os.devnull
            r = timed(cmd, stdout_path=out_path, timeout=limit + 60, sample_tree=True)
            runs.append(r)
            note(f"checkov {n}: run {i + 1}/{n_runs}: {r['wall']:.1f}s cpu={r['cpu']}s rss={r['rss_kb']}KiB "
                 f"tree_pss={r['tree_pss_kb']}KiB rc={r['rc']}")
            if r["rc"] == 124:
                break
            if r["rc"] not in (0, 1):
                note(f"  stderr tail:\n{r['stderr'][-2000:]}")
        timed_out = any(r["rc"] == 124 for r in runs)
        walls = [r["wall"] for r in runs if r["rc"] != 124]
        results["checkov"].append({
            "size": n, "objects": info["objects"], "bytes": info["bytes"], "timeout": limit,
            "timed_out": timed_out, "walls": walls,
            "median": statistics.median(walls) if walls else None,
            "cpu_median": statistics.median(r["cpu"] or 0 for r in runs if r["rc"] != 124) if walls else None,
            "rss_kb": max((r["rss_kb"] or 0) for r in runs),
            "tree_pss_kb": max((r["tree_pss_kb"] or 0) for r in runs) or None,
            "rcs": sorted({r["rc"] for r in runs}),
        })

    env["loadavg_after"] = machine()["loadavg"]
    with open(os.path.join(args.out_dir, "results.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    md = render(results, args)
    with open(os.path.join(args.out_dir, "results.md"), "w", encoding="utf-8") as f:
        f.write(md)
    print(md)
    bad = [p for p in results["palisade"] if any(rc not in (0, 1) for rc in p["rcs"])]
    return 3 if bad else 0


def render(results, args):
    env = results["machine"]
    lines = []
    lines.append(f"Measured {env['date']} on {env['nproc']} CPUs ({env['cpu']}), {env['mem_gib']} GiB RAM, "
                 f"Linux {env['kernel']}; load average before {' '.join(env['loadavg'])}, "
                 f"after {' '.join(env.get('loadavg_after', []))}.")
    lines.append(f"{env['palisade_version']} (git {env['git']}), {env['rustc']}.")
    if env.get("checkov_version"):
        lines.append(f"Checkov {env['checkov_version']}.")
    lines.append("")
    lines.append(f"palisade: `palisade scan DIR -o json --out /dev/null`, median of {args.runs} runs after one warm-up "
                 "(min-max in brackets); CPU time is user+sys (median); peak RSS is the largest \"Maximum resident set size\" "
                 "of `/usr/bin/time -v` over the runs. MB = 10^6 bytes of manifest text.")
    lines.append("")
    lines.append("| Objects | Files | Input | Wall time, median (min-max) | CPU time | Objects/s | MB/s | Peak RSS | Exit |")
    lines.append("|---:|---:|---:|---|---:|---:|---:|---:|---|")
    for p in results["palisade"]:
        lines.append(
            f"| {p['objects']:,} | {p['files']:,} | {p['bytes'] / MB:.1f} MB | {fmt_time(p['median'])} "
            f"({fmt_time(p['min'])}-{fmt_time(p['max'])}) | {fmt_time(p['cpu_median'])} | {fmt_rate(p['objects'] / p['median'])} | "
            f"{fmt_rate(p['bytes'] / MB / p['median'])} | {fmt_mb(p['rss_kb'])} | {', '.join(map(str, p['rcs']))} |")
    lines.append("")
    pal = results["palisade"]
    if len(pal) >= 2:
        base = pal[0]
        base_per = base["median"] / base["objects"]
        lines.append("Growth (time per object relative to the smallest corpus; 1.00 = linear; "
                     "below 1 means fixed start-up cost is being amortised):")
        lines.append("")
        lines.append("| Objects | Time per object | Relative to smallest | Marginal time per added object |")
        lines.append("|---:|---:|---:|---:|")
        prev = None
        for p in pal:
            per = p["median"] / p["objects"]
            marginal = ""
            if prev is not None:
                marginal = f"{(p['median'] - prev['median']) / (p['objects'] - prev['objects']) * 1e6:.1f} µs"
            lines.append(f"| {p['objects']:,} | {per * 1e6:.1f} µs | {per / base_per:.2f} | {marginal} |")
            prev = p
        last = pal[-1]
        lines.append("")
        lines.append(f"Growth ratio (time per object at {last['objects']:,} vs {base['objects']:,}): "
                     f"**{(last['median'] / last['objects']) / base_per:.2f}**.")
        lines.append("")
    if results.get("single"):
        lines.append("One file holding every object (`--layout list`: one `kind: List` document, as "
                     "`kubectl get -A -o yaml` prints; `--layout stream`: one multi-document file, as "
                     "`helm template` prints), scanned with `-o json` and with `-o table` (the default), "
                     "output to /dev/null; median of up to 3 runs (1 when a run takes over 10 s):")
        lines.append("")
        lines.append("| Corpus | Objects | Input | Output | Wall time | CPU time | Peak RSS | Exit |")
        lines.append("|---|---:|---:|---|---:|---:|---:|---|")
        for x in results["single"]:
            wall = f"did not finish in {x['timeout']} s" if x["median"] is None else \
                fmt_time(x["median"]) + (f" ({x['runs']} runs)" if x["runs"] > 1 else " (1 run)")
            cpu = fmt_time(x["cpu_median"]) if x["cpu_median"] is not None else "n/a"
            lines.append(f"| {x['label']} | {x['objects']:,} | {x['bytes'] / MB:.1f} MB | `-o {x['format']}` | "
                         f"{wall} | {cpu} | {fmt_mb(x['rss_kb'])} | {', '.join(map(str, x['rcs']))} |")
        lines.append("")
    if results["checkov"]:
        lines.append("Checkov, same corpora, same run: `timeout T checkov -d DIR --framework kubernetes --quiet "
                     "--compact -o json > /dev/null`. Peak RSS is the largest single process (`/usr/bin/time -v`); "
                     "Checkov forks workers, so the summed PSS of its process tree (sampled every 0.1 s) is shown too.")
        lines.append("")
        lines.append("| Objects | Checkov wall time | Checkov CPU time | Checkov peak RSS (largest process) "
                     "| Checkov peak PSS (process tree) | palisade wall time | palisade / Checkov time "
                     "| palisade / Checkov peak RSS |")
        lines.append("|---:|---|---:|---:|---:|---|---:|---:|")
        by_size = {p["size"]: p for p in pal}
        for c in results["checkov"]:
            p = by_size.get(c["size"])
            if c["timed_out"]:
                wall = f"did not finish in {c['timeout']} s"
            else:
                wall = fmt_time(c["median"]) + (f" (median of {len(c['walls'])})" if len(c["walls"]) > 1 else " (1 run)")
            ratio = rss_ratio = "n/a"
            if p and c["median"]:
                ratio = f"{p['median'] / c['median']:.4f} (Checkov {c['median'] / p['median']:,.0f}x slower)"
            elif p and c["timed_out"]:
                ratio = f"< {p['median'] / c['timeout']:.4f}"
            if p and c["rss_kb"]:
                rss_ratio = f"{p['rss_kb'] / c['rss_kb']:.2f}"
            pal_wall = fmt_time(p["median"]) if p else "not measured"
            cpu = fmt_time(c["cpu_median"]) if c["cpu_median"] else "n/a"
            lines.append(f"| {c['objects']:,} | {wall} | {cpu} | {fmt_mb(c['rss_kb'])} | {fmt_mb(c['tree_pss_kb'])} | "
                         f"{pal_wall} | {ratio} | {rss_ratio} |")
        lines.append("")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
