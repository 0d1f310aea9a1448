"""WAS Planner dashboard: the router. Run with `make run` (or `streamlit run app.py`)."""

import streamlit as st

from app_pages import ui
from planner import settings

st.set_page_config(page_title="WAS Planner", page_icon=":material/directions_walk:", layout="wide")
ui.init_session()

pages = [
    st.Page("app_pages/tonight.py", title=ui.t("page_tonight"), icon=":material/directions_walk:",
            url_path="vanavond", default=True),
    st.Page("app_pages/hotspot_map.py", title=ui.t("page_hotspots"), icon=":material/map:", url_path="hotspots"),
    st.Page("app_pages/coverage.py", title=ui.t("page_coverage"), icon=":material/monitoring:", url_path="dekking"),
    st.Page("app_pages/report.py", title=ui.t("page_report"), icon=":material/edit_note:", url_path="melden"),
    st.Page("app_pages/data.py", title=ui.t("page_data"), icon=":material/folder_open:", url_path="gegevens"),
]
page = st.navigation(pages)

with st.sidebar:
    st.title("WAS Planner")
    st.caption(ui.t("app_caption"))
    st.radio(ui.t("language"), ["nl", "en"], format_func={"nl": "Nederlands", "en": "English"}.get,
             horizontal=True, key="lang")
    if (settings.data_dir() / "demo").is_dir():
        st.info(ui.t("synthetic"))

page.run()
st.divider()
st.caption(ui.t("footer"))
