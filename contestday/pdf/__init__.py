"""PDF kernel: the CJK fonts every printed document uses."""
