"""Numbers about the dataset and the results with numpy alone: never imports torch or kedro."""
