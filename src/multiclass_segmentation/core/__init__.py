"""The model and its training, evaluation and sweeps with torch, Lightning and Optuna.

Never imports kedro: the pipelines' nodes call in here with validated parameters.
"""
