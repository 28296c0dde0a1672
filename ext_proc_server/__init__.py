"""mockado data path: capture (ext_proc), sanitize, dedup, mapping, queue and loader."""
