"""Where am I: the phone's position from the browser's geolocation, through a small
``st.components.v2`` bridge (no package, no network).

The browser asks the user for permission the first time (a tap on the button); once granted it
starts by itself. The position is sent back only when it moved ``MOVED_M`` metres or
``EVERY_S`` seconds passed, because every value sent makes Streamlit run the page again.
Browsers give positions only on https or on the machine itself (127.0.0.1).
"""

from __future__ import annotations

import streamlit as st

from app_pages.ui import _

MOVED_M = 15
EVERY_S = 30

_JS = f"""
export default function(component) {{
  const {{ setStateValue, parentElement, data }} = component;
  const button = parentElement.querySelector("button");
  const status = parentElement.querySelector(".status");
  // Kept on the window: the page's reruns mount this again, and a rerun must not resend the
  // same position (that would rerun the page for nothing).
  const memory = window.__wasGeolocation = window.__wasGeolocation || {{ sent: null, at: 0 }};
  let watch = null;
  button.textContent = data.ask;

  function metres(a, b) {{
    const k = Math.PI / 180, dy = (b.lat - a.lat) * 111320;
    const dx = (b.lon - a.lon) * 111320 * Math.cos(a.lat * k);
    return Math.hypot(dx, dy);
  }}
  function found(position) {{
    const here = {{ lat: position.coords.latitude, lon: position.coords.longitude,
                   accuracy: Math.round(position.coords.accuracy) }};
    status.textContent = data.shown.replace("{{accuracy}}", here.accuracy);
    button.hidden = true;
    const now = Date.now();
    if (memory.sent && metres(memory.sent, here) < {MOVED_M} && now - memory.at < {EVERY_S * 1000}) return;
    memory.sent = here; memory.at = now;
    setStateValue("position", here);
  }}
  function failed(error) {{
    status.textContent = error.code === 1 ? data.denied : data.unavailable;
    button.hidden = false;
  }}
  function start() {{
    if (!navigator.geolocation) {{ status.textContent = data.unsupported; return; }}
    status.textContent = data.waiting;
    watch = navigator.geolocation.watchPosition(found, failed,
      {{ enableHighAccuracy: true, maximumAge: 10000, timeout: 30000 }});
  }}
  button.onclick = start;
  if (memory.sent) status.textContent = data.shown.replace("{{accuracy}}", memory.sent.accuracy);
  if (navigator.permissions) {{
    navigator.permissions.query({{ name: "geolocation" }}).then((p) => {{ if (p.state === "granted") start(); }});
  }}
  return () => {{ if (watch !== null) navigator.geolocation.clearWatch(watch); }};
}}
"""

_HTML = '<div class="where"><button type="button"></button> <span class="status"></span></div>'
_CSS = """
.where { display: flex; align-items: center; gap: .5rem; font-size: .9rem; min-height: 2.5rem; }
.where button { font: inherit; padding: .45rem .9rem; border-radius: .5rem; border: 1px solid #888;
                background: var(--st-secondary-background-color, #f0f2f6); cursor: pointer; }
"""

_component = st.components.v2.component("was_geolocation", html=_HTML, css=_CSS, js=_JS)


def where_am_i(*, key: str) -> dict | None:
    """The phone's last position as ``{"lat", "lon", "accuracy"}`` (accuracy in metres), or
    None until the browser gave one (no permission yet, no signal, or no browser: AppTest)."""
    texts = {
        "ask": _("Show where I am"), "waiting": _("Looking for your position…"),
        "shown": _("Your position is on the map (± {accuracy} m)"),
        "denied": _("Location is blocked: allow it for this site in the browser's settings"),
        "unavailable": _("No position yet (no GPS signal?): try again outside"),
        "unsupported": _("This browser cannot give a position"),
    }
    result = _component(key=key, data=texts, default={"position": None}, on_position_change=lambda: None)
    position = getattr(result, "position", None)
    if not isinstance(position, dict):
        return None
    try:
        here = {"lat": float(position["lat"]), "lon": float(position["lon"]),
                "accuracy": float(position.get("accuracy") or 0)}
    except (KeyError, TypeError, ValueError):
        return None
    if not (-90 <= here["lat"] <= 90 and -180 <= here["lon"] <= 180):
        return None
    return here
