"""WAS Planner core: signals, wards, streets, hotspots, routes and coverage for Wijk en Agent
Samen teams. Never imports streamlit; the dashboard and the CLI are thin layers over it. The
packages are layered (see the README's Layout section and the import-linter contract)."""

__version__ = "0.1.0"
