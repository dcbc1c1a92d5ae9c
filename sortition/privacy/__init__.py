"""Pseudonyms: a record that can be published without exposing the volunteers (docs/privacy.md).

``keys`` reads and creates pseudonym keys (a file's raw bytes), ``pseudonyms`` turns ids into
keyed pseudonyms (HMAC-SHA256, shortened with a collision check), ``personal`` is the documented
rule for ids that look personal (e-mail addresses, phone numbers, names).
"""
