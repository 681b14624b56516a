"""Markdown reports rendered from the JSON they summarise, one Jinja2 template per report.

``templates/`` holds the layout; the modules here compute what the templates show
(numbers, and the sentences whose wording depends on the data) and render them
through :mod:`.render`. The figures of the reports are here too (``eda_figures``,
``evaluation_figures``, ``plotting``); ``evaluation_figures`` predicts with a
:class:`~multiclass_segmentation.core.segmenter.Segmenter`. Never imports kedro or optuna.
"""
