"""The page for organisers (``sortition serve``, docs/web.md): projects, uploads, the quota table
and feasibility, draws in the background with progress and cancel, downloads, and verification,
in English and Hebrew. A thin layer over the public API (``import sortition``): it parses the
request, calls the library and renders; no selection logic lives here.

``sortition.web.app.create_app`` builds the app; the command line runs it with uvicorn.
"""
