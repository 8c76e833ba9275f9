"""The web kernel: refusals and their HTTP mapping, sessions, bodies, downloads, i18n, uploads, channels."""
