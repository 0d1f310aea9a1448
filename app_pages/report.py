"""Signaal melden / Report a signal: a form saved at once through the importer's own checks."""

from __future__ import annotations

from datetime import time

import pandas as pd
import streamlit as st

from app_pages import cached, maps, ui
from app_pages.geolocation import where_am_i
from app_pages.ui import _, pgettext
from planner import _time, settings, streets
from planner.access import report_signal
from planner.i18n import N_
from planner.signals.incidents import CATEGORIES
from planner.users import User

FIELDS = {  # which widget a rejection reason's field belongs to
    "date": "report_date", "time": "report_time", "category": "report_category",
    "lat/lon": "report_location", "location": "report_location", "source": "report_source",
}
TIME_KINDS = {"exact": N_("Known"), "window": N_("Only a window")}
ROLES = ("resident", "officer", "municipality")


def role_label(role: str) -> str:
    # "Officer" is "Wijkagent" as a reporter's role but "Agent" as the map's view: a message context each.
    return {"resident": _("WAS member / resident"), "officer": pgettext("reporter role", "Officer"),
            "municipality": _("Municipality")}[role]



st.header(_("Report a signal"))
st.caption(
    _("Report what you saw. Do not write down names or descriptions of people.")
)

with ui.guarded():
    url, version, wards = cached.wards_or_stop()

    ward = st.selectbox(_("Ward"), list(wards["name"]), key="report_ward")
    shape = wards[wards["name"] == ward]
    grid = maps.grid_points(shape, spacing_m=40)
    st.caption(
        _("Click the place on the map (a dot) or enter coordinates below.")
    )
    here = where_am_i(key="report_where")
    if here is not None and st.button(_("Use my position (± {accuracy} m)").format(accuracy=round(here["accuracy"])),
                                      key="report_use_position"):
        st.session_state["report_location"] = f"{here['lat']:.6f}, {here['lon']:.6f}"
    layers = [maps.ward_layer(shape), maps.points_layer(grid, layer_id="pick", color=[0, 92, 230, 45], radius=5)]
    if streets.ward_graph_path(ward, data_dir=settings.data_dir()).exists():
        layers.insert(0, maps.streets_layer(cached.ward_streets(str(settings.data_dir()), cached.database_url(), ward)))
    chosen = ui.lat_lon(st.session_state.get("report_location", ""))
    if chosen:
        layers.append(maps.points_layer(pd.DataFrame([{"lat": chosen[0], "lon": chosen[1]}]), layer_id="chosen",
                                        color=[200, 0, 0, 255], radius=14, pickable=False))
    event = st.pydeck_chart(
        maps.deck(layers, maps.view_of(shape, height=420)),
        on_select="rerun", selection_mode="single-object", key="report_map", height=420,
    )
    picked = (event.selection.get("objects", {}) or {}).get("pick") if event else None
    if picked:
        st.session_state["report_location"] = f"{picked[0]['lat']:.6f}, {picked[0]['lon']:.6f}"

    with st.form("report_form", clear_on_submit=False):
        category = st.selectbox(
            _("Category"), list(CATEGORIES), format_func=ui.category_label, key="report_category",
        )
        left, right = st.columns(2)
        when_day = left.date_input(
            _("Date"), value=_time.today(), key="report_date",
            format="DD-MM-YYYY",
        )
        known = right.radio(
            _("Time"),
            ["exact", "window"],
            format_func=lambda k: _(TIME_KINDS[k]),
            horizontal=True, key="report_time_kind",
        )
        t1, t2 = st.columns(2)
        moment = _time.now()
        first = t1.time_input(_("From / at"),
                              value=moment.replace(minute=moment.minute // 5 * 5).time(), key="report_time")
        last = t2.time_input(_("Until (for a window)"),
                             value=time(7, 0), key="report_time_to")
        location = st.text_input(
            _("Location (latitude, longitude)"),
            key="report_location", placeholder="52.0601, 4.4940",
        )
        description = st.text_area(
            _("What did you see? (optional)"),
            key="report_description", max_chars=500,
        )
        role = "resident"
        if not ui.accounts_enabled():  # signed-in users report under their own role
            role = st.selectbox(
                _("I am"), ROLES,
                format_func=role_label, key="report_source",
            )
        submitted = st.form_submit_button(_("Save"), type="primary")

    if submitted:
        lat, _comma, lon = (location or "").partition(",")
        tijd = first.strftime("%H:%M") + (f"-{last.strftime('%H:%M')}" if known == "window" else "")
        fields = {
            "date": when_day.strftime("%d-%m-%Y"), "time": tijd, "category": category,
            "lat": lat.strip(), "lon": lon.strip(), "description": description.strip(),
        }
        reporter = ui.current_user() if ui.accounts_enabled() else User(name="formulier", role=role)
        report = report_signal(cached.current_store(), reporter, fields)
        if report.imported:
            st.success(_("Saved. Thank you!"))
        elif report.duplicates:
            st.info(_("This signal was already reported."))
        else:
            for _row, reason in report.reasons:
                field = reason.split(":", 1)[0]
                label = FIELDS.get(field, field)
                st.error(f"**{label.replace('report_', '')}** — {reason}")
