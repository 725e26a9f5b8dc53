"""Real plugin modules loaded by the kernel tests through OS_PLUGINS and entry points."""
