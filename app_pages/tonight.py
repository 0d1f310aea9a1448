"""Vanavond / Tonight's patrol: a WAS team picks ward, start, time and teams and gets
routes over the streets with numbered stops, downloads and a printable briefing."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st

from app_pages import cached, maps, ui
from app_pages.ui import _
from planner import _time, i18n, settings
from planner._time import local_zone
from planner.patrols import save_planned_patrol
from planner.rounds import round_link
from planner.routing.export import briefing_html, plan_to_geojson, plan_to_gpx, what_to_look_for
from planner.routing.routes import RouteParams

st.header(_("Tonight's patrol"))

with ui.guarded():
    url, version, wards = cached.wards_or_stop()
    c1, c2, c3, c4 = st.columns([2, 1.2, 1, 2])
    ward = c1.selectbox(_("Ward"), list(wards["name"]), key="tonight_ward")
    day = c2.date_input(_("Date"), value=_time.today(), key="tonight_date", format="DD-MM-YYYY")
    start_time = c3.time_input("Start", value=time(20, 0), step=timedelta(minutes=15), key="tonight_start")
    minutes = c4.slider(_("Duration (minutes)"), 30, 240, 90, step=15, key="tonight_minutes")
    c5, c6, c7, c8 = st.columns([1, 1.5, 1.5, 1.5])
    teams = c5.number_input("Teams", 1, settings.MAX_TEAMS, 1, key="tonight_teams")
    speed = c6.slider(_("Walking speed (km/h)"), 3.0, 6.0,
                      settings.WALKING_SPEED_KMH, step=0.5, key="tonight_speed")
    dwell = c7.slider(_("Stop at hotspot (min)"), 0, 20,
                      int(settings.DWELL_MINUTES), key="tonight_dwell")
    variety = c8.toggle(_("Vary from previous rounds"), value=True,
                        key="tonight_variety")

    shape = wards[wards["name"] == ward]
    ward_row = shape.iloc[0]
    graph = cached.ward_graph(str(settings.data_dir()), url, ward)
    meeting = ward_row.get("meeting_point_name")
    start_options = (["meeting"] if isinstance(meeting, str) and meeting else []) + ["map", "coordinates"]
    labels = {
        "meeting": f"{meeting}" if isinstance(meeting, str) else "",
        "map": _("Click a crossing on the map"),
        "coordinates": _("Coordinates"),
    }
    how = st.radio(_("Start point"), start_options, format_func=labels.get, horizontal=True,
                   key="tonight_start_kind")
    if how == "meeting":
        start = (float(ward_row["meeting_point_lat"]), float(ward_row["meeting_point_lon"]))
    elif how == "coordinates":
        text = st.text_input("lat, lon", key="tonight_start_text", placeholder="52.5530, 5.2360")
        start = ui.lat_lon(text)
        if text and start is None:
            st.error(_("Start point: write as 52.5530, 5.2360"))
    else:
        start = st.session_state.get("tonight_picked")

    local = local_zone()
    begin = datetime.combine(day, start_time, tzinfo=local)
    end = begin + timedelta(minutes=minutes)
    window = f"{start_time.strftime('%H:%M')}-{end.strftime('%H:%M')}"
    params = RouteParams(minutes=float(minutes), teams=int(teams), dwell_min=float(dwell), speed_kmh=float(speed),
                         variety_penalty=settings.VARIETY_PENALTY if variety else 0.0)
    vary_last = settings.VARY_LAST_ROUNDS if variety else 0
    # Once this evening's plan is saved it stays on screen with its phone links: the log it was
    # planned against is kept, so the saved round itself does not make the plan vary from it.
    slot = f"{ward}|{begin.isoformat()}|{params}|{start}"
    saved_plans = st.session_state.setdefault("tonight_saved", {})
    saved_id, patrol_log = saved_plans.get(slot, (None, None))
    if patrol_log is None:
        patrol_log = cached.current_store().recent_patrol_edges(ward, last=vary_last) if variety else frozenset()
    with st.spinner(_("Planning the route…")):
        plan = cached.patrol_plan(
            url, version, str(settings.data_dir()), ward, window, begin.weekday(), params, start, vary_last,
            patrol_log,
        )

    team_totals = [(team.length_m, team.duration_min) for team in plan.teams]
    visited = sum(len(team.stops) for team in plan.teams)
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(_("Distance"), f"{ui.number(sum(t[0] for t in team_totals) / 1000, 1)} km")
    m2.metric(_("Duration (longest team)"),
              f"{ui.number(max((t[1] for t in team_totals), default=0))} min")
    m3.metric("Stops", visited,
              help=_("Hotspots and hot streets on the route"))
    m4.metric(_("Share of hotspot score"), ui.percent(plan.covered_share))
    for note in plan.notes:
        st.info(note)

    layers = [maps.streets_layer(cached.ward_streets(str(settings.data_dir()), url, ward)), maps.ward_layer(shape)]
    if plan.hotspots is not None and len(plan.hotspots):
        layers.append(maps.hotspot_layer(plan.hotspots, ["id", "n_signals", "score"]))
    stops = []
    for number, team in enumerate(plan.teams, start=1):
        colour = maps.TEAM_COLOURS[(number - 1) % len(maps.TEAM_COLOURS)]
        if len(team.path_lonlat) > 1:
            layers.append(maps.path_layer(team.path_lonlat, layer_id=f"team{number}", color=colour))
        for stop in team.stops:
            arrive = begin + timedelta(minutes=stop.arrive_min)
            stops.append({"team": number, "label": str(stop.number), "lon": stop.lon, "lat": stop.lat,
                          "stop": stop.number, "name": stop.label(ui.language()), "arrive": arrive.strftime("%H:%M"),
                          "dwell": stop.dwell_min, "categories": stop.categories,
                          "why": getattr(stop, i18n.explanation_field(ui.language()))})
    if how == "map":
        nodes = pd.DataFrame(cached.graph_nodes_lonlat(str(settings.data_dir()), url, ward))
        layers.append(maps.points_layer(nodes, layer_id="start_pick", color=[60, 60, 60, 90], radius=5))
    layers.append(maps.points_layer(pd.DataFrame([{"lon": plan.start_lonlat[0], "lat": plan.start_lonlat[1]}]),
                                    layer_id="start", color=[0, 0, 0, 255], radius=12, pickable=False))
    if stops:
        layers.append(maps.labels_layer(pd.DataFrame(stops), layer_id="stops"))
    event = st.pydeck_chart(
        maps.deck(layers, maps.view_of(shape)), key="tonight_map", height=520,
        on_select="rerun", selection_mode="single-object",
    )
    picked = (event.selection.get("objects", {}) or {}).get("start_pick") if event else None
    if picked and (picked[0]["lat"], picked[0]["lon"]) != st.session_state.get("tonight_picked"):
        st.session_state["tonight_picked"] = (picked[0]["lat"], picked[0]["lon"])
        st.rerun()

    if stops:
        table = pd.DataFrame(stops)
        table["look_for"] = table["categories"].map(lambda cs: what_to_look_for(cs, language=ui.language()))
        st.dataframe(
            table[["team", "stop", "name", "arrive", "dwell", "look_for", "why"]].rename(columns={
                "stop": "#", "name": "Stop", "arrive": _("Arrive"),
                "dwell": "Min", "look_for": _("Look for"), "why": _("Why"),
            }),
            hide_index=True, key="tonight_stops",
        )
    else:
        st.info(_("No stops fit in this time."))
    if plan.left_out:
        st.caption((_("Left out: "))
                   + plan.left_out[i18n.explanation_field(ui.language())])

    title = _("WAS patrol {ward}").format(ward=ward)
    when = f"{ui.day(begin)} {window}"
    geojson = plan_to_geojson(plan)
    links = None if saved_id is None else {
        t: round_link(ui.public_url(), saved_id, t) for t in range(1, len(plan.teams) + 1)}
    d1, d2, d3 = st.columns(3)
    d1.download_button("GPX", plan_to_gpx(plan, name=title, language=ui.language()).encode(), file_name=f"{title}.gpx",
                       mime="application/gpx+xml", key="tonight_gpx")
    d2.download_button("GeoJSON", json.dumps(geojson).encode(), file_name=f"{title}.geojson",
                       mime="application/geo+json", key="tonight_geojson")
    d3.download_button(_("Briefing (HTML)"),
                       briefing_html(plan, ward=ward, title=title, when=when, language=ui.language(),
                                     links=links).encode(),
                       file_name=f"{title}.html", mime="text/html", key="tonight_briefing",
                       help=None if links else _("Save the patrol first to get the phone link and QR code on it."))
    s1, s2 = st.columns([1, 3], vertical_alignment="bottom")
    per_team = s1.number_input(_("People per team"), 1, 20, settings.TEAM_SIZE, key="tonight_people",
                               disabled=saved_id is not None)
    if s2.button(_("Save as planned patrol"), key="tonight_save", disabled=saved_id is not None):
        edges = frozenset(edge for team in plan.teams for edge in team.edges)
        # The patrol log counts everyone out tonight: its person-hours feed the coverage review.
        saved = save_planned_patrol(cached.current_store(), ward=ward, start=begin, minutes=minutes,
                                    team_size=int(per_team) * int(teams), route_geojson=geojson, edges=edges)
        saved_plans[slot] = (saved.id, patrol_log)
        st.rerun()
    if saved_id is not None:
        st.success(_("Saved as patrol {id}. On a phone, open the round of each team:").format(id=saved_id))
        for t in range(1, len(plan.teams) + 1):
            st.page_link("app_pages/patrol_round.py", label=_("Team {team}: on patrol").format(team=t),
                         icon=":material/near_me:", query_params={"patrol": saved_id, "team": t})

    with st.expander(_("Record a walked patrol")):
        from planner.access import visible_patrols
        from planner.patrols import WalkDetails, import_track, mark_walked, walk_end

        planned = visible_patrols(cached.current_store(), ui.current_user(), ward=ward, status="planned")
        if planned:
            choice = st.selectbox(
                _("Planned patrol"), planned, key="walked_patrol",
                format_func=lambda p: f"{p.id}: {p.planned_start.astimezone(local):%d-%m-%Y %H:%M}, "
                                      f"{p.team_size} pers.",
            )
            w1, w2 = st.columns(2)
            began = w1.time_input(_("Started at"),
                                  value=choice.planned_start.astimezone(local).time(), key="walked_start")
            ended = w2.time_input(_("Finished at"),
                                  value=choice.planned_end.astimezone(local).time(), key="walked_end")
            notes = st.text_input(_("Notes (no names)"), key="walked_notes")
            if st.button(_("Mark as walked"), key="walked_mark"):
                walk_day = choice.planned_start.astimezone(local).date()
                actual_start = datetime.combine(walk_day, began, tzinfo=local)
                actual_end = walk_end(actual_start, ended)
                mark_walked(cached.current_store(), choice.id, actual_start=actual_start, actual_end=actual_end,
                            notes=notes or None)
                st.success(_("Recorded."))
        else:
            st.caption(_("No planned patrols in this ward."))
        track = st.file_uploader(
            _("Or upload a walked GPS track (GPX)"),
            type=["gpx"], key="walked_gpx",
        )
        people = st.number_input(_("Team size"), 1, 20, settings.TEAM_SIZE, key="walked_team_size")
        if st.button(_("Import GPX"), key="walked_import", disabled=track is None):
            with st.spinner(_("Matching the track to the streets…")):
                imported = import_track(cached.current_store(), graph, track.getvalue(), ward=ward,
                                        details=WalkDetails(team_size=int(people)))
            km = ui.number(imported.patrol.length_m / 1000, 1)
            if imported.duplicate:
                st.info(_("This track is recorded already as patrol {id}.").format(id=imported.patrol.id))
            else:
                st.success(_("Track recorded as patrol {id}: {km} km.").format(id=imported.patrol.id, km=km))
