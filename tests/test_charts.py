"""SVG charts: well-formed, accessible (title, desc, role, every value as text) and
drawing suppressed values as text without a bar."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from core.reports import charts
from core.reports.charts import funnel_chart, monthly_chart, purposes_chart, report_charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str):
    return ET.fromstring(svg)


def texts(root) -> list[str]:
    return [t.text for t in root.iter(f"{SVG}text")]


def test_purposes_chart_is_an_accessible_image_with_every_value_as_text():
    root = parse(purposes_chart({"mobility": 57.0, "housing": 18.5, "debts": 11.6,
                                 "training": 4.5, "other": 8.4}, 2018))
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert title.text == "Objets des demandes en 2018 (en %)"
    assert "Mobilité : 57,0\u00a0%" in desc.text and "Logement : 18,5\u00a0%" in desc.text
    assert "Mobilité" in texts(root) and "57,0\u00a0%" in texts(root)
    assert "style" not in ET.tostring(root, encoding="unicode")


def test_bars_are_proportional_to_the_values():
    root = parse(purposes_chart({"mobility": 50.0, "housing": 25.0}, 2018))
    widths = [int(r.get("width")) for r in root.iter(f"{SVG}rect")]
    assert abs(widths[0] - 2 * widths[1]) <= 1  # rounded to whole pixels


def test_monthly_chart_has_twelve_months_and_values():
    root = parse(monthly_chart([10, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 20], 2023))
    labels = texts(root)
    assert "janv." in labels and "déc." in labels and "20" in labels
    assert len(list(root.iter(f"{SVG}rect"))) == 3  # no bar for an empty month
    assert "févr. : 0" in root.find(f"{SVG}desc").text


def test_funnel_shows_each_step_and_its_share_of_requests():
    root = parse(funnel_chart(4838, 1914, 559, 2018))
    labels = texts(root)
    assert "Demandes" in labels and "4\u202f838" in labels
    assert "1\u202f914 (39,6\u00a0%)" in labels and "559 (11,6\u00a0%)" in labels


def test_suppressed_values_are_text_without_a_bar():
    root = parse(funnel_chart(7, "< 5", "< 5", 2023))
    assert len(list(root.iter(f"{SVG}rect"))) == 1
    assert texts(root).count("< 5") == 2
    root = parse(purposes_chart({"mobility": "masqué", "housing": 40.0}, 2023))
    assert "masqué" in texts(root)


def test_text_is_escaped():
    root = parse(purposes_chart({"mobility": "<b>&"}, 2023))
    assert "<b>&" in texts(root)


def test_report_charts_gives_three_charts_with_distinct_ids():
    charts = report_charts({"year": 2023, "requests": 3, "instructions": 1, "granted": 0,
                            "purposes": {}, "monthly_requests": [0] * 12})
    ids = [parse(svg).get("id") for svg in charts.values()]
    assert len(set(ids)) == 3


def test_a_long_label_widens_the_label_column_instead_of_being_cut():
    """The dashboard's delays ("Instruction → transmission au prêteur") were cut at the
    left edge: the labels are drawn right-aligned before the bars, so the column must hold
    the longest one."""
    long = "Instruction → transmission au prêteur"
    svg = charts.horizontal_bars("c", "Délais", [(long, 14, "14,0 jours"), ("Court", 2, "2")])
    label_x = int(re.search(r'<text x="(\d+)"[^>]*text-anchor="end"', svg).group(1))
    assert label_x >= charts.CHAR_WIDTH * len(long)  # right edge of the label, from 0
    bar_x = int(re.search(r'<rect class="chart-bar" x="(\d+)"', svg).group(1))
    assert bar_x > label_x
    short = charts.horizontal_bars("c", "T", [("Court", 2, "2")])
    assert 'x="202"' in short  # the usual column for short labels
