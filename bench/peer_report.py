"""What `make bench-peer` prints: each shape's tables, the ratios to LiteLLM and
the verdicts against issue 16's targets (`bench/peer.py` measures)."""

from __future__ import annotations

from dataclasses import dataclass

# The cells of the tables: concurrency of the plain calls, and of the streams.
CONCURRENCY = (1, 16, 64)
STREAM_CONCURRENCY = (1, 64)


@dataclass(frozen=True)
class Plan:
    """How the run measured, for the tables' headings."""

    duration: str
    chunks: int
    sequential_streams: int
    stream_seconds: float
    rounds: int = 1


def _row(label: str, results: dict, kind: str, direct: dict | None = None) -> str:
    cells = []
    for connections in CONCURRENCY:
        cell = results[(kind, connections)]
        cells.append(
            f"{cell['p50']:7.2f} {cell['p99']:7.2f} {cell['rps']:7.0f} {cell['errors']:4d}"
        )
    added = ""
    if direct is not None:
        added = f" | {results[(kind, 1)]['p50'] - direct[('chat', 1)]['p50']:6.2f}"
    return f"{label:<34}| " + " | ".join(cells) + added


def _stream_row(label: str, results: dict, kind: str) -> str:
    cells = []
    for connections in STREAM_CONCURRENCY:
        c = results[(kind, connections)]
        cells.append(f"{c['first_p50']:7.2f} {c['first_p99']:7.2f} {c['total_p50']:7.2f} "
                     f"{c['total_p99']:7.2f} {c['rate']:6.0f} {c['errors']:4d}")  # fmt: skip
    return f"{label:<34}| " + " | ".join(cells)


def report_shape(
    shape: str, direct: dict, peers: dict, gateways: dict, notes: dict, plan: Plan
) -> None:
    print(f"\n=== Shape: {shape} ===")
    for name, note in notes.items():
        print(f"  {name}: {note}")
    if plan.rounds > 1:
        print(f"\nEach cell: the median of {plan.rounds} rounds (errors summed)")
    print(f"\nNon-streaming chat, wrk {plan.duration} per cell: p50 ms, p99 ms, calls/s, errors")
    print(f"{'':<34}| {'c=1':^30} | {'c=16':^30} | {'c=64':^30} | added p50 c=1")
    print(_row("direct to the upstream", direct, "chat"))
    for workers, results in peers.items():
        if results:
            print(_row(f"LiteLLM, {workers} worker(s)", results, "chat", direct))
    for workers, results in gateways.items():
        print(_row(f"gateway /v1/chat/completions, {workers}w", results, "chat", direct))
        print(_row(f"gateway /mcp/chat, {workers}w", results, "mcp", direct))
    print(f"\nStreams of {plan.chunks} chunks: first chunk p50/p99 ms, whole stream p50/p99 ms, "
          f"streams/s, errors (c=1: {plan.sequential_streams} in a row; "
          f"c=64: {plan.stream_seconds:g} s)")  # fmt: skip
    print(f"{'':<34}| {'c=1':^45} | {'c=64':^45}")
    print(_stream_row("direct to the upstream", direct, "stream"))
    for workers, results in peers.items():
        if results:
            print(_stream_row(f"LiteLLM, {workers} worker(s)", results, "stream"))
    for workers, results in gateways.items():
        print(_stream_row(f"gateway /v1/chat/completions, {workers}w", results, "stream"))
        print(_stream_row(f"gateway /mcp/chatStream, {workers}w", results, "mcp_stream"))
    print("\nPeak memory (sum of the resident memory of the server's processes, sampled 4/s)")
    for workers, results in peers.items():
        if results:
            print(f"  LiteLLM, {workers} worker(s): {results['peak_mib']:.0f} MiB "
                  f"({results['processes']} processes)")  # fmt: skip
    for workers, results in gateways.items():
        print(f"  gateway, {workers} worker(s): {results['peak_mib']:.0f} MiB "
              f"({results['processes']} processes)")  # fmt: skip
    print("\nCall records (gateway)")
    for workers, results in gateways.items():
        a = results["audit"]
        print(f"  {workers} worker(s): {a['made']} tagged calls at c=64 through both doors, "
              f"{a['answered']} answered 200, {a['tagged']} records stored after a graceful "
              f"stop: {'equal' if a['tagged'] == a['made'] else 'NOT EQUAL'}; the whole run "
              f"made {results['calls'] + a['made']} calls (wrk's cut-off calls counted as "
              f"not made), {a['all']} records")  # fmt: skip


def ratios(shape: str, direct: dict, peers: dict, gateways: dict) -> list[tuple]:
    """(shape, workers, door, target, value, goal, verdict) rows. The verdict that
    counts (issue 16) is the gateway's against LiteLLM's best worker count (most
    calls/s at c=64) with as many gateway workers; other pairs are for reference."""
    live = {w: r for w, r in peers.items() if r}
    if not live:
        return []
    best = max(live, key=lambda w: live[w][("chat", 64)]["rps"])
    floor = 10 if shape == "embedded" else 5
    rows = []
    for workers, results in gateways.items():
        for against in sorted({workers, best}):
            peer = live.get(against)
            if peer is None:
                continue
            basis = f"vs LiteLLM {against}w" + (" (best)" if against == best else "")
            for door, stream in (("chat", "stream"), ("mcp", "mcp_stream")):
                label = "/v1" if door == "chat" else "/mcp"
                rps = results[(door, 64)]["rps"] / peer[("chat", 64)]["rps"]
                added = results[(door, 1)]["p50"] - direct[("chat", 1)]["p50"]
                peer_added = peer[("chat", 1)]["p50"] - direct[("chat", 1)]["p50"]
                first = results[(stream, 1)]["first_p50"] - direct[("stream", 1)]["first_p50"]
                peer_first = peer[("stream", 1)]["first_p50"] - direct[("stream", 1)]["first_p50"]
                same = against == workers and (against == best or best not in gateways)
                rows.append((shape, workers, label, basis, f"calls/s c=64 ×{floor}", rps,
                             rps >= floor, same))  # fmt: skip
                rows.append((shape, workers, label, basis, "added p50 c=1 ≤1/5",
                             added / peer_added, added / peer_added <= 0.2, same))  # fmt: skip
                if shape == "embedded":
                    rows.append((shape, workers, label, basis, "added first chunk c=1 ≤1/10",
                                 first / peer_first, first / peer_first <= 0.1, same))  # fmt: skip
    return rows


def print_verdicts(rows: list[tuple], gateways_by_shape: dict, by_round: list[list[tuple]]) -> None:
    """The ratios and verdicts; with more than one round in `by_round` (each
    round's own rows), each verdict that counts is followed by its value in each."""
    print(
        "\n=== Ratios, gateway : LiteLLM (PASS/MISS against LiteLLM's best worker count "
        "with as many gateway workers; other pairs in parentheses) ==="
    )
    counted = [{row[:3] + row[4:5]: row[5] for row in rows if row[7]} for rows in by_round]
    per_round = counted if len(counted) > 1 else []
    for shape, workers, door, basis, target, value, passed, same in rows:
        verdict = ("PASS" if passed else "MISS") if same else ("(pass)" if passed else "(miss)")
        values = [f"{r[(shape, workers, door, target)]:.3f}" for r in per_round
                  if (shape, workers, door, target) in r] if same else []  # fmt: skip
        rounds = f"  rounds: {', '.join(values)}" if values else ""
        print(f"  {shape:<10} gateway {workers}w {door:<4} {basis:<22} {target:<28} "
              f"{value:7.3f}  {verdict}{rounds}")  # fmt: skip
    errors = sum(
        r[(k, c)]["errors"]
        for gateways in gateways_by_shape.values()
        for r in gateways.values()
        for k, cs in (
            ("chat", CONCURRENCY),
            ("mcp", CONCURRENCY),
            ("stream", STREAM_CONCURRENCY),
            ("mcp_stream", STREAM_CONCURRENCY),
        )  # fmt: skip
        for c in cs
    )
    print(f"  gateway errors, every cell of every shape: {errors}  "
          f"{'PASS' if errors == 0 else 'MISS'}")  # fmt: skip
    for shape, gateways in gateways_by_shape.items():
        for workers, results in gateways.items():
            a = results["audit"]
            equal = a["tagged"] == a["made"]
            print(f"  {shape} gateway {workers}w records == calls made: {a['tagged']} / "
                  f"{a['made']}  {'PASS' if equal else 'MISS'}")  # fmt: skip
