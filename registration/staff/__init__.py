"""An event's staff: accounts and their roles per event and per item, sign-in links, the role hub (/start)."""
