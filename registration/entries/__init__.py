"""Contestant registration: entries (one per person, or per team), members, review flags, tickets."""
