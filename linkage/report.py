"""A self-contained HTML report of a COUNTS.json document.

One file, no network: inline CSS, an inline SVG UpSet-style chart drawn here
in Python (robust: it renders even with scripts off), and a few lines of
inline JavaScript that add hover highlighting and mark the page as drawn
(``data-chart-ready`` on ``<body>``) for automated checks.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tiplink.atomic import atomic_output

CAVEAT = (
    "This estimate comes from a statistical model, not a count. It assumes that the "
    "population was closed over the period (nobody entered or left), that records were "
    "linked perfectly (no missed or false matches between agencies), and that, once the "
    "model's interactions between agencies are allowed for, being known to one agency "
    "does not change the chance of being known to another. It also assumes that every "
    "person could have been recorded by at least one agency. When these assumptions fail, "
    "the estimate can be badly wrong, and different reasonable methods can differ by a "
    "factor of two on the same data, so always quote the method, the model and the "
    "interval with the number. People no agency has met can differ from those who were "
    "met; the estimate says how many there may be, not who they are or where."
)

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;
max-width:70rem;padding:0 1rem;color:#1d2733;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h3{font-size:1.05rem;margin-top:1.2rem}
h2{font-size:1.2rem;margin-top:2rem;
border-bottom:1px solid #d5dbe3;padding-bottom:.3rem}
.cards{display:flex;flex-wrap:wrap;gap:1rem;margin:1rem 0}
.card{background:#f3f6f9;border-radius:.5rem;padding:.8rem 1rem;min-width:12rem}
.card .v{font-size:1.5rem;font-weight:600}.card .l{font-size:.85rem;color:#4a5868}
table{border-collapse:collapse;margin:.5rem 0}th,td{padding:.3rem .8rem;text-align:right;
border-bottom:1px solid #e4e8ee}th:first-child,td:first-child{text-align:left}
.supp{color:#8a5a00;font-style:italic}.caveat{background:#fff7e6;border-left:4px solid
#e0a000;padding:.8rem 1rem}.muted{color:#4a5868;font-size:.9rem}
svg text{font-size:12px;fill:#1d2733}svg .bar{fill:#2f6690}svg .bar.suppressed{fill:url(#hatch)}
svg .setbar{fill:#7a9cb8}svg .dot{fill:#d0d7df}svg .dot.on{fill:#1d2733}
svg .col:hover .bar{fill:#d1495b}svg .col:hover .dot.on{fill:#d1495b}
svg .col.hl .bar{fill:#d1495b}
"""

_JS = """
(function(){
  function ready(){
    var svg=document.getElementById('upset');
    if(!svg){return;}
    var cols=svg.querySelectorAll('g.col');
    for(var i=0;i<cols.length;i++){
      cols[i].addEventListener('click',function(){this.classList.toggle('hl');});
    }
    var bars=svg.querySelectorAll('rect.bar');
    document.body.setAttribute('data-chart-ready',String(bars.length));
  }
  if(document.readyState==='loading'){document.addEventListener('DOMContentLoaded',ready);}
  else{ready();}
})();
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _fmt(value: Any) -> str:
    if value is None:
        return '<span class="supp">withheld</span>'
    if isinstance(value, float):
        return f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return _e(value)


def upset_svg(
    parties: Sequence[str],
    cells: Sequence[Mapping[str, Any]],
    unique_per_party: Mapping[str, int | None],
) -> str:
    """An UpSet-style chart: intersection bars over a party membership matrix.

    Columns are capture histories, largest first (suppressed cells last,
    hatched, drawn at the height of the smallest published cell with a
    "suppressed" label); rows are parties, with their unique counts as bars
    on the left.
    """
    shown = sorted(
        (c for c in cells if not c.get("suppressed") and c.get("count")),
        key=lambda c: (-c["count"], len(c["parties"]), sorted(c["parties"])),
    )
    hidden = sorted(
        (c for c in cells if c.get("suppressed")), key=lambda c: (len(c["parties"]), c["parties"])
    )
    columns = shown + hidden
    label_w, set_w, col_w, row_h, bar_h, pad = 150, 110, 30, 24, 190, 20
    width = label_w + set_w + max(1, len(columns)) * col_w + pad * 2
    height = bar_h + len(parties) * row_h + pad * 3
    top = max([c["count"] for c in shown] or [1])
    stub = min([c["count"] for c in shown] or [1])
    max_set = max([v for v in unique_per_party.values() if v] or [1])
    x0 = pad + label_w + set_w
    y_matrix = pad + bar_h + pad
    out = [
        f'<svg id="upset" xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" '
        'aria-label="UpSet chart of people by the set of agencies that know them">',
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f1e3c6"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#b07b00" stroke-width="2"/></pattern></defs>',
        f'<text x="{x0}" y="{pad - 4}">People known to exactly these agencies</text>',
    ]
    for i, party in enumerate(parties):
        cy = y_matrix + i * row_h + row_h / 2
        out.append(f'<text x="{pad}" y="{cy + 4}">{_e(party)}</text>')
        value = unique_per_party.get(party)
        if value:
            w = set_w * value / max_set
            out.append(
                f'<rect class="setbar" x="{pad + label_w + set_w - w - 6:.1f}" y="{cy - 7}" '
                f'width="{w:.1f}" height="14"><title>{_e(party)}: {value:,} unique</title></rect>'
            )
    for j, cell in enumerate(columns):
        cx = x0 + j * col_w + col_w / 2
        members = set(cell["parties"])
        suppressed = bool(cell.get("suppressed"))
        count = stub if suppressed else cell["count"]
        h = max(2.0, (bar_h - 20) * count / top)
        label = "suppressed" if suppressed else f"{cell['count']:,}"
        names = " + ".join(cell["parties"])
        out.append(f'<g class="col"><title>{_e(names)}: {_e(label)}</title>')
        cls = "bar suppressed" if suppressed else "bar"
        out.append(
            f'<rect class="{cls}" x="{cx - 10}" y="{pad + bar_h - h:.1f}" width="20" '
            f'height="{h:.1f}" data-count="{"" if suppressed else cell["count"]}"/>'
        )
        tx = f'<text x="{cx}" y="{pad + bar_h - h - 4:.1f}" text-anchor="middle"'
        if suppressed:
            out.append(
                f'{tx} transform="rotate(-90 {cx} {pad + bar_h - h - 4:.1f})" '
                'text-anchor="start" class="supp">suppressed</text>'
            )
        else:
            out.append(f"{tx}>{cell['count']:,}</text>")
        ys = [y_matrix + i * row_h + row_h / 2 for i, p in enumerate(parties) if p in members]
        if len(ys) > 1:
            out.append(
                f'<line x1="{cx}" y1="{min(ys)}" x2="{cx}" y2="{max(ys)}" '
                'stroke="#1d2733" stroke-width="2"/>'
            )
        for i, party in enumerate(parties):
            cy = y_matrix + i * row_h + row_h / 2
            on = " on" if party in members else ""
            out.append(f'<circle class="dot{on}" cx="{cx}" cy="{cy}" r="6"/>')
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)


def _model_words(model: str, parties: Sequence[str]) -> str:
    """Spell out a model string like ``[12,3]`` with party names."""
    body = model.strip("[]")
    if not body:
        return ""
    parts = []
    for term in body.split(","):
        try:
            names = [parties[int(d) - 1] for d in term]
        except (ValueError, IndexError):
            return ""
        parts.append(" × ".join(names))
    interactions = [p for p in parts if "×" in p]
    if not interactions:
        return "main effects only (agencies treated as independent)"
    return "interactions between " + "; ".join(interactions)


def render_report(doc: Mapping[str, Any], title: str = "Victims known to agencies") -> str:
    """The report page for a validated COUNTS.json document, as a string."""
    parties = list(doc["parties"])
    records = doc.get("records", {})
    unique = doc.get("unique_per_party", {})
    cells = doc["capture_histories"]
    est = doc.get("estimate")
    # A withheld (null) record count makes the total unknown, not smaller.
    total_records = None if any(v is None for v in records.values()) else sum(records.values())
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # No external resources at all: a strict policy makes that checkable.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">",
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        '<p class="muted">Produced by tiplink from linked, encoded records. No names or '
        "identifiers are included in this report.</p>",
        '<div class="cards">',
        f'<div class="card"><div class="v">{_fmt(doc.get("unique_entities"))}</div>'
        '<div class="l">unique people known to the agencies</div></div>',
        f'<div class="card"><div class="v">{_fmt(total_records)}</div>'
        '<div class="l">records received</div></div>',
    ]
    if est:
        ci = est.get("ci95")
        ci_text = f"{ci[0]:,.0f} – {ci[1]:,.0f}" if ci else "not computed"
        parts.append(
            f'<div class="card"><div class="v">{_fmt(float(est["population"]))}</div>'
            f'<div class="l">estimated total, seen and unseen (95% interval {_e(ci_text)})</div>'
            "</div>"
        )
    parts.append("</div>")
    parts.append(
        "<h2>Per agency</h2><table><thead><tr><th>Agency</th><th>Records</th>"
        "<th>Unique people</th></tr></thead><tbody>"
    )
    for p in parties:
        parts.append(
            f"<tr><td>{_e(p)}</td><td>{_fmt(records.get(p))}</td><td>{_fmt(unique.get(p))}</td></tr>"
        )
    parts.append("</tbody></table>")
    parts.append("<h2>Overlaps between agencies</h2>")
    parts.append(
        '<p class="muted">Each column counts the people known to exactly the agencies marked '
        "below it. Click a column to highlight it.</p>"
    )
    parts.append(upset_svg(parties, cells, unique))
    suppressed = [c for c in cells if c.get("suppressed")]
    if suppressed:
        k = doc.get("min_cell_count")
        rule = f"fewer than {int(k)}" if isinstance(k, int) else "too few"
        parts.append(
            f'<p class="supp">{len(suppressed)} cell(s) are suppressed: they hold {rule} people, '
            "or were withheld so that such small counts cannot be worked out from the totals.</p>"
        )
    parts.append("<table><thead><tr><th>Known to exactly</th><th>People</th></tr></thead><tbody>")
    for c in sorted(cells, key=lambda c: (len(c["parties"]), c["parties"])):
        value = '<span class="supp">suppressed</span>' if c.get("suppressed") else _fmt(c["count"])
        parts.append(f"<tr><td>{_e(' + '.join(c['parties']))}</td><td>{value}</td></tr>")
    parts.append("</tbody></table>")
    parts.append("<h2>Estimated total population</h2>")
    if est:
        ci = est.get("ci95")
        parts.append("<table><tbody>")
        rows = [
            ("Estimated total", _fmt(float(est["population"]))),
            (
                "95% interval (BCa bootstrap)",
                _e(f"{ci[0]:,.0f} – {ci[1]:,.0f}") if ci else "not computed",
            ),
            ("People seen by at least one agency", _fmt(est.get("observed"))),
            (
                "Estimated people seen by none",
                _fmt(float(est["dark_figure"])) if est.get("dark_figure") is not None else "–",
            ),
            ("Method", _e(est.get("method", ""))),
            ("Model", _e(est.get("model", ""))),
        ]
        words = _model_words(str(est.get("model", "")), est.get("lists") or parties)
        if words:
            rows.append(("Model in words", _e(words)))
        rows += _linkage_rows(est.get("linkage_uncertainty"))
        for label, value in rows:
            parts.append(f"<tr><td>{label}</td><td>{value}</td></tr>")
        parts.append("</tbody></table>")
        parts.append(
            '<p class="muted">Model digits number the agencies in this order: '
            + ", ".join(f"{i + 1} = {_e(p)}" for i, p in enumerate(est.get("lists") or parties))
            + ".</p>"
        )
    else:
        reason = (
            doc.get("estimate_error") or "no estimate was made (it needs at least two agencies)"
        )
        parts.append(f"<p>No estimate: {_e(reason)}.</p>")
    if doc.get("strata"):
        parts.append(strata_section(doc))
    parts.append(f'<h2>How to read the estimate</h2><p class="caveat">{_e(CAVEAT)}</p>')
    parts.append(f"<script>{_JS}</script></body></html>")
    return "\n".join(parts)


def _linkage_rows(lu: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """Estimate-table rows for the interval that includes linkage uncertainty."""
    if not isinstance(lu, Mapping):
        return []
    ci = lu.get("ci95")
    rows = [
        (
            "95% interval including linkage uncertainty",
            _e(f"{ci[0]:,.0f} – {ci[1]:,.0f}") if ci else "not computed",
        )
    ]
    if lu.get("linkage_mean") is not None:
        rows.append(("Estimate averaged over plausible linkages", _fmt(float(lu["linkage_mean"]))))
    if lu.get("sampling_sd") is not None and lu.get("linkage_sd") is not None:
        rows.append(
            (
                "Standard deviation: sampling / linkage / both",
                _e(
                    f"{lu['sampling_sd']:,.0f} / {lu['linkage_sd']:,.0f} / "
                    f"{lu.get('total_sd') or 0:,.0f}"
                ),
            )
        )
    return rows


def _interval(est: Mapping[str, Any] | None) -> str:
    ci = (est or {}).get("ci95")
    return _e(f"{ci[0]:,.0f} – {ci[1]:,.0f}") if ci else "–"


def strata_section(doc: Mapping[str, Any]) -> str:
    """The per-stratum part of the report: one table per stratum variable.

    Each table has a row per stratum value (unique people, records, unique
    people per agency, the estimate and its interval, or why there is
    none), then each value's capture histories in a collapsed block.
    """
    parties = list(doc["parties"])
    pooled = doc.get("strata_pooled") or {}
    out = [
        "<h2>By stratum</h2>",
        '<p class="muted">Each person is counted in one stratum per attribute: the value most '
        "of their records give (a tie goes to the record of the first agency in alphabetical "
        "order), or “unknown” when none of their records has one. Strata estimates come from "
        "separate models and need not add up to the overall estimate. Suppressed numbers are "
        "withheld so that no small count can be worked out from the overall table and the "
        "strata together.</p>",
    ]
    for name, values in doc["strata"].items():
        out.append(f'<h3 id="stratum-{_e(name)}">{_e(name)}</h3>')
        note = pooled.get(name)
        if isinstance(note, dict) and note.get("values"):
            out.append(
                f'<p class="muted">“{_e(note.get("label", ""))}” pools the values '
                + ", ".join(f"“{_e(v)}”" for v in note["values"])
                + ", each held by too few people to publish on its own.</p>"
            )
        head = "".join(f"<th>{_e(p)}</th>" for p in parties)
        out.append(
            f'<table class="strata" data-stratum="{_e(name)}"><thead><tr><th>Value</th>'
            "<th>Unique people</th><th>Records</th>"
            f"{head}<th>Estimated total</th><th>95% interval</th></tr></thead><tbody>"
        )
        for value, block in values.items():
            records = block.get("records") or {}
            total = (
                None
                if not records or any(v is None for v in records.values())
                else sum(records.values())
            )
            est = block.get("estimate")
            if est:
                est_cells = f"<td>{_fmt(float(est['population']))}</td><td>{_interval(est)}</td>"
            else:
                reason = block.get("estimate_error") or "no estimate"
                est_cells = f'<td colspan="2" class="muted">{_e(reason)}</td>'
            per_party = "".join(
                f"<td>{_fmt((block.get('unique_per_party') or {}).get(p))}</td>" for p in parties
            )
            out.append(
                f'<tr data-value="{_e(value)}"><td>{_e(value)}</td>'
                f"<td>{_fmt(block.get('unique_entities'))}</td><td>{_fmt(total)}</td>"
                f"{per_party}{est_cells}</tr>"
            )
        out.append("</tbody></table>")
        for value, block in values.items():
            cells = block.get("capture_histories") or []
            out.append(
                f"<details><summary>{_e(name)} = {_e(value)}: people known to exactly these "
                "agencies</summary><table><thead><tr><th>Known to exactly</th><th>People</th>"
                "</tr></thead><tbody>"
            )
            for c in sorted(cells, key=lambda c: (len(c["parties"]), c["parties"])):
                shown = (
                    '<span class="supp">suppressed</span>'
                    if c.get("suppressed")
                    else _fmt(c["count"])
                )
                out.append(f"<tr><td>{_e(' + '.join(c['parties']))}</td><td>{shown}</td></tr>")
            out.append("</tbody></table></details>")
    return "\n".join(out)


def write_report(
    doc: Mapping[str, Any], output: str | Path, title: str = "Victims known to agencies"
) -> None:
    """Render and write the report atomically (all or nothing)."""
    page = render_report(doc, title)
    with atomic_output(output, "w") as handle:
        handle.write(page)
