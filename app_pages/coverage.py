"""Dekking / Coverage: patrol coverage per ward for the municipality (filled by the coverage work)."""

import streamlit as st

from app_pages import cached, ui

st.header(ui.t("page_coverage"))
with ui.guarded():
    summary = cached.ward_summary(cached.database_url(), cached.data_version())
    st.info(
        "Hier komt het overzicht van gelopen surveillances, uren en dekking per wijk. "
        "Tot die tijd: het aantal signalen per wijk." if ui.language() == "nl" else
        "Walked patrols, hours and coverage per ward will appear here. Until then: signals per ward."
    )
    if summary:
        st.bar_chart({w["name"]: w["incidents"] for w in summary}, horizontal=True)
