"""WAS Planner dashboard (router). Run with `make run` or `streamlit run app.py`."""

import streamlit as st

from planner import settings
from planner.demo import SYNTHETIC_NOTICE
from planner.store import open_store

st.set_page_config(page_title="WAS Planner", page_icon="🚶", layout="wide")
st.title("WAS Planner")
st.caption("Wijk en Agent Samen: hotspots, looproutes en dekking per wijk.")
store = open_store(settings.database_url())
wards = store.ward_summary()
if (settings.data_dir() / "demo").is_dir():
    st.info(SYNTHETIC_NOTICE)
st.dataframe(wards, hide_index=True)
