"""The staff dashboard: a WSGI application (Flask) served by waitress, with bundled CSS/JS."""
