"""Dekking / Coverage: what the teams walked, the hours it took, what it covered, the effect
review with its caveat, agreements, and the municipal report (HTML that prints to PDF)."""

from __future__ import annotations

import math
from datetime import timedelta

import pandas as pd
import streamlit as st

from app_pages import cached, ui
from app_pages.ui import _
from planner import _time, i18n, settings
from planner.access import visible_agreements
from planner.i18n import N_
from planner.review.agreements import AGREEMENT_STATUSES, add_agreement, update_agreement
from planner.review.report import capacity_figure, event_study_figure, render_html

FREQS = {"week": N_("week"), "month": N_("month"), "quarter": N_("quarter")}
st.header(_("Coverage"))

with ui.guarded():
    url, version, wards = cached.wards_or_stop()
    today = _time.today()
    c1, c2 = st.columns([3, 1])
    period = c1.date_input(_("Period"), value=(today - timedelta(weeks=12), today), key="coverage_period",
                           format="DD-MM-YYYY")
    freq = c2.selectbox("Per", list(FREQS), format_func=lambda f: _(FREQS[f]), key="coverage_freq")
    start, end = ui.date_range(period)
    if start > today:
        st.warning(_("This period has not started yet."))
        st.stop()
    user = ui.current_user()
    keys = (url, version, cached.patrol_version(user), cached.outcome_version())
    with st.spinner(_("Computing coverage…")):
        report = cached.coverage_report(*keys, user, str(settings.data_dir()), start.isoformat(),
                                        (end + timedelta(days=1)).isoformat(), freq, today.isoformat())
    summary = report.summary
    if summary.empty:
        st.info(_("No patrols in this period yet."))
    else:
        m1, m2, m3, m4 = st.columns(4)
        m1.metric(_("Patrols"), int(summary["patrols"].sum()))
        m2.metric(_("Person-hours"), ui.number(summary["person_hours"].sum()))
        m3.metric(_("Walked"), f"{ui.number(summary['km'].sum(), 1)} km")
        m4.metric(_("Overdue agreements"), int(summary["overdue_agreements"].sum()))

        st.subheader(_("Coverage per ward"))
        table = summary.assign(
            hotspot_share_visited=summary["hotspot_share_visited"].map(lambda v: ui.percent(v) if pd.notna(v) else "–"),
            street_share_walked=summary["street_share_walked"].map(ui.percent),
            person_hours=summary["person_hours"].map(ui.number),
            km=summary["km"].map(lambda v: ui.number(v, 1)),
        )[["ward", "patrols", "person_hours", "km", "hotspot_share_visited", "street_share_walked",
           "idle_hot_streets", "overdue_agreements"]]
        st.dataframe(table.rename(columns={
            "ward": _("Ward"), "patrols": _("Patrols"),
            "person_hours": _("Person-hours"), "km": "km",
            "hotspot_share_visited": _("Hotspots visited"),
            "street_share_walked": _("Streets walked"),
            "idle_hot_streets": _("Idle hot streets"),
            "overdue_agreements": _("Overdue agreements"),
        }), hide_index=True, key="coverage_table")

        left, right = st.columns(2)
        over_time = report.coverage.pivot_table(index="period", columns="ward", values="person_hours", aggfunc="sum")
        left.caption(_("Person-hours per {period}").format(period=_(FREQS[freq])))
        left.line_chart(over_time, height=260)
        signals = report.signals.pivot_table(index="period", columns="ward", values="signals", aggfunc="sum")
        right.caption(_("Signals per {period}").format(period=_(FREQS[freq])))
        right.line_chart(signals, height=260)

    st.subheader(_("Effect review"))
    review = report.effect
    outcomes = {"registered": _("registered crime"),
                "signals": _("signals (not found on patrol)")}
    stored_outcome = cached.default_outcome(url, cached.outcome_version(), version)
    with st.expander(_("Design of the comparison")):
        outcome = st.radio(_("Outcome"), list(outcomes) if stored_outcome == "registered"
                           else ["signals"], format_func=outcomes.get, horizontal=True, key="effect_outcome")
        e1, e2 = st.columns([1, 2])
        split = e1.date_input(_("More patrols from"), value=review.split,
                              min_value=start, max_value=end, key="effect_split", format="DD-MM-YYYY")
        treated = e2.multiselect(
            _("Wards with more patrols (empty: from the patrol log)"), list(wards["name"]), key="effect_treated")
    if split != review.split or treated or outcome != stored_outcome:
        with st.spinner(_("Computing the effect…")):
            review = cached.effect_review(*keys, start.isoformat(), (end + timedelta(days=1)).isoformat(),
                                          split.isoformat(), tuple(treated) or None, outcome, today.isoformat())
    result = review.result
    if result is None:
        st.info((_("No effect review possible: ")) + review.note)
    else:
        language = ui.language()
        st.write(result.verdict(language))
        f1, f2, f3, f4 = st.columns(4)
        f1.metric(_("Change"), ui.percent(result.estimate - 1))
        bounded = result.ci_low > 0 and math.isfinite(result.ci_high)
        f2.metric("95%-interval", f"{ui.percent(result.ci_low - 1)} – {ui.percent(result.ci_high - 1)}" if bounded
                  else (_("unbounded")))
        f3.metric(_("p-value"), ui.number(result.p_value, 2))
        f4.metric(_("Minimum detectable effect"),
                  ui.percent(result.mde) if result.mde < 1 else (_("not detectable")))
        st.pyplot(event_study_figure(result, language=language), clear_figure=False)
        st.write(result.mde_sentence(language))
        if result.placebo:
            st.write(result.placebo_sentence(language))
        table = result.table
        st.dataframe(pd.DataFrame({
            _("Ward"): table["ward"],
            _("Group"): table["treated"].map(
                {True: _("more patrols"), False: _("comparison")}),
            _("Mean before"): table["before"].map(lambda v: ui.number(v, 1)),
            _("Mean after"): table["after"].map(lambda v: ui.number(v, 1)),
            **({_("Hours/week before"): table["hours_per_week_before"].map(ui.number),
                _("Hours/week after"): table["hours_per_week_after"].map(ui.number)}
               if "hours_per_week_before" in table else {}),
        }), hide_index=True, key="coverage_effect")
    st.caption(review.caveat(ui.language()))

    st.subheader(_("What a ward needs"))
    n1, n2, n3 = st.columns([2, 1, 1])
    needs_ward = n1.selectbox(_("Ward"), list(wards["name"]), key="needs_ward")
    needs_teams = n2.number_input(_("Teams a night"), 1, 3, 1, key="needs_teams")
    if n3.button(_("Compute"), key="needs_compute") or st.session_state.get("needs_shown"):
        st.session_state["needs_shown"] = True
        with st.spinner(_("Planning rounds for every budget…")), \
                ui.guarded():
            curve = cached.capacity(url, version, cached.patrol_version(user), str(settings.data_dir()), needs_ward,
                                    int(needs_teams), (end + timedelta(days=1)).isoformat())
            st.pyplot(capacity_figure((curve,), language=ui.language()), clear_figure=False)
            st.write(curve.sentence(ui.language()))
            if result is not None:
                st.caption(result.mde_sentence(ui.language()))

    st.subheader(_("Agreements"))
    agreements = visible_agreements(cached.current_store(), user)
    if agreements:
        frame = pd.DataFrame([{**a.to_json(), "overdue": a.is_overdue(today)} for a in agreements])
        st.dataframe(frame[["id", "ward", "what", "role", "due", "status", "hotspot", "overdue"]].assign(
            status=frame["status"].map(lambda s: i18n.agreement_status_label(s, language=ui.language())),
        ).rename(columns={
            "ward": _("Ward"), "what": _("What"), "role": _("Who"),
            "due": _("Due"), "overdue": _("Overdue"),
        }), hide_index=True, key="coverage_agreements_table")
        a1, a2, a3 = st.columns([1, 2, 1])
        chosen = a1.selectbox(_("Agreement"), [a.id for a in agreements], key="coverage_agreement")
        new_status = a2.radio("Status", list(AGREEMENT_STATUSES), horizontal=True, key="coverage_agreement_status",
                              format_func=lambda s: i18n.agreement_status_label(s, language=ui.language()))
        if a3.button(_("Update"), key="coverage_agreement_update"):
            update_agreement(cached.current_store(), chosen, status=new_status)
            st.success(_("Updated."))
    with st.expander(_("New agreement")), st.form("coverage_new_agreement"):
        ward = st.selectbox(_("Ward"), list(wards["name"]), key="agreement_ward")
        what = st.text_input(_("What"), key="agreement_what",
                             placeholder="Extra verlichting bij het speelveld")
        role = st.text_input(_("Who (role)"), key="agreement_role", placeholder="gemeente")
        due = st.date_input(_("Due"), value=today + timedelta(weeks=4), key="agreement_due",
                            format="DD-MM-YYYY")
        if st.form_submit_button(_("Add")):
            add_agreement(cached.current_store(), ward=ward, what=what, role=role, due=due)
            st.success(_("Agreement added."))

    st.subheader(_("Report"))
    st.write(_("The municipal report: open it in a browser and print it to PDF."))
    if st.button(_("Make the report"), key="coverage_report_make"):
        with st.spinner(_("Making the report…")):
            full = cached.coverage_report(*keys, user, str(settings.data_dir()), start.isoformat(),
                                          (end + timedelta(days=1)).isoformat(), freq, today.isoformat(), needs=True)
        st.download_button(_("Report (HTML)"), render_html(full).encode(),
                           file_name=f"was-rapport-{start.isoformat()}-{end.isoformat()}.html", mime="text/html",
                           key="coverage_report_download")
