"""The pages' colours, in one place, with the WCAG 2 contrast each pair must keep.

report.css uses only these (as CSS variables); a unit test holds every text pair to WCAG AA
(4.5:1) and every chart colour to 3:1 against the page (WCAG 1.4.11, non-text contrast).
"""

from __future__ import annotations

COLOURS = {
    "page": "#ffffff",
    "text": "#1b1b1b",
    "muted": "#474747",
    "link": "#0a4b94",
    "rule": "#767676",
    "head-bg": "#e8edf4",
    "panel-bg": "#f5f7fa",
    # status badges and row marks: text on tint
    "open-fg": "#7d0d1d", "open-bg": "#fde3e6",
    "waived-fg": "#4a2377", "waived-bg": "#ede4f8",
    "review-fg": "#5f3b00", "review-bg": "#fff0c4",
    "pass-fg": "#0c4f21", "pass-bg": "#dcf1e2",
    "na-fg": "#333333", "na-bg": "#ebebeb",
    # verdict banners
    "ok-fg": "#ffffff", "ok-bg": "#1d6a34",
    "findings-fg": "#ffffff", "findings-bg": "#a3182c",
    "incomplete-fg": "#1b1b1b", "incomplete-bg": "#f2b13a",
    # chart bars (against the page)
    "open-bar": "#c4283b", "waived-bar": "#7445b0", "review-bar": "#a86a00",
    "pass-bar": "#23804a", "na-bar": "#7d7d7d",
}
# (foreground, background) for every text the pages show.
TEXT_PAIRS = [("text", "page"), ("muted", "page"), ("link", "page"), ("text", "head-bg"),
              ("text", "panel-bg"), ("muted", "panel-bg"), ("link", "panel-bg"),
              ("link", "head-bg"),
              ("open-fg", "open-bg"), ("waived-fg", "waived-bg"), ("review-fg", "review-bg"),
              ("pass-fg", "pass-bg"), ("na-fg", "na-bg"), ("ok-fg", "ok-bg"),
              ("findings-fg", "findings-bg"), ("incomplete-fg", "incomplete-bg")]
GRAPHIC_PAIRS = [(bar, "page") for bar in ("open-bar", "waived-bar", "review-bar", "pass-bar",
                                           "na-bar", "rule")]
BUCKET_COLOURS = {"Open": "open", "Waived": "waived", "Not_Reviewed": "review",
                  "NotAFinding": "pass", "Not_Applicable": "na"}


def _linear(channel: int) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def luminance(hex_colour: str) -> float:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _linear(r) + 0.7152 * _linear(g) + 0.0722 * _linear(b)


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours (1 to 21)."""
    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def css_variables() -> str:
    return ":root{" + "".join(f"--{name}:{value};" for name, value in COLOURS.items()) + "}\n"
