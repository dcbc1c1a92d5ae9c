"""The fairness audit: every volunteer's selection probability under several algorithms, metrics
and a report.
"""
