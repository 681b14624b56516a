"""Ways in besides ``kedro run``: the ``python -m`` commands (fetch_data, synthetic, export),
the notebook API (inference) and the scratch project copy that tests and benchmarks use."""
