"""Tests for planner/review/agreements.py: recording, updating and listing follow-up agreements."""

from __future__ import annotations

from datetime import date

import pytest

from planner._errors import DataNotFoundError, InputError
from planner.review.agreements import Place, add_agreement, list_agreements, overdue_per_ward, update_agreement
from planner.signals.wards import store_wards

TODAY = date(2026, 11, 25)


def test_agreements_round_trip_and_overdue_ones_are_listed_per_ward(store, two_wards):
    """Agreements come back by due date; not-done ones past their date are overdue, per ward."""
    store_wards(store, two_wards)
    late = add_agreement(store, ward="West", what="Lantaarnpaal repareren", role="gemeente", due=date(2026, 11, 1),
                         place=Place(52.06, 4.49, "hotspot 1"))
    add_agreement(store, ward="West", what="Buurtbrief", role="wijkagent", due=date(2026, 10, 1), status="done")
    add_agreement(store, ward="Oost", what="Hek dicht", role="woningcorporatie", due=date(2026, 12, 1))
    assert [a.what for a in list_agreements(store)] == ["Buurtbrief", "Lantaarnpaal repareren", "Hek dicht"]
    assert [a.id for a in list_agreements(store, overdue_on=TODAY)] == [late.id]
    assert overdue_per_ward(store, today=TODAY) == {"Oost": 0, "West": 1}
    assert late.to_json()["location"] == [4.49, 52.06] and late.is_overdue(TODAY)
    done = update_agreement(store, late.id, status="done")
    assert done.status == "done" and not done.is_overdue(TODAY)
    assert overdue_per_ward(store, today=TODAY)["West"] == 0
    assert [a.ward for a in list_agreements(store, ward="Oost", status="open")] == ["Oost"]


def test_bad_agreements_are_refused(store, two_wards):
    """Unknown wards and ids, empty texts, unknown statuses and half a location are refused."""
    store_wards(store, two_wards)
    with pytest.raises(DataNotFoundError, match="Noord"):
        add_agreement(store, ward="Noord", what="x", role="gemeente", due=TODAY)
    with pytest.raises(InputError, match="what"):
        add_agreement(store, ward="West", what="  ", role="gemeente", due=TODAY)
    with pytest.raises(InputError, match="status"):
        add_agreement(store, ward="West", what="x", role="gemeente", due=TODAY, status="klaar")
    with pytest.raises(InputError, match="lat and lon"):
        add_agreement(store, ward="West", what="x", role="gemeente", due=TODAY, place=Place(52.0, None))
    with pytest.raises(DataNotFoundError, match="signal"):
        add_agreement(store, ward="West", what="x", role="gemeente", due=TODAY, incident_id=999)
    with pytest.raises(DataNotFoundError, match="agreement"):
        update_agreement(store, 42, status="done")
