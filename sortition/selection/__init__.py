"""Stage 2 as a service: check the quotas, select, commit and draw; the distribution document and
the transparent M-panel lottery.
"""
