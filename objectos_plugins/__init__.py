"""Example plugins shipped with ObjectOS (each module has `register(kernel)`)."""
