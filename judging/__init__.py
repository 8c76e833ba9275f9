"""judging: judges, panels, tablet scoring over websockets, the chief judge's console, the audit log."""
