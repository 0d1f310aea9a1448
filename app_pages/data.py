"""Gegevens / Data: import signals and wards through the same code as the CLI, build demo data."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import streamlit as st

from app_pages import cached, ui
from app_pages.ui import _, ngettext
from planner import settings
from planner.output import csv_bytes
from planner.signals.incidents import CATEGORIES, ParseOptions, parse_mapping
from planner.signals.intake import import_file
from planner.signals.wards import read_wards, store_wards

st.header(_("Data"))


@contextmanager
def _saved(upload) -> Iterator[Path]:
    """Uploaded bytes as a file with the original suffix (the readers go by suffix), deleted with
    its folder when the block ends: an upload may hold names, and the store keeps what it needs."""
    with tempfile.TemporaryDirectory(prefix="was-upload-") as folder:
        path = Path(folder) / Path(upload.name).name
        path.write_bytes(upload.getvalue())
        yield path


signals_tab, outcomes_tab, wards_tab, demo_tab = st.tabs(
    [_("Import signals"), _("Registered crime"),
     _("Wards"), "Demo"]
)

with signals_tab, ui.guarded():
    st.write(
        _("CSV (`,`, `;`, tab or `|`), GeoJSON or GeoPackage. Columns such as `date,time,category,lat,lon`; the README "
          "lists every name.")
    )
    upload = st.file_uploader(
        _("File"), type=["csv", "txt", "geojson", "json", "gpkg"], key="data_signals_file"
    )
    mapping = st.text_input(
        _(ui.OPTION_FIELDS["mapping"]),
        key="data_mapping", placeholder="cdatetime=occurred_at,latitude=lat,longitude=lon",
    )
    date_format = st.text_input(
        _(ui.OPTION_FIELDS["date_format"]), key="data_date_format",
        placeholder="%m/%d/%y %H:%M",
    )
    default_category = st.selectbox(
        _(ui.OPTION_FIELDS["default_category"]), [None, *CATEGORIES], key="data_default_category",
        format_func=lambda code: _("None: such rows are rejected") if code is None else ui.category_label(code),
    )
    if st.button(_("Import"), key="data_import", type="primary", disabled=upload is None):
        options = ParseOptions(mapping=parse_mapping(mapping), date_format=date_format or None,
                               default_category=default_category)
        with st.spinner(_("Importing…")), _saved(upload) as path:
            report = import_file(
                cached.current_store(), path, options=options, rejects_dir=settings.data_dir() / "rejects",
            )
        st.success(
            _("Read {read} rows: {imported} new, {duplicates} already known, {rejected} rejected.").format(
                read=report.read, imported=report.imported, duplicates=report.duplicates, rejected=report.rejected)
        )
        for warning in report.warnings:
            st.warning(ui.said(warning))
        if report.rejected:
            rejects = cached.current_store().rejected(report.batch_id)
            st.dataframe(rejects[["row_number", "reason"]], hide_index=True, key="data_rejects_table")
            st.download_button(
                _("Rejected rows (CSV)"),
                csv_bytes(rejects),
                file_name=f"{Path(upload.name).stem}-afgewezen.csv", mime="text/csv", key="data_rejects_download",
            )

with outcomes_tab, ui.guarded():
    st.write(
        _("Police figures per ward and period for the effect review: the police open-data CSV (47022NED "
          "monthly, 47018NED yearly), police.uk, or a table `area,period,count`. Load the wards first: "
          "counts are linked to them by CBS code or name.")
    )
    counts_file = st.file_uploader(_("File"), type=["csv", "txt"], key="data_outcomes_file")
    counts_format = st.selectbox(_("Format"), ["auto", "politie", "police-uk", "long"],
                                 key="data_outcomes_format")
    if st.button(_("Import"), key="data_outcomes_import", type="primary",
                 disabled=counts_file is None):
        from planner.signals.outcomes import import_outcomes

        with st.spinner(_("Importing…")), _saved(counts_file) as path:
            counted = import_outcomes(cached.current_store(), path,
                                      format=None if counts_format == "auto" else counts_format,
                                      rejects_dir=settings.data_dir() / "rejects")
        st.success(
            _("Read {read} rows: {imported} new counts, {updated} updated, {duplicates} already known, "
              "{rejected} rejected; {matched_wards} wards linked.").format(
                read=counted.read, imported=counted.imported, updated=counted.updated,
                duplicates=counted.duplicates, rejected=counted.rejected, matched_wards=counted.matched_wards)
        )
        for warning in counted.warnings:
            st.warning(ui.said(warning))
        if counted.rejected:
            st.dataframe(pd.DataFrame(counted.reasons, columns=["row_number", "reason"]), hide_index=True,
                         key="data_outcomes_rejects")

with wards_tab, ui.guarded():
    summary = cached.ward_summary(cached.database_url(), cached.data_version())
    if summary:
        st.dataframe(
            pd.DataFrame(summary).rename(columns={"name": _("Ward"), "code": "Code", "incidents": _("Signals")}),
            hide_index=True, key="data_wards_table",
        )
    else:
        st.info(_("No wards yet. Build demo data or load wards on the Data page."))
    ward_file = st.file_uploader(
        _("Ward boundaries (GeoJSON/GeoPackage, CBS columns WK_NAAM/WK_CODE)"),
        type=["geojson", "json", "gpkg"], key="data_wards_file",
    )
    if st.button(_("Load wards"), key="data_wards_load", disabled=ward_file is None):
        with st.spinner(_("Loading wards and assigning signals…")):
            with _saved(ward_file) as path:
                wards = read_wards(path)
            assigned = store_wards(cached.current_store(), wards)
        st.success(ngettext("Stored {wards} ward; {assigned} signals lie in it.",
                            "Stored {wards} wards; {assigned} signals lie in a ward.", len(wards)).format(
            wards=len(wards), assigned=assigned))

with demo_tab, ui.guarded():
    st.write(_("Demo data: Demostad and all its signals are synthetic (made up), not real incidents."))
    seed = st.number_input("Seed", min_value=0, max_value=10_000, value=0, step=1, key="data_demo_seed")
    force = st.checkbox(_(ui.OPTION_FIELDS["force"]),
                        key="data_demo_force")
    if st.button(_("Build demo data"), key="data_demo_build"):
        from planner.demo import build_demo

        with st.spinner(_("Building Demostad…")):
            summary = build_demo(cached.current_store(), settings.data_dir(), seed=int(seed), force=force)
        st.success(summary.summary())
