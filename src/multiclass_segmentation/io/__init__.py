"""Files in and out: atomic writes, image decoding, version folders (Kedro-free), and the
Kedro datasets of conf/*/catalog.yml and the loading of an environment's parameters."""
