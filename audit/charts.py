"""Server-rendered SVG charts for the audit dashboard: no script, no CDN.

Each function takes plain numbers and labels and returns safe SVG markup; every
label is escaped. Where a figure has records behind it, its mark is a link to
them. Sizes are in SVG units on a fixed-width canvas that scales with the page
(`viewBox`), so the charts stay legible on any screen and in print.
"""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 520
SERIES_WIDTH = 760
CALLS, ERRORS, P50, P95, LOCAL, CLOUD = (
    "#4a7ab5",
    "#cf222e",
    "#4a7ab5",
    "#9a6700",
    "#1a7f37",
    "#6e7781",
)
_TEXT = 'font-family="system-ui, sans-serif" font-size="13" fill="#333"'


def _svg(height: int, title: str, body: list[str], width: int = WIDTH) -> SafeString:
    return mark_safe(
        f'<svg class="audit-chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _text(x: float, y: float, value: object, anchor: str = "start", extra: str = "") -> str:
    position = f'x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"'
    return f"<text {position} {_TEXT} {extra}>{escape(value)}</text>"


def _rect(x: float, y: float, w: float, h: float, colour: str, tip: str) -> str:
    return (f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{max(h, 0):.1f}" '
            f'fill="{colour}"><title>{escape(tip)}</title></rect>')  # fmt: skip


def _link(url: str | None, inner: str) -> str:
    return f'<a href="{escape(url)}">{inner}</a>' if url else inner


def series_chart(
    points: list[tuple[str, list[int], str | None]],
    *,
    series: list[tuple[str, str]],
    title: str,
    unit: str,
    overlay: bool,
) -> SafeString:
    """One column per slot, every slot drawn (quiet ones as gaps on the axis), with
    a y axis in `unit` and x labels. `overlay` draws the second series over the
    first (failed within calls); otherwise the series are stacked (local + cloud)."""
    width, height, top, bottom, left = SERIES_WIDTH, 240, 28, 40, 62
    plot_h, plot_w = height - top - bottom, width - left - 10
    totals = [max(v) if overlay else sum(v) for _, v, _ in points]
    peak = _nice(max(totals + [1]))
    step = plot_w / max(len(points), 1)
    body = [_text(left, 16, title)]
    for tick in (0, peak / 2, peak):
        y = top + plot_h - plot_h * tick / peak
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" '
                    f'stroke="{"#999" if tick == 0 else "#e5e5e5"}"/>')  # fmt: skip
        body.append(_text(left - 6, y + 4, f"{tick:,.0f}", "end"))
    body.append(_text(12, top + plot_h / 2, unit, "middle",
                      f'transform="rotate(-90 12 {top + plot_h / 2:.1f})"'))  # fmt: skip
    label_every = max(1, len(points) // 8)
    for i, (label, values, url) in enumerate(points):
        x, w = left + i * step + step * 0.1, max(step * 0.8, 1)
        base, marks = top + plot_h, []
        for value, (name, colour) in zip(values, series, strict=True):
            h = plot_h * value / peak
            y = top + plot_h - h if overlay else base - h
            marks.append(_rect(x, y, w, h, colour, f"{label}: {value:,} {name}"))
            base = base if overlay else base - h
        body.append(_link(url if any(values) else None, "".join(marks)))
        if i % label_every == 0:
            body.append(_text(x + w / 2, height - 22, label, "middle"))
    body.append(_legend(height - 4, series))
    return _svg(height, title, body, width)


def _nice(value: float) -> float:
    """The axis top: the next 1, 2 or 5 times a power of ten at or above `value`."""
    magnitude = 10 ** max(len(str(int(value))) - 1, 0)
    for factor in (1, 2, 5, 10):
        if value <= factor * magnitude:
            return float(factor * magnitude)
    return float(10 * magnitude)


def bar_chart(
    rows: list[tuple[str, float]],
    *,
    title: str,
    unit: str = "",
    links: dict[str, str] | None = None,
) -> SafeString:
    """One horizontal bar per label, longest first; a label in `links` links there."""
    return paired_bars([(label, value, None) for label, value in rows], title=title,
                       names=(unit or "value", ""), unit=unit, links=links)  # fmt: skip


def paired_bars(
    rows: list[tuple[str, float | None, float | None]],
    *,
    title: str,
    names: tuple[str, str] = ("p50", "p95"),
    unit: str = "ms",
    links: dict[str, str] | None = None,
) -> SafeString:
    """Up to two horizontal bars per label (e.g. p50 and p95 latency per provider)."""
    left, bar, gap = 170, 14, 10
    paired = any(second is not None for _, _, second in rows)
    row_h = bar * (2 if paired else 1) + gap
    height = 30 + row_h * max(len(rows), 1) + (18 if paired else 0)
    peak = max([v for _, a, b in rows for v in (a, b) if v is not None] + [1])
    scale = (WIDTH - left - 80) / peak
    body = [_text(0, 14, title)]
    if not rows:
        body.append(_text(0, 40, "No calls in this period."))
    for i, row in enumerate(rows):
        marks = _bar_row(
            row, y=26 + i * row_h, left=left, bar=bar, scale=scale, names=names, unit=unit
        )
        body.append(_link((links or {}).get(row[0]), "".join(marks)))
    if paired:
        body.append(_legend(height - 4, [(names[0], P50), (names[1], P95)]))
    return _svg(height, title, body)


def _bar_row(
    row: tuple[str, float | None, float | None],
    *,
    y: float,
    left: float,
    bar: int,
    scale: float,
    names: tuple[str, str],
    unit: str,
) -> list[str]:
    label, first, second = row
    parts = [_text(left - 8, y + bar - 2, label[:26], "end")]
    for j, (value, colour, name) in enumerate(((first, P50, names[0]), (second, P95, names[1]))):
        if value is None:
            continue
        shown = f"{value:,.1f}" if unit == "ms" and value < 10 else f"{value:,.0f}"
        top, caption = y + j * bar, f"{shown} {unit}".strip()
        parts.append(_rect(left, top, value * scale, bar - 2, colour, f"{label} {name}: {caption}"))
        parts.append(_text(left + value * scale + 4, top + bar - 3, caption))
    return parts


def share_bar(local: int, cloud: int, *, title: str) -> SafeString:
    """One stacked bar: the local share of tokens in green, the cloud share in grey."""
    total = max(local + cloud, 1)
    legend = [
        (f"local {100 * local / total:.0f}%", LOCAL),
        (f"cloud {100 * cloud / total:.0f}%", CLOUD),
    ]
    local_w = (WIDTH - 2) * local / total
    body = [
        _text(0, 14, title),
        _rect(0, 24, local_w, 28, LOCAL, f"local: {local:,} tokens"),
        _rect(local_w, 24, WIDTH - 2 - local_w, 28, CLOUD, f"cloud: {cloud:,} tokens"),
        _legend(74, legend),
    ]
    return _svg(80, title, body)


def _legend(y: float, items: list[tuple[str, str]]) -> str:
    parts, x = [], 0
    for name, colour in items:
        parts.append(f'<rect x="{x}" y="{y - 10}" width="10" height="10" fill="{colour}"/>')
        parts.append(_text(x + 14, y, name))
        x += 24 + 8 * len(name)
    return "".join(parts)


def sparkline(values: list[float | None], *, title: str, width: int = 120) -> SafeString:
    """A small line of `values` (None: no calls then, a gap), for a table cell."""
    height, peak = 24, max([v for v in values if v is not None] + [1])
    step = (width - 4) / max(len(values) - 1, 1)  # 2 units of margin: a dot stays whole
    runs, run = [], []
    for i, value in enumerate(values):
        if value is None:
            runs, run = (runs + [run]) if run else runs, []
            continue
        run.append(f"{2 + i * step:.1f},{height - 2 - (height - 4) * value / peak:.1f}")
    runs = runs + [run] if run else runs
    lines = "".join(_spark_run(run) for run in runs)
    return mark_safe(
        f'<svg class="sparkline" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        f"{lines}</svg>"
    )


def _spark_run(points: list[str]) -> str:
    if len(points) == 1:  # one busy hour between quiet ones: a dot, not an invisible line
        x, y = points[0].split(",")
        return f'<circle cx="{x}" cy="{y}" r="2" fill="{CALLS}"/>'
    return (
        f'<polyline points="{" ".join(points)}" fill="none" stroke="{CALLS}" stroke-width="1.5"/>'
    )
