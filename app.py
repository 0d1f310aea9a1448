"""WAS Planner dashboard: the router. Run with `make run` (or `streamlit run app.py`).

With accounts in the store (a shared installation) everyone signs in and sees only the pages
and data their role allows; with ``WAS_OIDC_ROLE_CLAIM`` set they sign in through the
municipality's identity provider instead (``st.login``, the role from that claim); without
accounts (a laptop, the demo) everything is visible.
"""

from dataclasses import replace
from urllib.parse import urlsplit

import streamlit as st

from app_pages import cached, ui
from app_pages.ui import _
from planner import access, settings
from planner.i18n import N_
from planner.users import authenticate, parse_role_map, user_from_claims

st.set_page_config(page_title="WAS Planner", page_icon=":material/directions_walk:", layout="wide")
ui.init_session()
role_claim = settings.oidc_role_claim()
with ui.guarded():
    st.session_state["accounts_enabled"] = bool(role_claim) or access.accounts_exist(cached.current_store())

if role_claim:  # sign-in through the municipality's identity provider (.streamlit/secrets.toml [auth])
    if not st.user.is_logged_in:
        st.title("WAS Planner")
        st.button(_("Sign in through the municipality"), type="primary", key="login_oidc", on_click=st.login)
        st.stop()
    st.session_state["user"] = None
    with ui.guarded():
        st.session_state["user"] = user_from_claims(st.user.to_dict(), role_claim=role_claim,
                                                    roles=parse_role_map(settings.oidc_roles()))
    if st.session_state["user"] is None:
        st.stop()
elif ui.accounts_enabled() and st.session_state["user"] is None:
    # A link (the briefing's QR code to /ronde?patrol=…) opens that page once signed in.
    st.session_state.setdefault("after_sign_in", (urlsplit(st.context.url or "").path.rstrip("/").rsplit("/", 1)[-1],
                                                  st.query_params.to_dict()))
    st.title("WAS Planner")
    with st.form("login"):
        name = st.text_input(_("User name"), key="login_name")
        password = st.text_input(_("Password"), type="password", key="login_password")
        if st.form_submit_button(_("Sign in"), type="primary"):
            with ui.guarded():
                signed_in = authenticate(cached.current_store(), name, password)
                st.session_state["user"] = replace(signed_in, via="dashboard")
                st.rerun()
    st.stop()

PAGES = [  # file, title, icon, url, permission needed
    ("app_pages/tonight.py", N_("Tonight's patrol"), ":material/directions_walk:", "vanavond", "plan_routes"),
    ("app_pages/patrol_round.py", N_("On patrol"), ":material/near_me:", "ronde", "plan_routes"),
    ("app_pages/hotspot_map.py", N_("Hotspot map"), ":material/map:", "hotspots", "view_aggregates"),
    ("app_pages/coverage.py", N_("Coverage"), ":material/monitoring:", "dekking", "view_coverage"),
    ("app_pages/report.py", N_("Report a signal"), ":material/edit_note:", "melden", "report_signal"),
    ("app_pages/data.py", N_("Data"), ":material/folder_open:", "gegevens", "export_raw"),
    ("app_pages/about.py", N_("Model card"), ":material/info:", "modelkaart", "view_aggregates"),
]
pages = [st.Page(path, title=_(title), icon=icon, url_path=url)
         for path, title, icon, url, permission in PAGES if ui.can(permission)]


def _first_page() -> None:
    # Streamlit serves its default page only at "/": this hidden one sends "/" on to the first
    # page the user may open, so that every page answers at its own URL (/vanavond in a briefing).
    st.switch_page(pages[0])


page = st.navigation([st.Page(_first_page, title="WAS Planner", url_path="start", default=True,
                              visibility="hidden"), *pages])
wanted, query = st.session_state.pop("after_sign_in", (None, {}))
if wanted and (target := next((p for p in pages if p.url_path == wanted), None)) is not None:
    st.switch_page(target, query_params=query)

with st.sidebar:
    st.title("WAS Planner")
    st.caption(_("Wijk en Agent Samen: hotspots, walking routes and coverage per ward"))
    st.radio(_("Taal / language"), ["nl", "en"], format_func={"nl": "Nederlands", "en": "English"}.get,
             horizontal=True, key="lang")
    if ui.accounts_enabled():
        user = ui.current_user()
        st.write(f"{user.name} ({user.role})")
        if st.button(_("Sign out"), key="logout"):
            st.session_state["user"] = None
            if role_claim:
                st.logout()
            st.rerun()
    else:
        st.caption(_("Local installation without accounts: everything is visible. Add accounts with "
                     "`was-planner users add` for a shared installation."))
    if (settings.data_dir() / "demo").is_dir():
        st.info(_("Demo data: Demostad and all its signals are synthetic (made up), not real incidents."))

page.run()
st.divider()
left, right = st.columns([4, 1])
left.caption(_("WAS Planner · map data © OpenStreetMap contributors · ward boundaries © CBS"))
right.page_link("app_pages/about.py", label=_("Model card"), icon=":material/info:")
