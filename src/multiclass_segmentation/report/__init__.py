"""Markdown reports rendered from the JSON they summarise, one Jinja2 template per report.

``templates/`` holds the layout; the modules here compute what the templates show
(numbers, and the sentences whose wording depends on the data) and render them
through :mod:`.render`. Never imports kedro, torch or optuna.
"""
