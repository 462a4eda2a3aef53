"""The experiment directory: layout, atomic writes, the history schema, importing histories."""
