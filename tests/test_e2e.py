"""The dashboard in a real headless Chromium against `streamlit run` on 127.0.0.1.

Each page is opened, waited for until its script has finished, checked for exceptions and
screenshotted to tests/artifacts/ (git-ignored) for people to look at.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from planner import _time
from planner.i18n import translation
from planner.storage.store import open_store

pytestmark = pytest.mark.e2e

DUTCH = translation("nl").gettext
"""The dashboard's Dutch texts, from the catalogs it reads them from."""
ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ACTION_TIMEOUT_MS = 90_000
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]
PAGES = {"vanavond": "vanavond", "ronde": "ronde", "hotspots": "hotspots", "dekking": "dekking",
         "melden": "melden", "gegevens": "gegevens", "modelkaart": "modelkaart"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium through playwright; skipped locally without it, required in CI."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("CI needs Debian's chromium (.ci/run installs it)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield _Patient(instance)
        instance.close()


class _Patient:
    """The browser, whose pages and contexts give every action ``ACTION_TIMEOUT_MS``: a page's
    re-run takes longer while the other test worker is busy, and playwright's 30 s default ran
    out once (a download button still disabled)."""

    def __init__(self, browser) -> None:
        self._browser = browser

    def new_page(self, **options):
        page = self._browser.new_page(**options)
        page.set_default_timeout(ACTION_TIMEOUT_MS)
        return page

    def new_context(self, **options):
        context = self._browser.new_context(**options)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        return context


@contextmanager
def _streamlit(data: Path):
    """`streamlit run app.py` on a free loopback port with ``data`` as data directory; yields its base URL."""
    port = _free_port()
    env = {**os.environ, "WAS_DATA_DIR": str(data)}
    env.pop("WAS_DATABASE_URL", None)
    log_path = data / "streamlit.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.address", "127.0.0.1",
         "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.read() == b"ok":
                    break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                log.close()
                pytest.fail(f"streamlit did not start: {log_path.read_text()[-2000:]}")
            time.sleep(0.5)
    yield base
    process.terminate()
    process.wait(timeout=20)
    log.close()


@pytest.fixture(scope="module")
def server(demo_copy):
    """The dashboard on the demo data (no accounts); yields its base URL."""
    with _streamlit(demo_copy) as base:
        yield base


PASSWORD = "geheim-wachtwoord"


@pytest.fixture(scope="module")
def shared_server(demo_template, tmp_path_factory):
    """The dashboard on a copy of the demo with a resident's and an officer's account: (URL, store)."""
    from planner.users import add_user

    data = tmp_path_factory.mktemp("shared") / "data"
    shutil.copytree(demo_template, data)
    store = open_store(f"sqlite:///{data / 'was.db'}")
    for name, role in (("bewoner1", "resident"), ("agent1", "officer")):
        add_user(store, name, role=role, password=PASSWORD)
    with _streamlit(data) as base:
        yield base, store


def open_page(browser, url: str, name: str):
    page = browser.new_page(viewport={"width": 1400, "height": 2000})
    page.goto(url)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=90_000)
    page.wait_for_timeout(1500)  # let maps and charts paint before the screenshot
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    return page


@pytest.mark.parametrize("name", list(PAGES))
def test_page_renders_without_exception(browser, server, name):
    """Each page finishes its script in a real browser with no exception box and shows content."""
    page = open_page(browser, f"{server}/{PAGES[name]}", name)
    # stException: a Python traceback; stErrorElementStack: a component crashed in the browser.
    assert page.locator("[data-testid='stException'], [data-testid='stErrorElementStack']").count() == 0
    unexpected = DUTCH("Something went wrong. Try again; if it keeps happening, tell the administrator.")
    assert page.get_by_text(unexpected).count() == 0
    assert page.locator("[data-testid='stHeading'], h1, h2").count() > 0
    page.close()


def test_the_root_opens_the_first_page_at_its_own_url(browser, server):
    """"/" forwards to Vanavond, which then shows /vanavond: a bookmark of it opens it again."""
    page = open_page(browser, f"{server}/", "root")
    page.wait_for_url(f"{server}/vanavond", timeout=30_000)
    assert page.locator("[data-testid='stHeading'], h1, h2").count() > 0
    page.close()


def test_municipal_report_prints(browser, demo_copy):
    """The municipal report opens in Chromium without scripts and prints to a short PDF."""
    from planner.review.report import report_html

    data = demo_copy
    store = open_store(f"sqlite:///{data / 'was.db'}")
    html_path = data / "rapport.html"
    html_path.write_text(report_html(store, _time.today() - timedelta(weeks=12), _time.today(), data_dir=data),
                         encoding="utf-8")
    page = browser.new_page(viewport={"width": 1000, "height": 1400})
    page.goto(html_path.as_uri())
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "rapport.png"), full_page=True)
    assert page.locator("svg").count() >= 3  # the charts are inline SVG
    assert "Dekking" in page.content()
    pdf = page.pdf(path=str(ARTIFACTS / "rapport.pdf"), format="A4")
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") <= 12
    page.close()


def test_a_two_team_briefing_prints_on_one_a4_page(browser, demo_copy):
    """Issue 4's one-page briefing with two teams of many stops: a little too long for one sheet
    at full size (checked by printing it without its fitting script), it prints on one A4 page."""
    from planner.routing.export import briefing_html
    from planner.routing.routes import RouteParams, WardPlanParams, plan_for_ward

    data = demo_copy
    store = open_store(f"sqlite:///{data / 'was.db'}")
    # Eight hot streets beside the hotspots: many stops whatever the calibration makes of the demo.
    plan = plan_for_ward(store, "Vogelwijk", params=RouteParams(minutes=120, teams=2), data_dir=data,
                         ward_params=WardPlanParams(hot_street_targets=8))
    assert sum(len(team.stops) for team in plan.teams) >= 8
    page_html = briefing_html(plan, ward="Vogelwijk", title="Looproute Vogelwijk", when="vr 20:00")
    ARTIFACTS.mkdir(exist_ok=True)
    pages = {}
    for name, text in (("fitted", page_html), ("unfitted", re.sub(r"<script>.*?</script>", "", page_html, flags=re.S))):
        path = data / f"briefing-{name}.html"
        path.write_text(text, encoding="utf-8")
        page = browser.new_page()
        page.goto(path.as_uri())
        pdf = page.pdf(path=str(ARTIFACTS / f"briefing-{name}.pdf"), prefer_css_page_size=True)
        pages[name] = len(re.findall(rb"/Type\s*/Page\b", pdf))
        page.close()
    assert pages == {"fitted": 1, "unfitted": 2}


def test_typed_html_is_shown_escaped_never_executed(browser, server):
    """Script and HTML typed into the report form come back as text; no script runs."""
    page = browser.new_page(viewport={"width": 1400, "height": 2000})
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{server}/melden")
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=90_000)
    attack = "<img src=x onerror=alert(1)><script>alert(2)</script>"
    location = page.get_by_label("Locatie (breedtegraad, lengtegraad)")
    location.fill(attack)
    page.get_by_role("button", name="Opslaan").click()
    page.wait_for_selector("[data-testid='stAlertContentError']", timeout=60_000)
    page.wait_for_timeout(1000)
    assert dialogs == []
    assert "<script>alert(2)</script>" in page.locator("[data-testid='stAlertContentError']").first.inner_text()
    page.close()


@pytest.mark.parametrize(("width", "height"), [(1400, 2000), (390, 844)])
def test_coverage_effect_review_in_the_browser(browser, server, width, height):
    """The Dekking page shows the effect review (figures, event-study chart, caveat) on a desktop
    and on a phone-sized screen, without an exception box."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{server}/{PAGES['dekking']}")
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=90_000)
    page.get_by_text("Kleinste meetbare effect").first.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"coverage-effect-{width}.png"), full_page=True)
    assert page.locator("[data-testid='stException'], [data-testid='stErrorElementStack']").count() == 0
    assert page.get_by_text("p-waarde").count() > 0
    assert page.locator("[data-testid='stImage'] img, [data-testid='stPyplot'] img, img[src*='media']").count() >= 1
    assert page.get_by_text("Let op: dit is een vergelijking").count() > 0
    page.close()


def _signed_in_page(browser, base: str, name: str):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page = browser.new_page(viewport={"width": 1400, "height": 2000}, accept_downloads=True)
    page.goto(base)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=90_000)
    page.get_by_label(DUTCH("User name")).fill(name)
    page.get_by_label(DUTCH("Password"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=DUTCH("Sign in")).click()
    # A click on the link while the signed-in first page is still re-running can be lost: the
    # browser then stays on that page (whose route has a GeoJSON download too), so it is clicked
    # until the hotspot map's own download is there.
    for attempt in (1, 2, 3):
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)
        page.get_by_role("link", name=DUTCH("Hotspot map")).click()
        try:
            page.wait_for_selector(".st-key-hotspots_geojson [data-testid='stDownloadButton']", timeout=60_000)
            break
        except PlaywrightTimeout:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"signed-in-{name}-attempt-{attempt}.png"), full_page=True)
    else:
        raise AssertionError(f"the hotspot map did not open for {name} in 3 clicks; see {ARTIFACTS}")
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)
    return page


def _download(page, key: str, clicks: Counter | None = None) -> bytes:
    """Click the download button of widget ``key`` once the script is idle; a click that lands
    while a re-run replaces the button's deferred file gets no download, so it is tried once more.
    The button is disabled until the page's re-run has made its file: with the suite's other
    worker busy it was once still disabled after a click's default 30 s, so it is given the
    120 s the script itself is given. ``clicks`` counts the clicks per key: a click whose download
    came too late for the test was still served, and audited, by the server."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for last in (False, True):
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)
        page.wait_for_timeout(1000)
        if clicks is not None:
            clicks[key] += 1
        try:
            with page.expect_download(timeout=180_000) as info:
                page.locator(f".st-key-{key}").get_by_role("button").click(timeout=120_000)
            return Path(info.value.path()).read_bytes()
        except PlaywrightTimeout:
            if last:
                raise


def test_point_views_and_downloads_are_logged_per_role(browser, shared_server):
    """Issue 14 re-run in Chromium: an officer's hotspot map and its GeoJSON/CSV downloads leave a
    view and two exports in the audit log (from the dashboard); a resident's map and download carry
    no points and leave nothing."""
    import json

    from planner import access
    from planner.users import User

    base, store = shared_server
    admin = User("test", "admin")
    page = _signed_in_page(browser, base, "agent1")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "hotspots-officer.png"), full_page=True)
    clicks = Counter()
    geojson = json.loads(_download(page, "hotspots_geojson", clicks))
    assert any(f["properties"]["kind"] == "signal" for f in geojson["features"])
    assert _download(page, "hotspots_csv", clicks).startswith("\ufeff".encode())
    page.close()
    log = access.audit_log(store, admin)
    mine = log[log["user_name"] == "agent1"]
    assert set(mine["action"]) == {"view", "export"} and list(mine["action"]).count("view") == 1
    exports = Counter(mine.loc[mine["action"] == "export", "format"])
    # Every download is logged; a retried click (the first one's file too late for the test) may add one.
    assert set(exports) == {"csv", "geojson"}
    assert all(1 <= exports[kind] <= clicks[f"hotspots_{kind}"] for kind in exports)
    assert set(mine["via"]) == {"dashboard"}
    page = _signed_in_page(browser, base, "bewoner1")
    assert page.get_by_text("Weergave", exact=True).count() == 0
    public = json.loads(_download(page, "hotspots_geojson"))
    assert {f["properties"]["kind"] for f in public["features"]} <= {"hotspot"}
    page.close()
    assert "bewoner1" not in set(access.audit_log(store, admin)["user_name"])
    assert access.verify_audit(store, admin).ok


# -- issue 18: on patrol, on a phone ------------------------------------------------------------------
PHONE = {"width": 390, "height": 844}


def _round_of_now(store, data: Path, base: str, ward: str = "Vogelwijk") -> tuple[int, str]:
    """Tonight's round of ``ward`` as `plan-all` stores it, starting five minutes ago, with the
    dashboard at ``base`` as public address: its id and team 1's link read from the briefing."""
    import html
    import re
    from datetime import datetime

    from planner._time import local_zone
    from planner.nightly import ClusterParams, NightParams, plan_all

    begin = datetime.now(local_zone()) - timedelta(minutes=5)
    result = plan_all(str(store.engine.url), begin.date(), wards=[ward], data_dir=data, out_dir=data / "plans",
                      params=NightParams(start=f"{begin:%H:%M}", link_base=base), cluster=ClusterParams(workers=0))
    (night,) = result.planned
    briefing = Path(night.files["briefing"]).read_text(encoding="utf-8")
    link = html.unescape(re.search(r'<a href="([^"]+team=1)"', briefing).group(1))
    return night.patrol_id, link


def _near_inside(store, ward: str, lat: float, lon: float) -> dict[str, float]:
    """A position about 170 m north, south, east or west of ``lat, lon``, the first inside ``ward``
    (a signal from outside every ward is refused): which stop comes first depends on the hour."""
    from shapely.geometry import Point

    area = store.wards().set_index("name").to_crs(4326).geometry[ward]
    for dlat, dlon in ((0.0015, 0.0), (-0.0015, 0.0), (0.0, 0.0025), (0.0, -0.0025)):
        if area.contains(Point(lon + dlon, lat + dlat)):
            return {"latitude": lat + dlat, "longitude": lon + dlon}
    raise AssertionError(f"no point about 170 m from {lat}, {lon} lies inside {ward}")


def _idle(page) -> None:
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)


def test_a_round_on_a_phone_from_its_link_with_the_position_visits_and_a_signal(browser, server, demo_copy):
    """At 390 × 844 with the phone's location emulated: the briefing's link opens the round, the
    map shows my position and the next stop its distance, two taps mark two stops visited (in
    the store), and a signal sent from here is stored at my position, marked as seen on patrol."""
    import re

    from planner.rounds import patrol_round

    store = open_store(f"sqlite:///{demo_copy / 'was.db'}")
    patrol_id, link = _round_of_now(store, demo_copy, server)
    assert link == f"{server}/ronde?patrol={patrol_id}&team=1"
    first, second = patrol_round(store, patrol_id).team(1).stops[:2]
    here = _near_inside(store, "Vogelwijk", first.lat, first.lon)
    context = browser.new_context(viewport=PHONE, geolocation=here, permissions=["geolocation"],
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(link)
    page.get_by_text(DUTCH("Next: {number}. {name}").format(number=1, name=first.name)).wait_for(timeout=120_000)
    page.get_by_text(DUTCH("Your position is on the map (± {accuracy} m)").split("(")[0]).wait_for(timeout=60_000)
    page.get_by_text(DUTCH("{m} m in a straight line").split("}")[1].strip()).wait_for(timeout=60_000)
    _idle(page)
    page.wait_for_timeout(1500)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ronde-phone-1-map.png"))
    assert page.locator("[data-testid='stDeckGlJsonChart'], canvas").count() > 0
    visited_at = DUTCH("visited {time}").replace("{time}", r"\d\d:\d\d")
    for count, stop in enumerate((first, second), start=1):
        page.get_by_role("button", name=DUTCH("✓ Stop {number} visited").format(number=stop.number)).click()
        # Until the page, re-run after the tap, lists the stop as visited (the store has it first).
        deadline = time.monotonic() + 60
        while len(re.findall(visited_at, page.inner_text("[data-testid='stMain']"))) < count:
            assert time.monotonic() < deadline, f"stop {stop.number} is not shown as visited"
            page.wait_for_timeout(250)
        _idle(page)
    visited = patrol_round(store, patrol_id).team(1)
    assert [s.number for s in visited.stops if s.visited] == [1, 2]
    assert len(re.findall(visited_at, page.inner_text("[data-testid='stMain']"))) == 2
    page.get_by_text(DUTCH("Signal from here")).scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "ronde-phone-2-stops.png"))
    page.get_by_label(DUTCH("What do you see? (no names or descriptions of people)")).fill("Kapotte lantaarnpaal")
    page.get_by_role("button", name=DUTCH("Send signal")).click()
    page.locator("[data-testid='stAlertContentSuccess']").wait_for(timeout=60_000)
    page.wait_for_timeout(800)
    page.screenshot(path=str(ARTIFACTS / "ronde-phone-3-signal.png"))
    assert page.locator("[data-testid='stException'], [data-testid='stErrorElementStack']").count() == 0
    context.close()
    signals = store.incidents(include_personal=True)
    sent = signals[signals["description"] == "Kapotte lantaarnpaal"]
    assert len(sent) == 1 and bool(sent["on_patrol"].iloc[0])
    assert sent["source"].iloc[0] == "was_member"
    point = sent.to_crs(4326).geometry.iloc[0]
    # The form writes 6 decimals (0.1 m); the store keeps the point in metres and back.
    assert (point.y, point.x) == pytest.approx((here["latitude"], here["longitude"]), abs=2e-6)


def test_a_resident_opens_the_round_from_its_link_after_signing_in(browser, shared_server):
    """On a shared installation the link asks for the sign-in first and then opens that round."""
    base, store = shared_server
    data = Path(str(store.engine.url).removeprefix("sqlite:///")).parent
    patrol_id, link = _round_of_now(store, data, base, ward="Bomenwijk")
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(link)
    _idle(page)
    page.get_by_label(DUTCH("User name")).fill("bewoner1")
    page.get_by_label(DUTCH("Password"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=DUTCH("Sign in")).click()
    page.get_by_text(DUTCH("Show where I am")).wait_for(timeout=120_000)
    _idle(page)
    assert page.url.endswith(f"/ronde?patrol={patrol_id}&team=1")
    assert page.get_by_text(DUTCH("Next: {number}. {name}").split(":")[0] + ":").count() == 1
    page.wait_for_timeout(1500)  # let the map paint before the screenshot
    page.screenshot(path=str(ARTIFACTS / "ronde-phone-resident.png"))
    context.close()


def test_the_report_form_takes_my_position_on_a_phone(browser, server):
    """Signaal melden on a phone: one tap puts the phone's position in the location field."""
    here = {"latitude": 52.5531, "longitude": 5.2401}
    context = browser.new_context(viewport=PHONE, geolocation=here, permissions=["geolocation"],
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{server}/{PAGES['melden']}")
    use = page.get_by_role("button", name=DUTCH("Use my position (± {accuracy} m)").split("(")[0].strip())
    use.wait_for(timeout=120_000)
    _idle(page)
    use.click()
    location = page.get_by_label(DUTCH("Location (latitude, longitude)"))
    deadline = time.monotonic() + 60
    while location.input_value() != "52.553100, 5.240100":
        assert time.monotonic() < deadline, location.input_value()
        page.wait_for_timeout(250)
    context.close()
