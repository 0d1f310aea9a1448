"""WAS Planner core: incidents, wards, streets, hotspots, routes and coverage for Wijk en Agent
Samen teams. Never imports streamlit; the dashboard and the CLI are thin layers over it."""

from . import incidents as incidents
from . import settings as settings
from . import store as store
from . import wards as wards

__version__ = "0.1.0"
