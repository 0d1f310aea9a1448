"""Patrol routes: the orienteering solver (``orienteering``), targets from hotspots and hot streets
(``targets``), planning a ward's round over its street graph (``routes``), and the files a team
takes along: GPX, GeoJSON, the printed briefing (``export``). Domain layer: above hotspots,
streets and signals."""
