"""The project's pipelines, one folder each; pipeline_registry.py finds them."""
