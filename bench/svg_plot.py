"""A line plot as a standalone SVG, with no plotting library: time to the final
response against RTT, one line per case of the round-trip section."""

from typing import Dict, List, Tuple
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 720, 440
LEFT, RIGHT, TOP, BOTTOM = 70, 290, 40, 60
COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"]
DASHES = ["none", "12 6", "none", "3 6", "none", "6 3"]


def nice_step(span: float) -> float:
    """A round tick step giving about five ticks over `span`."""
    raw = span / 5
    magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1
    for factor in (1, 2, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def rtt_plot(series: Dict[str, List[Tuple[float, float]]], smoke: bool = False) -> str:
    points = [p for values in series.values() for p in values]
    if not points:
        points = [(0, 0), (1, 1)]
    x_max = max(x for x, _ in points) * 1.05 or 1
    y_max = max(y for _, y in points) * 1.1 or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(x):
        return LEFT + x / x_max * plot_w

    def sy(y):
        return TOP + plot_h - y / y_max * plot_h

    title = "Time from the first request to the final 200"
    if smoke:
        title += " (smoke run)"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
           f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
           f'<text x="{LEFT}" y="22" font-size="14">{escape(title)}</text>',
           f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" stroke="black"/>',
           f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="black"/>']
    for axis, limit in (("x", x_max), ("y", y_max)):
        step = nice_step(limit)
        tick = 0.0
        while tick <= limit:
            if axis == "x":
                out.append(f'<line x1="{sx(tick):.1f}" y1="{TOP + plot_h}" x2="{sx(tick):.1f}" '
                           f'y2="{TOP + plot_h + 5}" stroke="black"/>'
                           f'<text x="{sx(tick):.1f}" y="{TOP + plot_h + 18}" '
                           f'text-anchor="middle">{tick:g}</text>')
            else:
                out.append(f'<line x1="{LEFT}" y1="{sy(tick):.1f}" x2="{LEFT + plot_w}" '
                           f'y2="{sy(tick):.1f}" stroke="#ddd"/>'
                           f'<text x="{LEFT - 8}" y="{sy(tick) + 4:.1f}" '
                           f'text-anchor="end">{tick:g}</text>')
            tick += step
    out.append(f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 18}" text-anchor="middle">'
               'round-trip time added by latency-proxy (ms)</text>')
    out.append(f'<text x="18" y="{TOP + plot_h / 2}" text-anchor="middle" '
               f'transform="rotate(-90 18 {TOP + plot_h / 2})">median time to final 200 (ms)</text>')
    for i, (name, values) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        # Cases that take the same time overlap: each line is drawn narrower
        # than the one before it, some dashed, so the lines underneath show.
        width = 2 + 2.5 * (len(series) - 1 - i)
        dash = DASHES[i % len(DASHES)]
        values = sorted(values)
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in values)
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                   f'stroke-width="{width}" stroke-dasharray="{dash}" stroke-linejoin="round"/>')
        for x, y in values:
            out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3.5" fill="{colour}">'
                       f'<title>{escape(name)}: RTT {x:g} ms, {y:.1f} ms</title></circle>')
        ly = TOP + 10 + i * 22
        out.append(f'<line x1="{LEFT + plot_w + 15}" y1="{ly}" x2="{LEFT + plot_w + 35}" '
                   f'y2="{ly}" stroke="{colour}" stroke-width="{min(width, 6)}" '
                   f'stroke-dasharray="{dash}"/>'
                   f'<text x="{LEFT + plot_w + 40}" y="{ly + 4}">{escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
