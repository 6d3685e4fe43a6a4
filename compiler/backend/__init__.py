"""The backend: IR -> one bash script, through the Jinja templates in `templates/`."""
