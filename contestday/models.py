"""Imports every context's tables so SQLModel.metadata (and Alembic) sees the whole schema."""

from certificates import store as certificates_store
from contestday.accounts import models as accounts_models
from contestday.db import jobs as background_jobs
from contestday.db import server_settings
from judging import handin as judging_handin
from judging import models as judging_models
from judging import paper as judging_paper
from registration.checkin import models as checkin_models
from registration.entries import models as entries_models
from registration.events import models as events_models
from results import appeals as results_appeals
from results import live as results_live
from results import publication as results_publication
from results import recheck as results_recheck
from results import theory as results_theory

__all__ = [
    "accounts_models", "background_jobs", "certificates_store", "checkin_models", "entries_models", "events_models",
    "judging_handin", "judging_models",
    "judging_paper", "results_appeals", "results_live", "results_publication",
    "results_recheck", "results_theory", "server_settings",
]
