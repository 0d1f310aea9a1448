"""Hotspotkaart / Hotspot map: hotspot areas, hot streets and signals by ward, period, category
and time of day, with a table and exports."""

from __future__ import annotations

import functools
import json
from datetime import time, timedelta

import pandas as pd
import streamlit as st

from app_pages import cached, maps, ui
from app_pages.ui import _
from planner import _time, access, i18n, settings, streets
from planner.hotspots import TimeWindow
from planner.i18n import N_
from planner.output import csv_bytes
from planner.signals.incidents import CATEGORIES

AUDIENCES = {"officer": N_("Officer"), "public": N_("Residents")}
YES_NO = {True: N_("yes"), False: N_("no")}
TRENDS = {"rising": N_("rising ↑"), "falling": N_("falling ↓"), "stable": N_("stable")}
st.header(_("Hotspot map"))

with ui.guarded():
    url, version, wards = cached.wards_or_stop()
    names = list(wards["name"])
    c1, c2, c3 = st.columns([2, 2, 3])
    ward = c1.selectbox(_("Ward"), [None, *names], format_func=lambda w: w or _("All wards"),
                        key="hotspots_ward")
    today = _time.today()
    period = c2.date_input(_("Period"), value=(today - timedelta(days=180), today), key="hotspots_period",
                           format="DD-MM-YYYY")
    chosen = c3.multiselect(_("Categories"), list(CATEGORIES), default=list(CATEGORIES),
                            format_func=ui.category_label, key="hotspots_categories")
    c4, c5, c6 = st.columns([3, 2, 2])
    hours = c4.slider(_("Time window"), value=(time(0, 0), time(23, 59)), step=timedelta(minutes=30),
                      format="HH:mm", key="hotspots_hours")
    days = c5.multiselect(_("Days"), range(7),
                          format_func=lambda d: i18n.weekday_name(d, language=ui.language(), width="abbreviated"),
                          placeholder=_("All days"), key="hotspots_days")
    # Only roles that may see single signals get the choice; everyone else sees areas only.
    audience = c6.radio(_("View"), ["officer", "public"], horizontal=True,
                        format_func=lambda a: _(AUDIENCES[a]),
                        key="hotspots_audience") if ui.can("view_points") else "public"
    start, end = ui.date_range(period)
    whole_day = hours == (time(0, 0), time(23, 59)) and not days
    window = None if whole_day else TimeWindow(
        start=hours[0].strftime("%H:%M"), end="24:00" if hours[1] == time(23, 59) else hours[1].strftime("%H:%M"),
        weekdays=tuple(sorted(days)),
    )
    user = ui.current_user()
    with st.spinner(_("Computing hotspots…")):
        result = cached.hotspots(url, version, user, ward, start.isoformat(), (end + timedelta(days=1)).isoformat(),
                                 tuple(chosen), audience, window)
    params = result.params
    shown_wards = wards if ward is None else wards[wards["name"] == ward]
    spots = result.hotspots
    layers = [maps.ward_layer(shown_wards)]
    has_graph = ward is not None and streets.ward_graph_path(ward, data_dir=settings.data_dir()).exists()
    if has_graph:
        layers.insert(0, maps.streets_layer(cached.ward_streets(str(settings.data_dir()), url, ward)))
    show_streets = has_graph and st.toggle("Hot streets", value=False, key="hotspots_streets")
    if show_streets:
        graph = cached.ward_graph(str(settings.data_dir()), url, ward)
        # The first view after new signals or a rebuilt graph fits the installation's hot streets (seconds).
        with st.spinner(_("Computing hot streets…")):
            scored = access.visible_hot_streets(cached.current_store(), user, graph, ward, result,
                                                data_dir=settings.data_dir())
        hot = scored.edges[scored.edges["density"] > 0].to_crs(4326)
        if len(hot):
            top = hot["density"].max()
            hot = hot.assign(colour=[[200, 0, int(200 * (1 - d / top)), 200] for d in hot["density"]])
            layers.append(maps.lines_layer(hot, layer_id="hot_streets", color="properties.colour",
                                           width=3, columns=["density", "colour"]))
    if len(spots):
        explained = spots.assign(why=spots[i18n.explanation_field(ui.language())])
        layers.append(maps.hotspot_layer(explained, ["id", "n_signals", "score", "why"]))
    if audience == "officer" and result.signals is not None and len(result.signals):
        points = result.signals.assign(category_label=result.signals["category"].map(ui.category_label))
        layers.append(maps.points_layer(points[["lon", "lat", "category_label"]], layer_id="signals",
                                        color=[20, 20, 20, 160], radius=4))
    open_agreements = [a for a in access.visible_agreements(cached.current_store(), user, ward=ward)
                       if a.status != "done" and a.lat is not None]
    if audience == "officer" and open_agreements:
        layers.append(maps.points_layer(
            pd.DataFrame([{"lon": a.lon, "lat": a.lat, "category_label": f"Afspraak: {a.what} ({a.role}, {a.due})"}
                          for a in open_agreements]),
            layer_id="agreements", color=[0, 140, 70, 230], radius=12,
        ))
    st.pydeck_chart(
        maps.deck(layers, maps.view_of(shown_wards),
                  tooltip={"text": "Hotspot {id}: {why}\n{category_label}"}),
        key="hotspots_map", height=520,
    )
    if audience == "public":
        st.caption(
            _("Residents' view: only areas with at least {k} signals, no points.").format(k=settings.PUBLIC_MIN_SIGNALS)
        )
    st.caption(_("Weighting (chosen on this installation's own signals, or the default with too little "
                 "history; see Model card): recency halves every {life} days, {keep_percent} of each weight never "
                 "fades, near repeat {repeat}.").format(
        life=ui.number(params.half_life_days, 0), keep_percent=f"{ui.number(100 * params.recency_floor, 0)} %",
        repeat=_("on") if params.near_repeat_weight > 0 else _("off")))
    if len(spots) == 0:
        st.info(_("No hotspots in this selection."))
    else:
        table = pd.DataFrame(
            {
                "#": spots["id"],
                _("Ward"): spots["ward"],
                _("Signals"): spots["n_signals"],
                _("Score"): spots["score"].map(lambda s: ui.number(s, 1)),
                _("Categories"): spots["top_categories"].map(
                    lambda cs: ", ".join(f"{ui.category_label(c)} ({n})" for c, n in cs)),
                _("Peak hours"): spots["peak_hours"].map(lambda hs: ", ".join(f"{h}u" for h in hs)),
                "Trend": spots["trend"].map(lambda tr: _(TRENDS[tr["direction"]])),
                "Significant": spots["significant"].map(lambda s: _(YES_NO[bool(s)])),
                _("Why"): spots[i18n.explanation_field(ui.language())],
            }
        )
        st.dataframe(table, hide_index=True, key="hotspots_table")
        files = [("geojson", "GeoJSON", "application/geo+json", json.dumps(result.to_geojson(), ensure_ascii=False)
                  .encode()),
                 ("csv", "CSV", "text/csv", csv_bytes(table))]
        for column, (fmt, label, mime, content) in zip(st.columns(2), files, strict=True):
            data = content
            if result.signals is not None:  # a download of the officer view is an access to points: logged on click
                what = json.dumps({"table": "hotspot points", "ward": ward, "since": start.isoformat(),
                                   "until": end.isoformat(), "file": f"hotspots.{fmt}"})
                data = functools.partial(access.record_download, cached.current_store(), user, content, what=what,
                                         n_rows=len(result.signals), format=fmt)
            column.download_button(label, data, file_name=f"hotspots.{fmt}", mime=mime, key=f"hotspots_{fmt}")
