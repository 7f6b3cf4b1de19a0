"""The bridge's live dashboard (`GET /`): server-rendered page, static JS refresh, two read APIs.

The blueprint is `views.bp` (registered by alert_bridge.web.app.create_app with the others); its
routes document themselves (alert_bridge.web.contract).
"""
