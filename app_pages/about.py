"""Over / About: the model card (how WAS Planner decides, on this installation's own data) and
the filled-in DPIA template for the municipality."""

import streamlit as st

from app_pages import cached, ui
from app_pages.ui import _
from planner.review.modelcard import dpia

st.header(_("Model card"))
with ui.guarded():
    with st.spinner(_("Backtesting on this data…")):
        card = cached.model_card(cached.database_url(), cached.data_version(), ui.language())
    st.markdown(card)
    st.download_button(_("Model card (Markdown)"),
                       card.encode(), file_name="modelkaart.md", mime="text/markdown", key="about_card")
    if ui.can("manage_users"):
        st.download_button(_("DPIA template (Markdown)"),
                           dpia(cached.current_store()).encode(), file_name="dpia.md", mime="text/markdown",
                           key="about_dpia")
