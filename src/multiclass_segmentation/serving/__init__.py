"""The HTTP service (FastAPI) that labels uploaded images with a trained model; never imports
Kedro. ``python -m multiclass_segmentation.commands.serve`` (``make serve``) starts it."""
