"""Every route handler of the kiosk package, for the composition root to register in one line."""

from __future__ import annotations

from kiosk.admin import CheckinAdminPages, SeatListPages
from kiosk.board import BOARD_ROUTES
from kiosk.pages import KioskPages, SealedPages

__all__ = ["KIOSK_ROUTES"]

KIOSK_ROUTES = (CheckinAdminPages, SeatListPages, KioskPages, SealedPages, *BOARD_ROUTES)
