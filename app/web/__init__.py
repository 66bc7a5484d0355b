"""The web layer: pages, the JSON API, forms and what templates need. Calls domain services only."""
