"""`lake describe ID --graph FILE.svg`: the workflow drawn like the Step Functions console's
graph view, each state coloured by what happened in one execution.

Hand-written SVG (no graphviz): states are boxes stacked in the order the workflow reaches
them from StartAt, between a Start and an End marker; transitions are arrows (Next, Choice
branches and Default solid, Catch dashed), arrows that skip boxes bend around on the right.
A Map state holds its item processor's states in a dashed frame (and, for a Distributed Map, its
Map Run's item counts as DescribeMapRun gives them); a Parallel state holds its branches side by
side, as the console draws them."""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

from lake.runtime import ExecutionRecord
from lake.ui.timeline import CAUGHT, FAILED, NOT_REACHED, RUNNING, SUCCEEDED, Timeline

# (stroke, fill) per outcome, close to the console's palette.
COLOURS = {
    SUCCEEDED: ("#2e7d32", "#e6f4ea"),
    FAILED: ("#c62828", "#fdecea"),
    RUNNING: ("#1565c0", "#e3f0fd"),
    CAUGHT: ("#e67700", "#fff4e0"),
    NOT_REACHED: ("#9e9e9e", "#f5f5f5"),
}
LEGEND = (
    (SUCCEEDED, "Succeeded"),
    (FAILED, "Failed"),
    (RUNNING, "In progress"),
    (CAUGHT, "Caught error / retried"),
    (NOT_REACHED, "Not reached"),
)
BOX_W, BOX_H, GAP, MARGIN, TOP = 280, 62, 40, 40, 70
INNER_H, INNER_GAP, FRAME_PAD = 22, 6, 10  # the states inside a Map or Parallel state


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str = ""
    dashed: bool = False


def state_order(states: dict[str, dict], start_at: str) -> list[str]:
    """States in the order the workflow reaches them (breadth-first from StartAt), then any
    others in definition order."""
    order: list[str] = []
    queue = [start_at]
    while queue:
        name = queue.pop(0)
        if name in order or name not in states:
            continue
        order.append(name)
        queue.extend(edge.target for edge in _edges_of(name, states[name]))
    return order + [n for n in states if n not in order]


def _edges_of(name: str, state: dict) -> list[Edge]:
    edges = []
    if "Next" in state:
        edges.append(Edge(name, state["Next"]))
    for choice in state.get("Choices", []):
        edges.append(Edge(name, choice["Next"], "choice"))
    if "Default" in state:
        edges.append(Edge(name, state["Default"], "default"))
    for catcher in state.get("Catch", []):
        edges.append(Edge(name, catcher["Next"], "catch", dashed=True))
    if state.get("End") or state.get("Type") in ("Succeed", "Fail"):
        edges.append(Edge(name, "End"))
    return edges


def inner_machines(state: dict) -> list[dict]:
    """The machines a state holds: a Map's item processor, a Parallel's branches (else [])."""
    if state.get("Type") == "Map":
        processor = state.get("ItemProcessor") or state.get("Iterator")
        return [processor] if processor else []
    if state.get("Type") == "Parallel":
        return list(state.get("Branches", []))
    return []


def _box_height(state: dict) -> float:
    machines = inner_machines(state)
    if not machines:
        return BOX_H
    rows = max(len(m.get("States", {})) for m in machines)
    return BOX_H + 2 * FRAME_PAD + rows * (INNER_H + INNER_GAP) + 16


def _count_line(counts: dict[str, int]) -> str:
    parts = [f"{counts.get(k, 0)} {k}" for k in ("succeeded", "failed", "running") if counts.get(k)]
    for kind in ("timedOut", "aborted", "pending"):
        if counts.get(kind):
            parts.append(f"{counts[kind]} {kind}")
    return f"items: {', '.join(parts) or 'none yet'} of {counts.get('total', 0)}"


def _inner(
    state: dict, x: float, y: float, counts: dict[str, int] | None, stroke: str
) -> list[str]:
    """The frame inside a Map or Parallel box, with its states in small boxes."""
    machines = inner_machines(state)
    top = y + BOX_H - 6
    height = _box_height(state) - BOX_H - 4
    frame_x, frame_w = x + 12, BOX_W - 24
    mode = ((machines[0].get("ProcessorConfig") or {}).get("Mode") if machines else None) or ""
    label = "branches" if state["Type"] == "Parallel" else f"each item ({mode.lower() or 'inline'})"
    parts = [
        f'<rect x="{frame_x}" y="{top}" width="{frame_w}" height="{height}" rx="4" '
        f'fill="white" stroke="{stroke}" stroke-width="1" stroke-dasharray="4,3"/>',
        f'<text x="{frame_x + 6}" y="{top + 12}" font-size="9" fill="#666">{escape(label)}</text>',
    ]
    column_w = (frame_w - FRAME_PAD * (len(machines) + 1)) / max(len(machines), 1)
    for column, machine in enumerate(machines):
        cx = frame_x + FRAME_PAD + column * (column_w + FRAME_PAD)
        names = state_order(machine.get("States", {}), machine.get("StartAt", ""))
        for row, name in enumerate(names):
            iy = top + 16 + row * (INNER_H + INNER_GAP)
            parts.append(
                f'<rect x="{cx}" y="{iy}" width="{column_w}" height="{INNER_H}" rx="3" '
                f'fill="#fafafa" stroke="#9e9e9e" stroke-width="1"/>'
                f'<text x="{cx + column_w / 2}" y="{iy + 15}" font-size="10" '
                f'text-anchor="middle">{escape(name[:28])}</text>'
            )
    if counts is not None:
        parts.append(
            f'<text x="{x + BOX_W / 2}" y="{y + _box_height(state) - 4}" font-size="10" '
            f'fill="{stroke}" text-anchor="middle">{escape(_count_line(counts))}</text>'
        )
    return parts


def execution_svg(
    record: ExecutionRecord,
    states: dict[str, dict],
    start_at: str,
    timeline: Timeline,
    map_runs: dict[str, dict[str, int]] | None = None,
) -> str:
    """The graph of one execution, titled with its name and status, its state machine and the
    file it is about (`lake describe --graph` and the console draw the same)."""
    machine = record.state_machine_arn.rsplit(":", 1)[-1]
    return render_svg(
        states,
        start_at,
        timeline,
        title=f"{record.name} — {record.status}",
        subtitle=f"{machine} · {record.source_key or ''}",
        map_runs=map_runs,
    )


def render_svg(
    states: dict[str, dict],
    start_at: str,
    timeline: Timeline,
    title: str,
    subtitle: str = "",
    map_runs: dict[str, dict[str, int]] | None = None,
) -> str:
    """The SVG document of the workflow coloured by `timeline`. `map_runs` gives, per
    Distributed Map state, its Map Run's item counts (DescribeMapRun's itemCounts)."""
    order = ["Start", *state_order(states, start_at), "End"]
    row = {name: i for i, name in enumerate(order)}
    heights = {n: 28 if n in ("Start", "End") else _box_height(states[n]) for n in order}
    tops: dict[str, float] = {}
    y = TOP
    for name in order:
        tops[name] = y
        y += max(heights[name], BOX_H) + GAP
    edges = [Edge("Start", start_at)] + [
        e for n in order[1:-1] for e in _edges_of(n, states[n]) if e.target in row
    ]
    detours = sum(1 for e in edges if row[e.target] != row[e.source] + 1)
    width = max(2 * MARGIN + BOX_W + 28 * detours + 40, 640)  # room for the legend
    x = (width - BOX_W - 28 * detours) / 2
    cx = x + BOX_W / 2
    height = y + 20

    def top(name: str) -> float:
        return tops[name]

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="Helvetica, Arial, sans-serif">',
        "<defs>"
        '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#555"/></marker></defs>',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{MARGIN}" y="30" font-size="17" font-weight="bold">{escape(title)}</text>',
        f'<text x="{MARGIN}" y="50" font-size="12" fill="#555">{escape(subtitle)}</text>',
    ]
    detour = 0
    for edge in edges:
        y1 = top(edge.source) + heights[edge.source]
        y2 = top(edge.target)
        dash = ' stroke-dasharray="6,4"' if edge.dashed else ""
        if row[edge.target] == row[edge.source] + 1:
            d = f"M{cx},{y1} L{cx},{y2 - 2}"
        else:
            detour += 1
            side = x + BOX_W + 24 * detour
            ys, ye = top(edge.source) + BOX_H / 2, top(edge.target) + BOX_H / 2
            d = f"M{x + BOX_W},{ys} L{side},{ys} L{side},{ye} L{x + BOX_W + 2},{ye}"
        parts.append(
            f'<path d="{d}" fill="none" stroke="#555" stroke-width="1.4"{dash} '
            'marker-end="url(#arrow)"/>'
        )
        if edge.label:
            ly = (
                (y1 + y2) / 2 if row[edge.target] == row[edge.source] + 1 else top(edge.source) + 18
            )
            lx = cx + 8 if row[edge.target] == row[edge.source] + 1 else x + BOX_W + 6
            parts.append(
                f'<text x="{lx}" y="{ly}" font-size="11" fill="#555">{escape(edge.label)}</text>'
            )
    for name in order:
        y = top(name)
        if name in ("Start", "End"):
            reached = _terminal_reached(name, timeline)
            stroke, fill = COLOURS[reached]
            parts.append(
                f'<rect x="{cx - 40}" y="{y}" width="80" height="28" rx="14" fill="{fill}" '
                f'stroke="{stroke}" stroke-width="1.5"/>'
                f'<text x="{cx}" y="{y + 18}" font-size="12" text-anchor="middle">{name}</text>'
            )
            continue
        run = timeline.states.get(name)
        outcome = run.status if run else NOT_REACHED
        stroke, fill = COLOURS[outcome]
        detail = states[name].get("Type", "")
        if run and run.seconds is not None:
            detail += f" · {run.seconds:.1f} s"
        if run and run.attempts > 1:
            detail += f" · {run.attempts} attempts"
        error = ""
        if run and run.last_error and outcome in (FAILED, CAUGHT):
            error = str(run.last_error.get("error", ""))[:40]
        inner = []
        if inner_machines(states[name]):
            counts = (map_runs or {}).get(name)
            inner = _inner(states[name], x, y, counts, stroke)
        parts.append(
            f"<g><title>{escape(name)}: {escape(outcome)}</title>"
            f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{heights[name]}" rx="6" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="2.2"/>'
            f'<text x="{cx}" y="{y + 22}" font-size="14" font-weight="bold" '
            f'text-anchor="middle">{escape(name)}</text>'
            f'<text x="{cx}" y="{y + 40}" font-size="11" fill="#444" '
            f'text-anchor="middle">{escape(detail)}</text>'
            f'<text x="{cx}" y="{y + 55}" font-size="10" fill="{stroke}" '
            f'text-anchor="middle">{escape(error)}</text>{"".join(inner)}</g>'
        )
    ly = height - 34
    lx = MARGIN
    for outcome, label in LEGEND:
        stroke, fill = COLOURS[outcome]
        parts.append(
            f'<rect x="{lx}" y="{ly}" width="14" height="14" rx="3" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="2"/>'
            f'<text x="{lx + 20}" y="{ly + 12}" font-size="11">{escape(label)}</text>'
        )
        lx += 34 + 6.2 * len(label)
    parts.append("</svg>")
    return "\n".join(parts)


def _terminal_reached(name: str, timeline: Timeline) -> str:
    if name == "Start":
        return SUCCEEDED
    return SUCCEEDED if timeline.status == "SUCCEEDED" else NOT_REACHED
