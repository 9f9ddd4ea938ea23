"""RGPD: the registry of personal data, retention and purge, subject access.

See ``docs/privacy.md``.
"""
