"""mockado data path: capture (ext_proc), sanitize, dedup, mapping, queue and loader."""

__version__ = "0.1.0"
