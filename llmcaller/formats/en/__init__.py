"""English formats: see `llmcaller.formats`."""
