"""Date formats for the admin (`FORMAT_MODULE_PATH`): every timestamp with seconds
and its timezone, so records made within one minute can be told apart and read
the same anywhere."""
