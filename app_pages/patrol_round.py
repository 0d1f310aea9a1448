"""Ronde / On patrol: tonight's saved round on a phone. Opened from the briefing's link or QR
code (``/ronde?patrol=ID&team=N``) or picked from tonight's rounds of a ward: the map first,
the next stop with its distance from where I am, a short list of numbered stops to mark
visited, a signal sent from my position, and finishing the round (recorded as walked)."""

from __future__ import annotations

from datetime import datetime, timedelta

import geopandas as gpd
import pandas as pd
import streamlit as st

from app_pages import cached, maps, ui
from app_pages.geolocation import where_am_i
from app_pages.ui import _, ngettext
from planner import _time, access, settings, streets
from planner.rounds import ARRIVED_M, PatrolRound, RoundTeam
from planner.signals.incidents import CATEGORIES
from planner.users import User

MAP_HEIGHT = 380
FAR_M = 3000  # a position further than this from the stops (not out yet) does not frame the map
VISITED, NEXT, LATER, HERE = [150, 150, 150, 230], [230, 92, 0, 255], [0, 92, 230, 255], [20, 120, 255, 255]


def _query_int(name: str) -> int | None:
    text = st.query_params.get(name)
    if text is None or text == "":
        return None
    try:
        return int(text)
    except ValueError:
        st.error(_("The link's {name} must be a number, got “{value}”: open the round from the briefing again.")
                 .format(name=name, value=text))
        return None


def _clock(moment: datetime) -> str:
    return moment.astimezone(_time.local_zone()).strftime("%H:%M")


def _open(patrol_id: int, team: int) -> None:
    st.query_params.update(patrol=str(patrol_id), team=str(team))


def choose_round() -> None:
    """Tonight's saved rounds of a ward, one tap each."""
    _url, _version, wards = cached.wards_or_stop()
    ward = st.selectbox(_("Ward"), list(wards["name"]), key="round_ward")
    local = _time.local_zone()
    today = datetime.combine(_time.today(), datetime.min.time(), tzinfo=local)
    rounds = access.visible_patrols(cached.current_store(), ui.current_user(), ward=ward,
                                    since=today, until=today + timedelta(days=1, hours=6))
    rounds = [r for r in rounds if r.status != "cancelled" and r.planned_start is not None]
    if not rounds:
        st.info(_("No round saved for tonight in {ward}. Plan one on “Tonight's patrol” and save it.")
                .format(ward=ward))
        return
    for record in rounds:
        label = _("Round {id} · {start}–{end} · {status}").format(
            id=record.id, start=_clock(record.planned_start), end=_clock(record.planned_end),
            status=_("walked") if record.walked else _("planned"))
        st.button(label, key=f"round_open_{record.id}", on_click=_open, args=(record.id, 1), width="stretch")


def round_map(team: RoundTeam, here: dict | None, *, pick: bool, ward: str) -> None:
    """The team's path and stops (visited grey, next orange, later blue) and my position."""
    stops = pd.DataFrame([{"lon": s.lon, "lat": s.lat, "label": str(s.number), "visited": s.visited}
                          for s in team.stops], columns=["lon", "lat", "label", "visited"])
    upcoming = team.next_stop
    colour = [VISITED if s.visited else NEXT if s is upcoming else LATER for s in team.stops]
    stops["colour"] = colour
    stops["radius"] = [26 if s is upcoming else 14 for s in team.stops]
    layers = []
    has_graph = streets.ward_graph_path(ward, data_dir=settings.data_dir()).exists()
    if has_graph:
        layers.append(maps.streets_layer(cached.ward_streets(str(settings.data_dir()), cached.database_url(), ward)))
    if pick and has_graph:  # the crossings to tap are the street graph's nodes
        nodes = pd.DataFrame(cached.graph_nodes_lonlat(str(settings.data_dir()), cached.database_url(), ward))
        layers.append(maps.points_layer(nodes, layer_id="signal_pick", color=[60, 60, 60, 110], radius=6,
                                        min_pixels=8))
    if len(team.path_lonlat) > 1:
        layers.append(maps.path_layer(team.path_lonlat, layer_id="route", color=[*LATER[:3], 170]))
    if len(stops):
        layers.append(maps.points_layer(stops, layer_id="stops", color="colour", radius="radius", pickable=False))
        layers.append(maps.labels_layer(stops, layer_id="stop_numbers"))
    frame = list(team.path_lonlat) or [(s.lon, s.lat) for s in team.stops]
    if here is not None:
        layers.append(maps.points_layer(pd.DataFrame([{**here, "radius": max(here["accuracy"], 8.0)}]),
                                        layer_id="accuracy", color=[*HERE[:3], 50], radius="radius", pickable=False))
        layers.append(maps.points_layer(pd.DataFrame([here]), layer_id="here", color=HERE, radius=7, pickable=False))
        if not team.stops or min(s.distance_m(here["lat"], here["lon"]) for s in team.stops) < FAR_M:
            frame.append((here["lon"], here["lat"]))
    view = maps.view_of(gpd.GeoDataFrame(geometry=gpd.points_from_xy(*zip(*frame, strict=True)), crs=4326),
                        height=MAP_HEIGHT, width=300) if frame else None
    event = st.pydeck_chart(maps.deck(layers, view), key="round_map", height=MAP_HEIGHT,
                            on_select="rerun", selection_mode="single-object")
    picked = (event.selection.get("objects", {}) or {}).get("signal_pick") if event else None
    if picked:
        st.session_state["round_signal_at"] = (float(picked[0]["lat"]), float(picked[0]["lon"]))


def next_stop(round_: PatrolRound, team: RoundTeam, here: dict | None) -> None:
    upcoming = team.next_stop
    if upcoming is None:
        if team.stops:
            st.success(ngettext("The stop is visited. Finish the round below.",
                                "All {n} stops visited. Finish the round below.", len(team.stops)).format(
                n=len(team.stops)))
        return
    arrive = round_.planned_start + timedelta(minutes=upcoming.arrive_min)
    st.subheader(_("Next: {number}. {name}").format(number=upcoming.number, name=upcoming.label(ui.language()) or "—"))
    facts = [_("planned {time}").format(time=_clock(arrive))]
    if here is not None:
        metres = upcoming.distance_m(here["lat"], here["lon"])
        facts.append(_("you are there") if metres <= ARRIVED_M
                     else _("{m} m in a straight line").format(m=ui.number(round(metres, -1))))
    st.markdown(" · ".join(facts))
    # The sentence starts with its own "Look for:" ("Let op:"), as on the briefing.
    if look_for := upcoming.look_for_in(ui.language()):
        st.caption(look_for)
    if st.button(_("✓ Stop {number} visited").format(number=upcoming.number), type="primary",
                 key="round_visit", width="stretch"):
        access.visit_stop(cached.current_store(), ui.current_user(), round_.id, team=team.team,
                          stop=upcoming.number)
        st.rerun()


def stop_list(round_: PatrolRound, team: RoundTeam) -> None:
    upcoming = team.next_stop
    lines = []
    for stop in team.stops:
        planned = _clock(round_.planned_start + timedelta(minutes=stop.arrive_min))
        # Material icons come with Streamlit's own font: they show on every phone, emoji do not.
        if stop.visited:
            mark, when = ":material/check_circle:", _("visited {time}").format(time=_clock(stop.visited_at))
        else:
            mark = ":material/arrow_forward:" if stop is upcoming else ":material/radio_button_unchecked:"
            when = planned
        lines.append(f"{mark} **{stop.number}** {_escape(stop.label(ui.language()))} · {when}")
    if lines:
        st.markdown("  \n".join(lines))
    last = max((s for s in team.stops if s.visited), key=lambda s: s.visited_at, default=None)
    if last is not None and st.button(_("Undo: stop {number} not visited").format(number=last.number),
                                      key="round_undo"):
        access.visit_stop(cached.current_store(), ui.current_user(), round_.id, team=team.team,
                          stop=last.number, visited=False)
        st.rerun()


def _escape(text: str) -> str:
    """Markdown-inert text: a street name is shown as written, never as formatting or a link."""
    return "".join(f"\\{c}" if c in "\\`*_{}[]<>()#+-.!|~" else c for c in text)


def signal_here(round_: PatrolRound, here: dict | None) -> None:
    """Report what the team sees, at my position or a crossing tapped on the map."""
    st.subheader(_("Signal from here"))
    where = st.radio(_("Where"), ["here", "map"], horizontal=True, key="round_signal_where",
                     format_func={"here": _("My position"), "map": _("Tap a crossing on the map")}.get)
    if where == "here":
        place = None if here is None else (here["lat"], here["lon"])
        if place is None:
            st.caption(_("No position yet: allow your location above, or choose “Tap a crossing on the map”."))
    else:
        place = st.session_state.get("round_signal_at")
        st.caption(_("Tapped: {lat:.5f}, {lon:.5f}").format(lat=place[0], lon=place[1]) if place
                   else _("Tap a grey dot on the map above."))
    with st.form("round_signal", clear_on_submit=True, border=False):
        category = st.selectbox(_("Category"), list(CATEGORIES), format_func=ui.category_label,
                                key="round_signal_category")
        kind = st.radio(_("When"), ["now", "window"], horizontal=True, key="round_signal_when",
                        format_func={"now": _("Just now"), "window": _("Earlier, between")}.get)
        t1, t2 = st.columns(2)
        moment = _time.now()
        first = t1.time_input(_("From"), value=(moment - timedelta(hours=1)).time().replace(second=0, microsecond=0),
                              key="round_signal_from")
        last = t2.time_input(_("Until"), value=moment.time().replace(second=0, microsecond=0), key="round_signal_to")
        description = st.text_area(_("What do you see? (no names or descriptions of people)"), max_chars=500,
                                   key="round_signal_text", height=80)
        sent = st.form_submit_button(_("Send signal"), type="primary", width="stretch")
    if not sent:
        return
    if place is None:
        st.error(_("Where: allow your location or tap a crossing on the map, then send again."))
        return
    when = moment.strftime("%H:%M") if kind == "now" else f"{first:%H:%M}-{last:%H:%M}"
    fields = {"date": moment.strftime("%d-%m-%Y"), "time": when, "category": category,
              "lat": f"{place[0]:.6f}", "lon": f"{place[1]:.6f}", "description": description.strip(),
              "on_patrol": "ja"}
    reporter = ui.current_user() if ui.accounts_enabled() else User(name="ronde", role="resident")
    report = access.report_signal(cached.current_store(), reporter, fields)
    if report.imported:
        st.success(_("Signal sent: {category}, {time}, at {lat:.5f}, {lon:.5f}. Thank you!").format(
            category=ui.category_label(category), time=when, lat=place[0], lon=place[1]))
    elif report.duplicates:
        st.info(_("This signal was already sent."))
    else:
        for _row, reason in report.reasons:
            st.error(reason)


def finish(round_: PatrolRound) -> None:
    st.subheader(_("Finish the round"))
    if round_.status == "walked":
        st.caption(_("Recorded as walked. Finishing again records the later end and the stops marked since."))
    else:
        st.caption(_("The streets count as walked up to each team's furthest visited stop, the whole route once "
                     "its last stop is visited."))
    # One patrol holds every team's round, so the person-hours need everyone who walked it.
    question = _("How many of you walked?") if len(round_.teams) < 2 else _("How many walked, all teams together?")
    people = st.number_input(question, 1, 20, max(1, min(round_.team_size, 20)), key="round_people")
    if st.button(_("Round finished"), key="round_finish", width="stretch"):
        done = access.finish_round(cached.current_store(), ui.current_user(), round_.id, team_size=int(people))
        st.success(_("Recorded as walked {start}–{end}: {visited} of {total} stops visited.").format(
            start=_clock(done.actual_start), end=_clock(done.actual_end),
            visited=sum(t.n_visited for t in done.teams), total=sum(len(t.stops) for t in done.teams)))


st.header(_("On patrol"))

with ui.guarded():
    patrol_id = _query_int("patrol")
    if patrol_id is None:
        choose_round()
        st.stop()
    round_ = access.patrol_round(cached.current_store(), ui.current_user(), patrol_id)
    numbers = [t.team for t in round_.teams] or [1]
    team_no = _query_int("team") or numbers[0]
    if team_no not in numbers:
        st.error(_("This round has no team {team}; showing team {first}.").format(team=team_no, first=numbers[0]))
        team_no = numbers[0]
    st.caption(_("{ward} · {start}–{end} · team {team}").format(
        ward=round_.ward, start=_clock(round_.planned_start), end=_clock(round_.planned_end), team=team_no))
    if len(numbers) > 1:
        chosen = st.segmented_control(_("Team"), numbers, default=team_no, key="round_team")
        if chosen is not None and chosen != team_no:
            _open(round_.id, chosen)
            st.rerun()
    team = round_.team(team_no)
    here = where_am_i(key="round_where")
    pick = st.session_state.get("round_signal_where") == "map"
    round_map(team, here, pick=pick, ward=round_.ward)
    next_stop(round_, team, here)
    stop_list(round_, team)
    signal_here(round_, here)
    finish(round_)
    st.button(_("Other rounds of tonight"), key="round_other", on_click=st.query_params.clear)
