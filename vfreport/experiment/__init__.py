"""The experiment directory: layout, atomic writes, the history, status and manifest schemas, importing histories."""
