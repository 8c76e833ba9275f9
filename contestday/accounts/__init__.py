"""Accounts: organiser and staff users, roles, login sessions, guards."""
