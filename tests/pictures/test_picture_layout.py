"""The icicle layout, by numbers: rectangles, labels, colours keys, diffs, marks, legend."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from enrichers.flamegraph_tree import graph_from_stacks
from enrichers.pictures.colours import CLASS_COLOURS, class_colour, diff_colour, text_colour
from enrichers.pictures.labels import fit_label, short_name
from enrichers.pictures.layout import Frame, Geometry, LegendItem, layout
from enrichers.pictures.picture import Picture
from enrichers.pictures.texts import subtitle, title, tooltip
from enrichers.result import Window

CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
WINDOW = Window(
    start=datetime(2026, 11, 25, 17, 10, 30, tzinfo=UTC),
    end=datetime(2026, 11, 25, 17, 26, 30, tzinfo=UTC),
)
BASELINE = Window(
    start=datetime(2026, 11, 25, 16, 10, 30, tzinfo=UTC),
    end=datetime(2026, 11, 25, 16, 26, 30, tzinfo=UTC),
)
# 1,000 px of graph (1,024 wide, 12 px margins), 7 px per character.
GEOMETRY = Geometry(width=1024)


def seven(text: str) -> float:
    return 7.0 * len(text)


def picture(**extra: object) -> Picture:
    graph = graph_from_stacks(
        [
            (["main", "com.example.Work.hash"], 600),
            (["main", "java.util.HashMap.get"], 300),
            (["main", "tiny"], 4),  # 0.4 %: merged into main's remainder
            (["main"], 96),
        ]
    )
    fields: dict[str, object] = {
        "graph": graph,
        "service": "payment-service",
        "profile": CPU,
        "unit": "seconds",
        "scale": 1e-9,
        "window": WINDOW,
        "classes": {
            "main": "app",
            "com.example.Work.hash": "app",
            "java.util.HashMap.get": "runtime",
        },
        "hotspot": "com.example.Work.hash",
    }
    fields.update(extra)
    return Picture(**fields)  # type: ignore[arg-type]


def test_icicle_frames_are_shares_of_the_width_left_aligned_under_their_parent() -> None:
    """Root on top at full width, children below in order, the 0.4% frame not drawn."""
    frames = layout(picture(), GEOMETRY, seven).frames
    assert frames == [
        Frame(0.0, 1000.0, 0, "total", "total", "root", 0.0, 100.0, None, None),
        Frame(0.0, 1000.0, 1, "main", "main", "app", 9.6, 100.0, None, None),
        Frame(
            0.0, 600.0, 2, "com.example.Work.hash", "com.example.Work.hash", "app",
            60.0, 60.0, None, "hotspot",
        ),
        Frame(
            600.0, 300.0, 2, "java.util.HashMap.get", "java.util.HashMap.get", "runtime",
            30.0, 30.0, None, None,
        ),
    ]  # fmt: skip


def test_narrow_frames_get_the_short_name_or_a_cut_label() -> None:
    """Room is width - gap - 2 x pad: the name, else without package, else cut, else none."""
    assert [frame.label for frame in layout(picture(), Geometry(width=264), seven).frames] == [
        "total",
        "main",
        "Work.hash",  # 144 px: 135 of room, the full name needs 147
        "HashMap…",  # 72 px: 63 of room; HashMap.get needs 77, the cut drops its dot
    ]
    assert [frame.label for frame in layout(picture(), Geometry(width=114), seven).frames][2:] == [
        "Work…",
        "",  # 27 px: 18 of room, under two characters and the ellipsis
    ]


def test_diff_frames_carry_their_share_change_against_the_baseline() -> None:
    """Each frame's total share now minus the same stack's share in the baseline (pp)."""
    baseline = graph_from_stacks([(["main", "com.example.Work.hash"], 100), (["main"], 300)])
    lay = layout(picture(baseline=baseline, baseline_window=BASELINE), GEOMETRY, seven)
    assert [(f.name, f.delta_pp) for f in lay.frames] == [
        ("total", 0.0),
        ("main", 0.0),
        ("com.example.Work.hash", 35.0),  # 25 % -> 60 %
        ("java.util.HashMap.get", 30.0),  # new since the baseline
    ]
    assert lay.diff


def test_hotspot_and_culprit_are_marked_on_every_frame_of_their_name() -> None:
    """Both names are outlined wherever they are drawn; the root never is."""
    graph = graph_from_stacks([(["a", "leaf"], 50), (["b", "leaf"], 30), (["b"], 20)])
    lay = layout(picture(graph=graph, classes={}, hotspot="leaf", culprit="b"), GEOMETRY, seven)
    assert [(f.name, f.x, f.mark) for f in lay.frames] == [
        ("total", 0.0, None),
        ("a", 0.0, None),
        ("leaf", 0.0, "hotspot"),
        ("b", 500.0, "culprit"),
        ("leaf", 500.0, "hotspot"),
    ]


def test_title_subtitle_and_legend() -> None:
    """Service, kind and profile type; window in UTC and total; legend left to right."""
    lay = layout(picture(), GEOMETRY, seven)
    assert lay.title == f"payment-service · CPU · {CPU}"
    assert lay.subtitle == "2026-11-25 17:10:30 to 17:26:30 UTC · 0.00 s in total"
    assert lay.legend == [
        LegendItem("swatch", "application", "app", 12.0),
        LegendItem("swatch", "library", "library", 127.0),
        LegendItem("swatch", "runtime", "runtime", 214.0),
        LegendItem("outline", "hotspot Work.hash", "hotspot", 301.0),
        LegendItem(
            "note", "frames under 0.5% of the total are merged into their parent", "", 458.0
        ),
    ]
    assert (lay.rows, lay.height) == (3, 12 + 52 + 3 * 18 + 34 + 12)


def test_diff_subtitle_names_the_baseline_and_counts_say_what_they_count() -> None:
    """A diff says since when; a count profile names its sample type."""
    mutex = picture(
        profile="mutex:contentions:count:mutex:count",
        unit="count",
        scale=1.0,
        baseline=graph_from_stacks([(["main"], 2000)]),
        baseline_window=BASELINE,
    )
    assert title(mutex) == "payment-service · lock contention · mutex:contentions:count:mutex:count"
    assert subtitle(mutex) == (
        "2026-11-25 17:10:30 to 17:26:30 UTC · 1,000 contentions in total"
        " · colour: change of each frame's share since 2026-11-25 16:10:30 to 16:26:30 UTC"
        " (2,000 contentions)"
    )
    legend = layout(mutex, GEOMETRY, seven).legend
    assert legend[0] == LegendItem(
        "gradient", "blue: share of the total shrank · red: grew (full at ±25 pp)", "diff", 12.0
    )


def test_tooltip_has_function_self_total_and_change() -> None:
    """The SVG tooltip text."""
    assert tooltip("a.B.c", 34.25, 52.0, None) == "a.B.c\nself 34.2% · total 52.0%"
    assert tooltip("a.B.c", 34.25, 52.0, -3.04) == (
        "a.B.c\nself 34.2% · total 52.0% · -3.0 pp since the baseline"
    )


def test_an_empty_graph_has_no_frames_and_one_row() -> None:
    """No samples: nothing drawn, the picture keeps its title and legend."""
    lay = layout(picture(graph=graph_from_stacks([])), GEOMETRY, seven)
    assert (lay.frames, lay.rows) == ([], 1)


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("com.example.PaymentVerticle.sha256", "PaymentVerticle.sha256"),
        ("github.com/x/y/pkg.(*T).Run", "pkg.(*T).Run"),
        ("src/app/views.py:12 - render", "views.py:12 - render"),
        ("libc.so.6.__GI___futex_abstimed_wait", "__GI___futex_abstimed_wait"),
        ("System.Console!System.ConsolePal.Write(class X,int32)", "ConsolePal.Write(…)"),
        ("G1ParEvacuateFollowersClosure::do_void", "G1ParEvacuateFollowersClosure::do_void"),
        ("runtime.mallocgc", "runtime.mallocgc"),
        ("[unknown]", "[unknown]"),
    ],
)  # fmt: skip
def test_short_names_drop_packages_and_libraries(name: str, short: str) -> None:
    """The short form keeps what names the function."""
    assert short_name(name) == short


def test_fit_label_never_exceeds_its_room() -> None:
    """Whatever the room, the label fits it."""
    name = "com.example.PaymentVerticle.sha256"
    for room in range(0, 300):
        assert seven(fit_label(name, room, seven)) <= room


def test_colours_by_class_vary_by_name_and_diff_by_size() -> None:
    """Class colours stay near their base; diff colours saturate at 25 pp; ink contrasts."""
    app = class_colour("app", "com.example.Work.hash")
    assert app == class_colour("app", "com.example.Work.hash")
    assert max(abs(a - b) for a, b in zip(app, CLASS_COLOURS["app"], strict=True)) <= 36
    assert class_colour("root", "anything") == CLASS_COLOURS["root"]
    assert diff_colour(0.0) == (228, 228, 232)
    assert diff_colour(25.0) == diff_colour(80.0) == (214, 39, 40)
    assert diff_colour(-25.0) == (31, 100, 200)
    assert diff_colour(1.0) == (225, 190, 194)  # sqrt(1/25) = 20 % of the way to red
    assert text_colour((214, 39, 40)) == (255, 255, 255)
    assert text_colour((228, 228, 232)) == (24, 24, 27)
