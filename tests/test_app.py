"""Dashboard tests with streamlit.testing.v1.AppTest, one or more per page, on the demo data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from planner import _time, settings
from planner.storage.outcomes import stored_outcomes
from planner.storage.store import open_store

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture(scope="module")
def demo_dir(demo_copy):
    """A data directory with the demo town, shared by this module's tests."""
    return demo_copy


@pytest.fixture
def app(demo_dir, monkeypatch):
    """Run the dashboard against the demo data; returns a function that opens a page."""
    monkeypatch.setenv("WAS_DATA_DIR", str(demo_dir))
    monkeypatch.delenv("WAS_DATABASE_URL", raising=False)

    def open_page(page: str | None = None, **state) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=120)
        for key, value in state.items():
            at.session_state[key] = value
        at.run()
        if page:
            at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return open_page


def deck_layers(at: AppTest, index: int = 0) -> list[str]:
    """The ids of the layers in a pydeck chart (AppTest cannot look inside maps otherwise)."""
    spec = json.loads(at.get("deck_gl_json_chart")[index].proto.json)
    return [layer["id"] for layer in spec["layers"]]


def test_router_shows_demo_notice_and_language_switch(app):
    """The start page runs, says the demo is synthetic, and English replaces Dutch."""
    at = app()
    assert any("synthetisch" in info.value for info in at.sidebar.info)
    at.sidebar.radio(key="lang").set_value("en").run()
    assert any("synthetic" in info.value for info in at.sidebar.info)


def test_hotspot_map_officer_view_has_points_and_table(app):
    """Officers see hotspot areas, signal points and a table of hotspots with plausible counts."""
    at = app("hotspot_map")
    assert {"wards", "hotspots", "signals"} <= set(deck_layers(at))
    table = at.dataframe[0].value
    assert len(table) >= 1 and (table["Signalen"] >= 5).all()


def test_hotspot_map_says_the_weighting_it_uses(app, demo_dir):
    """The map states the calibrated weighting the installation keeps (the same the routes use)."""
    from planner.hotspots.tuning import hotspot_params

    params = hotspot_params(open_store(f"sqlite:///{demo_dir / 'was.db'}"))
    at = app("hotspot_map")
    caption = next(c.value for c in at.caption if c.value.startswith("Weging"))
    assert f"halveert elke {params.half_life_days:.0f} dagen" in caption
    assert f"{100 * params.recency_floor:.0f} % van elk gewicht" in caption


def test_hotspot_map_public_view_has_no_points(app):
    """The residents' view shows areas only: no signal points reach the map."""
    at = app("hotspot_map")
    at.radio(key="hotspots_audience").set_value("public").run()
    assert not at.exception
    layers = deck_layers(at)
    assert "signals" not in layers
    assert "wards" in layers


def test_hotspot_map_single_ward_with_hot_streets(app):
    """One ward with the hot-streets layer on renders that layer without errors."""
    at = app("hotspot_map")
    at.selectbox(key="hotspots_ward").set_value("Vogelwijk").run()
    at.toggle(key="hotspots_streets").set_value(True).run()
    assert not at.exception and not at.error
    assert "hot_streets" in deck_layers(at)


def test_report_form_saves_a_valid_signal(app, demo_dir):
    """A complete form is stored through the importer and counted in the ward."""
    store = open_store(f"sqlite:///{demo_dir / 'was.db'}")
    before = store.incident_count()
    at = app("report")
    at.selectbox(key="report_ward").set_value("Vogelwijk").run()
    at.selectbox(key="report_category").set_value("vandalism")
    at.text_input(key="report_location").set_value("52.55318, 5.23630")
    at.text_area(key="report_description").set_value("<script>alert(1)</script> bankje kapot")
    at.button[0].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.success
    assert store.incident_count() == before + 1


def test_report_form_names_the_bad_field(app):
    """A location outside every ward is refused with an error that names the location."""
    at = app("report")
    at.text_input(key="report_location").set_value("40.0, 4.0")
    at.button[0].click().run()
    assert not at.exception
    assert any("location" in error.value for error in at.error)


def test_data_page_lists_wards(app):
    """The data page lists the four demo wards with their signal counts."""
    at = app("data")
    wards = at.dataframe[0].value
    assert set(wards["Wijk"]) == {"Vogelwijk", "Bloemenwijk", "Bomenwijk", "Schildersbuurt"}
    assert (wards["Signalen"] > 0).all()


def test_coverage_page_renders(app):
    """The coverage page runs without errors on the demo data."""
    at = app("coverage")
    assert not at.error


def minutes_of(metric) -> float:
    return float(metric.value.split()[0].replace(".", "").replace(",", "."))


def test_tonight_plans_within_budget(app):
    """Tonight's page plans a route with stops whose longest team stays within the budget."""
    at = app()
    assert at.selectbox(key="tonight_ward").value == "Bloemenwijk"  # wards sorted by name
    durations = [m for m in at.metric if m.label.startswith("Duur")]
    assert 0 < minutes_of(durations[0]) <= 90
    assert int(at.metric[2].value) >= 1
    layers = deck_layers(at)
    assert {"wards", "team1", "stops", "start"} <= set(layers)
    assert len(at.get("download_button")) == 3


def test_tonight_shorter_budget_and_two_teams(app):
    """A 30-minute budget for two teams gives two routes, each at most 30 minutes."""
    at = app()
    at.slider(key="tonight_minutes").set_value(30)
    at.number_input(key="tonight_teams").set_value(2).run()
    assert not at.exception and not at.error
    assert minutes_of(next(m for m in at.metric if m.label.startswith("Duur"))) <= 30
    assert {"team1", "team2"} <= set(deck_layers(at))


def test_tonight_save_as_planned_patrol(app, demo_dir):
    """Saving the plan stores a planned patrol whose edges the next plan can vary from, counting
    everyone out: two teams of three are six walkers, as the person-hours of the review need."""
    from planner.patrols import get_patrol

    store = open_store(f"sqlite:///{demo_dir / 'was.db'}")
    at = app()
    assert at.number_input(key="tonight_people").value == settings.TEAM_SIZE
    at.number_input(key="tonight_teams").set_value(2).run()
    at.number_input(key="tonight_people").set_value(3).run()
    at.button(key="tonight_save").click().run()
    assert not at.exception and at.success
    assert store.recent_patrol_edges(at.selectbox(key="tonight_ward").value)
    ((patrol_id, _log),) = at.session_state["tonight_saved"].values()
    assert get_patrol(store, patrol_id).team_size == 6
    assert at.number_input(key="tonight_people").disabled


def _saved_round(app) -> tuple[AppTest, int]:
    """Vanavond with two teams, saved: the session and the saved patrol's id."""
    at = app()
    at.number_input(key="tonight_teams").set_value(2).run()
    at.button(key="tonight_save").click().run()
    assert not at.exception
    ((patrol_id, _log),) = at.session_state["tonight_saved"].values()
    return at, patrol_id


def test_tonight_saved_round_links_each_team_to_the_patrol_view(app):
    """Once saved, Vanavond links each team to its round, and the briefing carries those links."""
    at, patrol_id = _saved_round(app)
    links = [link.proto for link in at.get("page_link") if link.proto.page == "ronde"]
    assert [link.query_string for link in links] == [f"patrol={patrol_id}&team=1", f"patrol={patrol_id}&team=2"]
    assert at.button(key="tonight_save").disabled  # saved once: a second tap would add a second round
    assert any(f"Opgeslagen als ronde {patrol_id}" in s.value for s in at.success)


def test_round_opens_from_its_link_marks_stops_and_finishes(app, demo_dir):
    """/ronde?patrol=ID&team=1 shows that round; two taps mark two stops visited (time stamped in
    the store), one takes the last back, and finishing records the patrol as walked."""
    from planner.patrols import get_patrol
    from planner.rounds import patrol_round

    store = open_store(f"sqlite:///{demo_dir / 'was.db'}")
    at, patrol_id = _saved_round(app)
    at.query_params["patrol"] = str(patrol_id)
    at.query_params["team"] = "1"
    at.switch_page("app_pages/patrol_round.py").run()
    assert not at.exception and not at.error
    first = patrol_round(store, patrol_id).team(1).stops
    assert at.subheader[0].value == f"Volgende: 1. {first[0].name}"
    # What to look for is one sentence with its own "Let op:", not "Kijk naar: Let op: …".
    look_for = [c.value for c in at.caption if "Let op" in c.value]
    assert look_for and all(text.startswith("Let op: ") and text.count("Let op") == 1 for text in look_for)
    for _ in range(2):
        at.button(key="round_visit").click().run()
    visited = patrol_round(store, patrol_id).team(1)
    assert [s.number for s in visited.stops if s.visited] == [1, 2]
    listed = next(m.value for m in at.markdown if "**1**" in m.value)
    assert listed.count(":material/check_circle:") == 2 and listed.count("bezocht") == 2
    at.button(key="round_undo").click().run()
    assert patrol_round(store, patrol_id).team(1).n_visited == 1
    at.number_input(key="round_people").set_value(3).run()
    at.button(key="round_finish").click().run()
    assert not at.exception and any("1 van" in s.value for s in at.success)
    record = get_patrol(store, patrol_id)
    assert record.status == "walked" and record.team_size == 3 and len(record.stops) == 1


def test_round_without_a_link_lists_tonights_rounds_and_a_bad_link_says_what_to_do(app):
    """Without a link the page lists the ward's rounds of tonight, one tap opens one; a link with a
    wrong patrol is answered in one line, not a traceback."""
    at, patrol_id = _saved_round(app)
    at.switch_page("app_pages/patrol_round.py").run()
    assert not at.exception
    at.selectbox(key="round_ward").set_value(at.session_state["tonight_ward"]).run()
    at.button(key=f"round_open_{patrol_id}").click().run()
    assert at.query_params["patrol"] == str(patrol_id) and at.subheader[0].value.startswith("Volgende: 1.")
    at.query_params["patrol"] = "abc"
    at.run()
    assert any("moet een getal zijn" in e.value for e in at.error)
    at.query_params["patrol"] = "99999"
    at.run()
    assert any("no patrol with id 99999" in e.value for e in at.error)


def test_tonight_bad_start_coordinates_are_explained(app):
    """Coordinates far from the ward's streets are refused with a readable message."""
    at = app()
    at.radio(key="tonight_start_kind").set_value("coordinates").run()
    at.text_input(key="tonight_start_text").set_value("52.0, 4.0").run()
    assert not at.exception
    assert any("500" in error.value or "m from" in error.value or "snap" in error.value for error in at.error)


def test_hot_streets_in_public_view_stay_inside_public_areas(app):
    """Residents' hot streets only touch public hotspot areas (no single reports show)."""
    at = app("hotspot_map")
    at.selectbox(key="hotspots_ward").set_value("Vogelwijk").run()
    at.radio(key="hotspots_audience").set_value("public").run()
    at.toggle(key="hotspots_streets").set_value(True).run()
    assert not at.exception and not at.error
    from shapely.geometry import shape
    from shapely.ops import unary_union

    spec = {layer["id"]: layer for layer in json.loads(at.get("deck_gl_json_chart")[0].proto.json)["layers"]}
    assert "signals" not in spec
    areas = unary_union([shape(f["geometry"]) for f in spec["hotspots"]["data"]["features"]])
    streets = [shape(f["geometry"]) for f in spec.get("hot_streets", {"data": {"features": []}})["data"]["features"]]
    assert all(street.intersects(areas.buffer(1e-6)) for street in streets)


def test_coverage_page_shows_patrols_and_offers_the_report(app):
    """The demo season shows patrols, hours and a per-ward table, and the report downloads."""
    at = app("coverage")
    assert not at.error
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Rondes"]) > 10
    table = at.dataframe[0].value
    assert set(table["Wijk"]) == {"Vogelwijk", "Bloemenwijk", "Bomenwijk", "Schildersbuurt"}
    assert not any(button.proto.label == "Rapport (HTML)" for button in at.get("download_button"))
    at.button(key="coverage_report_make").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any(button.proto.label == "Rapport (HTML)" for button in at.get("download_button"))


def test_coverage_page_shows_the_effect_review_and_what_a_ward_needs(app):
    """The effect review shows its verdict, interval, p-value, MDE and caveat on the demo's
    signals; a chosen treated ward recomputes it; the capacity curve answers in plain words."""
    at = app("coverage")
    metrics = {m.label: m.value for m in at.metric}
    assert {"Verandering", "95%-interval", "p-waarde", "Kleinste meetbare effect"} <= set(metrics)
    texts = " ".join(m.value for m in at.markdown)
    assert "vergelijkingswijk" in texts and "van toeval te onderscheiden" in texts
    assert any("Signalen zijn een zwakke maatstaf" in c.value for c in at.caption)
    at.multiselect(key="effect_treated").set_value(["Bomenwijk"]).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "In de 1 wijk(en) met meer surveillance" in " ".join(m.value for m in at.markdown)
    at.selectbox(key="needs_ward").set_value("Vogelwijk")
    at.button(key="needs_compute").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("persoonsuren per week nodig" in m.value for m in at.markdown)


def test_coverage_page_adds_an_agreement(app, demo_dir):
    """An agreement added through the form is stored for its ward."""
    from planner.review.agreements import list_agreements

    store = open_store(f"sqlite:///{demo_dir / 'was.db'}")
    before = len(list_agreements(store, ward="Bomenwijk"))
    at = app("coverage")
    at.selectbox(key="agreement_ward").set_value("Bomenwijk")
    at.text_input(key="agreement_what").set_value("Snoeien bij het speelveld")
    at.text_input(key="agreement_role").set_value("gemeente")
    next(b for b in at.button if b.label == "Toevoegen").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert len(list_agreements(store, ward="Bomenwijk")) == before + 1


def test_tonight_mark_a_planned_patrol_as_walked(app, demo_dir):
    """A saved plan of a past evening can be marked as walked from tonight's page; it then counts as walked."""
    from datetime import timedelta

    from planner.patrols import list_patrols

    store = open_store(f"sqlite:///{demo_dir / 'was.db'}")
    at = app()
    ward = at.selectbox(key="tonight_ward").value
    evening = _time.today() - timedelta(days=2)
    at.date_input(key="tonight_date").set_value(evening).run()
    at.button(key="tonight_save").click().run()
    walked_before = len(list_patrols(store, ward=ward, status="walked"))
    plans = at.selectbox(key="walked_patrol")
    # Other tests may have saved tonight's plan, which cannot be walked yet: pick the past evening's.
    plans.select_index(next(i for i, label in enumerate(plans.options) if f"{evening:%d-%m-%Y}" in label)).run()
    at.button(key="walked_mark").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert len(list_patrols(store, ward=ward, status="walked")) == walked_before + 1


@pytest.fixture
def shared_install(demo_dir, tmp_path, monkeypatch):
    """A copy of the demo with accounts: a resident, an officer, a municipality user and an admin."""
    import shutil

    from planner.users import add_user

    directory = tmp_path / "shared"
    shutil.copytree(demo_dir, directory)
    store = open_store(f"sqlite:///{directory / 'was.db'}")
    for name, role in (("bewoner1", "resident"), ("agent1", "officer"), ("gemeente1", "municipality"),
                       ("beheer1", "admin")):
        add_user(store, name, role=role, password="geheim-wachtwoord")
    monkeypatch.setenv("WAS_DATA_DIR", str(directory))
    return directory


def sign_in(name: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.text_input(key="login_name").set_value(name)
    at.text_input(key="login_password").set_value("geheim-wachtwoord")
    at.button[0].click().run()
    assert not at.exception
    return at


def test_shared_installation_asks_for_a_login(shared_install):
    """With accounts, nothing but the login form shows until someone signs in; bad passwords fail."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert at.text_input(key="login_name") is not None and not at.get("deck_gl_json_chart")
    at.text_input(key="login_name").set_value("bewoner1")
    at.text_input(key="login_password").set_value("fout")
    at.button[0].click().run()
    assert any("wrong password" in error.value for error in at.error)


def test_resident_session_never_gets_points(shared_install):
    """A signed-in resident sees areas only: no audience choice, no signal layer, no data page."""
    at = sign_in("bewoner1")
    assert at.session_state["user"].role == "resident"
    at.switch_page("app_pages/hotspot_map.py").run()
    assert not at.exception
    assert "signals" not in deck_layers(at)
    with pytest.raises(KeyError):
        at.radio(key="hotspots_audience")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/data.py")


def test_officer_session_sees_points(shared_install):
    """A signed-in officer gets the officer view with signal points."""
    at = sign_in("agent1")
    at.switch_page("app_pages/hotspot_map.py").run()
    assert "signals" in deck_layers(at)


def test_municipality_sees_coverage_not_routes(shared_install):
    """The municipality lands on coverage-related pages; the route planner is not theirs."""
    at = sign_in("gemeente1")
    at.switch_page("app_pages/coverage.py").run()
    assert not at.exception and not at.error
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/tonight.py")


def test_model_card_page_is_linked_from_every_page(app):
    """Every page's footer links to the model card, which shows this installation's backtest."""
    at = app("coverage")
    assert any(link.proto.page.endswith("about.py") or "modelkaart" in link.proto.page
               for link in at.get("page_link"))
    at.switch_page("app_pages/about.py").run()
    assert not at.exception and not at.error
    text = "\\n".join(block.value for block in at.markdown)
    section = text[text.find("## Prestaties"):][:1500]
    assert "PAI" in section and "naïef" in section, section
    assert "**Hotstraten**, per km straat" in text  # the demo's ward graphs are in the app's data directory


def test_hotspot_tooltip_explains_each_area(app):
    """The hotspot layer carries each hotspot's plain-language explanation for the tooltip."""
    at = app("hotspot_map")
    spec = {layer["id"]: layer for layer in json.loads(at.get("deck_gl_json_chart")[0].proto.json)["layers"]}
    reasons = [f["properties"]["why"] for f in spec["hotspots"]["data"]["features"]]
    assert reasons and all("signalen" in why for why in reasons)


def test_tonight_stops_say_why(app):
    """Each stop in tonight's table says why it is on the route."""
    at = app()
    table = at.dataframe[0].value
    assert "Waarom" in table.columns and table["Waarom"].str.contains("%").all()


def test_tonight_in_english_names_the_stops_in_english(app):
    """With English chosen, tonight's table names the stops in English ("Hotspot 1 (burglary)"),
    as the GPX and the briefing do; in Dutch they are Dutch."""
    from planner.i18n import category_label

    dutch = set(app().dataframe[0].value["Stop"])
    english = set(app(lang="en").dataframe[0].value["Stop"])
    words = {code: (category_label(code, language="nl"), category_label(code, language="en"))
             for code in ("burglary", "youth_nuisance", "vandalism", "vehicle_crime", "street_light")}
    assert any(nl in name for name in dutch for nl, _ in words.values())
    assert not any(f"({nl})" in name for name in english for nl, en in words.values() if nl != en)
    assert any(f"({en})" in name for name in english for _, en in words.values())


def test_registered_crime_uploaded_on_the_data_page_drives_the_effect_review(demo_template, tmp_path, monkeypatch):
    """Counts uploaded on the Gegevens page are stored and linked to the wards; the Dekking page
    then reviews registered crime by default, and signals on request."""
    import shutil
    from datetime import timedelta

    data = tmp_path / "data"
    shutil.copytree(demo_template, data)
    monkeypatch.setenv("WAS_DATA_DIR", str(data))
    monkeypatch.delenv("WAS_DATABASE_URL", raising=False)
    first = _time.today().replace(day=1)
    months = []
    for _ in range(12):
        first = (first - timedelta(days=1)).replace(day=1)
        months.append(first)
    wards = ["Vogelwijk", "Bloemenwijk", "Bomenwijk", "Schildersbuurt"]
    lines = ["area;period;count"] + [f"{w};{m:%Y-%m};{40 + 7 * i + m.month}" for i, w in enumerate(wards)
                                     for m in months]
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("app_pages/data.py").run()
    at.file_uploader(key="data_outcomes_file").set_value(("misdrijven.csv", "\n".join(lines).encode(), "text/csv"))
    at.run()
    at.button(key="data_outcomes_import").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("48 nieuwe aantallen" in s.value and "4 wijken gekoppeld" in s.value for s in at.success)
    store = open_store(f"sqlite:///{data / 'was.db'}")
    assert set(stored_outcomes(store)["ward"]) == set(wards)
    at.switch_page("app_pages/coverage.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="effect_outcome").value == "registered"
    assert any("geregistreerde aantal misdrijven" in m.value for m in at.markdown)
    at.radio(key="effect_outcome").set_value("signals").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("het aantal signalen" in m.value for m in at.markdown)


def test_uploads_leave_no_file_behind(demo_template, tmp_path, monkeypatch):
    """Signals, registered crime and wards uploaded on the Gegevens page are imported from a
    temporary file that is deleted afterwards (an upload may hold reporters' names)."""
    import shutil
    import tempfile

    data = tmp_path / "data"
    shutil.copytree(demo_template, data)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setenv("WAS_DATA_DIR", str(data))
    monkeypatch.delenv("WAS_DATABASE_URL", raising=False)
    signals = b"datum;tijd;categorie;lat;lon;melder\n20-11-2026;22:30;inbraak;52.6;5.2;Jan Jansen\n"
    wards = (data / "demo" / "wards.geojson").read_bytes()
    uploads = (
        ("data_signals_file", "data_import", ("meldingen.csv", signals, "text/csv")),
        ("data_outcomes_file", "data_outcomes_import",
         ("misdrijven.csv", b"area;period;count\nVogelwijk;2026-10;4\n", "text/csv")),
        ("data_wards_file", "data_wards_load", ("wijken.geojson", wards, "application/geo+json")),
    )
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("app_pages/data.py").run()
    for uploader, button, upload in uploads:
        at.file_uploader(key=uploader).set_value(upload)
        at.run()
        at.button(key=button).click().run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        assert len(at.success) == 1 and list(scratch.iterdir()) == [], uploader


def test_a_file_of_one_kind_of_signal_imports_with_the_category_field(demo_template, tmp_path, monkeypatch):
    """A file without a category column is refused with a message naming the page's field for it;
    with that field set, its rows are imported."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(demo_template, data)
    monkeypatch.setenv("WAS_DATA_DIR", str(data))
    monkeypatch.delenv("WAS_DATABASE_URL", raising=False)
    before = open_store(f"sqlite:///{data / 'was.db'}").incident_count()
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("app_pages/data.py").run()
    at.file_uploader(key="data_signals_file").set_value(
        ("geweld.csv", b"datum;tijd;lat;lon\n20-11-2026;22:30;52.55;5.23\n", "text/csv"))
    at.run()
    at.button(key="data_import").click().run()
    assert not at.exception
    assert any("Categorie van rijen zonder bekende categorie" in e.value for e in at.error), [e.value for e in at.error]
    at.selectbox(key="data_default_category").set_value("violence").run()
    at.button(key="data_import").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert open_store(f"sqlite:///{data / 'was.db'}").incident_count() == before + 1


def test_demo_button_refuses_beside_real_wards(store, data_dir, two_wards):
    """The Gegevens page's demo button on a store with real wards shows the refusal naming the
    switch and stores nothing; the dashboard and the CLI share the rule."""
    from planner.signals.wards import store_wards

    store_wards(store, two_wards)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("app_pages/data.py").run()
    at.button(key="data_demo_build").click().run()
    assert not at.exception
    assert any("--force" in e.value and "2 wards" in e.value for e in at.error), [e.value for e in at.error]
    assert sorted(store.wards()["name"]) == ["Oost", "West"] and store.incident_count() == 0


# -- issue 14 §1: every page as every role, and sign-in through the identity provider ----------------
ROLE_ACCOUNTS = {"resident": "bewoner1", "officer": "agent1", "municipality": "gemeente1", "admin": "beheer1"}


def _rendered(node) -> list[str]:
    """The text of everything a page sent: tables as CSV, maps as their JSON, other elements as protobuf text."""
    from streamlit.testing.v1.element_tree import Block, Dataframe

    if isinstance(node, Block):
        return [text for child in node.children.values() for text in _rendered(child)]
    if isinstance(node, Dataframe):
        return [node.value.astype(str).to_csv()]
    proto = getattr(node, "proto", None)
    return [getattr(proto, "json", None) or str(proto)] if proto is not None else []


@pytest.mark.parametrize("role", list(ROLE_ACCOUNTS))
def test_every_page_as_every_role_keeps_points_from_residents(shared_install, role, find_leaks):
    """Signed in as each role, every page it may open runs; a resident's pages never carry a
    signal's location, description, source or reporter, nor a category count below k, while
    an officer's hotspot map does carry points (so the check can see them)."""
    import re

    from planner import settings
    from planner.signals.incidents import SOURCES

    store = open_store(f"sqlite:///{shared_install / 'was.db'}")
    signals = store.incidents(include_personal=True)
    at = sign_in(ROLE_ACCOUNTS[role])
    pages = {"tonight", "patrol_round", "hotspot_map", "coverage", "report", "data", "about"}
    opened, texts, categories = set(), [], []
    for page in sorted(pages):
        try:
            at.switch_page(f"app_pages/{page}.py").run()
        except ValueError:  # not in this role's navigation
            continue
        assert not at.exception, (page, [e.value for e in at.exception])
        opened.add(page)
        if page == "hotspot_map":
            categories = list(at.dataframe[0].value["Categorieën"])
        texts += [f"--- {page}", *_rendered(at.main), *_rendered(at.sidebar)]
    text = "\n".join(texts)
    leaks = find_leaks(text, signals)
    expected = {"resident": {"about", "hotspot_map", "patrol_round", "report", "tonight"},
                "municipality": {"about", "coverage", "hotspot_map", "report"}}.get(role, pages)
    assert opened == expected
    if role != "resident":
        assert role not in ("officer", "admin") or any(leak.startswith("place") for leak in leaks), \
            "the officer's map should carry points"
        return
    assert not leaks, leaks[:3]
    assert not [code for code in SOURCES if f'"{code}"' in text or f",{code}," in text]
    counts = [int(n) for cell in categories for n in re.findall(r"\((\d+)\)", cell)]
    assert counts and min(counts) >= settings.PUBLIC_MIN_SIGNALS


def test_identity_provider_sign_in_takes_the_role_from_the_claim(shared_install, monkeypatch):
    """With WAS_OIDC_ROLE_CLAIM set the page asks for the municipality's sign-in instead of the own
    accounts; a signed-in user gets the role its claim maps to, one without a mapped value none."""
    monkeypatch.setenv("WAS_OIDC_ROLE_CLAIM", "groups")
    monkeypatch.setenv("WAS_OIDC_ROLES", "wijkagenten=officer,was-leden=resident")
    at = AppTest.from_file(APP, default_timeout=120)
    at.user = {"is_logged_in": False}
    at.run()
    assert at.button(key="login_oidc") is not None
    with pytest.raises(KeyError):
        at.text_input(key="login_name")
    at.user = {"is_logged_in": True, "email": "j.devries@gemeente.nl", "groups": ["was-leden", "wijkagenten"]}
    at.run()
    assert not at.exception
    assert at.session_state["user"].role == "officer" and at.session_state["user"].via == "dashboard (oidc)"
    at.switch_page("app_pages/hotspot_map.py").run()
    assert "signals" in deck_layers(at)
    stranger = AppTest.from_file(APP, default_timeout=120)
    stranger.user = {"is_logged_in": True, "email": "x@elders.nl", "groups": ["sport"]}
    stranger.run()
    assert any("no WAS role in the claim 'groups'" in e.value for e in stranger.error)
    assert not stranger.get("deck_gl_json_chart")


def test_the_pages_cache_key_follows_a_redrawn_ward(tmp_path, monkeypatch, two_wards):
    """Maps, plans and the card are cached per data version: redrawing a ward keeps the counts of
    signals and wards, but must still give the pages a new version."""
    monkeypatch.syspath_prepend(str(Path(APP).parent))
    from app_pages import cached

    monkeypatch.setenv("WAS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("WAS_DATABASE_URL", raising=False)
    store = open_store(settings.database_url())
    store.save_wards(two_wards)
    before = cached.data_version()
    store.save_wards(two_wards.assign(geometry=two_wards.translate(xoff=50.0)))
    assert cached.data_version() != before
    store.engine.dispose()
