"""Hyper-parameter sweeps of the training parameters with Optuna.

A trial trains the sweep's ``training`` parameters with ``sweep.trial_overrides``
and the values Optuna samples at the search space's paths (``search_space``),
through :func:`training_run.fit_segmenter` (``trials``); its value is the best
validation mDice of its epochs, and Optuna's Lightning callback prunes it after
an epoch that looks hopeless. The study lives in an Optuna storage (``storage``:
an SQLite file by default, or a database that several workers share), so a sweep
can be continued and scaled out by running the same command again, elsewhere.
``summary`` describes its trials, ``best_hypothesis`` writes the best one as an
environment. Never imports kedro; tracking comes in as Lightning callbacks and a
trial runner that the caller hands over.
"""
