"""kiosk: the check-in kiosk and the big-screen boards (full-screen pages for unattended devices)."""
