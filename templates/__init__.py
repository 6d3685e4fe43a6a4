"""The Jinja templates of the backend, shipped inside the jobc package."""
