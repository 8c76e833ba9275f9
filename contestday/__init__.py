"""contestday."""
