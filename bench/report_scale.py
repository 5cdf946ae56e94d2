"""The report's tables of issue 11 (Scale): its goals, the fresh-shell uploads, the burst, and the
projected Glue cost (rendered with bench.report's parts)."""

from __future__ import annotations

from bench import goals_scale, scale
from bench.report import Table, _num


def scale_goals_table(results: dict) -> Table:
    table = Table("Goals (issue 11: Scale)", ["goal", "verdict", "numbers"])
    for goal in goals_scale.evaluate(results):
        table.rows.append([goal.name, goal.verdict, goal.evidence])
    return table


def cold_start_table(results: dict) -> Table | None:
    cold = results.get("cold_start")
    if not cold:
        return None
    table = Table(
        f"`lake upload` from a new shell ({cold.get('rows', '?'):,} rows; the first on a fresh "
        "home starts the background engine, the next are served by it)"
        if isinstance(cold.get("rows"), int)
        else "`lake upload` from a new shell",
        ["upload", "end to end s"],
    )
    for label, seconds in (cold.get("steps") or {}).items():
        table.rows.append([label, _num(seconds)])
    if cold.get("error"):
        table.notes.append(f"error: {cold['error'][-500:]}")
    if "load_after" in cold:
        table.notes.append(f"Load average (1 min) after the uploads: {cold['load_after']:.2f}.")
    return table


def burst_table(results: dict) -> Table | None:
    burst = results.get("burst")
    if not burst:
        return None
    table = Table(
        "Burst: files dropped into the raw bucket at once under `lake watch`",
        [
            "files",
            "rows each",
            "drop -> last end s",
            "executions",
            "Glue runs queued",
            "longest wait s",
        ],
    )
    table.rows.append(
        [
            str(burst.get("files", "?")),
            f"{burst.get('rows_per_file', 0):,}",
            _num(burst.get("total_s"), "{:.1f}"),
            ", ".join(f"{k} {v}" for k, v in (burst.get("statuses") or {}).items()) or "–",
            str(burst.get("glue_runs_waited", "–")),
            _num(burst.get("glue_longest_wait_s"), "{:.1f}"),
        ]
    )
    for failed in burst.get("failed", [])[:5]:
        table.notes.append(f"{failed['key']}: {failed['status']} {failed.get('error') or ''}")
    if burst.get("error"):
        table.notes.append(f"error: {burst['error']}")
    return table


def glue_cost_table(results: dict) -> Table | None:
    if not results.get("transform"):
        return None
    projection = scale.glue_projection(results["transform"], int(results.get("local_cores", 2)))
    if projection.get("error"):
        return None
    table = Table(
        f"Projection: Glue cost from the work measured on {projection['input']} (ours, warm)",
        ["export GB", "G.1X workers", "projected run s", "billed s", "DPU-hours", "USD", "USD/GB"],
    )
    for p in projection["scenarios"]:
        table.rows.append(
            [
                f"{p['gb']:g}",
                str(p["workers"]),
                _num(p["wall_s"], "{:.0f}"),
                _num(p["billed_s"], "{:.0f}"),
                _num(p["dpu_hours"], "{:.3f}"),
                _num(p["usd"], "{:.3f}"),
                _num(p["usd_per_gb"], "{:.3f}"),
            ]
        )
    table.notes += [
        f"Measured: {projection['cpu_s']:.0f} CPU s over {projection['wall_s']:.0f} s wall on "
        f"{projection['input_bytes'] / 1e9:.2f} GB = "
        f"{projection['scenarios'][0]['cpu_s_per_gb']:.0f} CPU s per GB; "
        f"{projection['cores_used']:.2f} of {projection['local_cores']} cores busy on average.",
        f"Assumed: ${scale.DPU_HOUR_USD} per DPU-hour, billed per second with a "
        f"{scale.MINIMUM_BILLED_S:.0f} s minimum (https://aws.amazon.com/glue/pricing/, US East); "
        f"G.1X = 1 DPU = {scale.VCPUS_PER_G1X} vCPU, 16 GB "
        "(https://docs.aws.amazon.com/glue/latest/dg/worker-types.html); one worker is the driver, "
        "the others' vCPUs each do a local core's work and are busy the same share of the time as "
        f"here; {scale.GLUE_START_S:.0f} s of billed start-up (assumed, not measured); S3 "
        "reads and writes as fast as the local disk. Not measured on AWS: a projection.",
    ]
    return table
